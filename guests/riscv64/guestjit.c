/* guestjit: a tiny JIT compiler inside the guest, the way real ones (V8, LuaJIT, the JVM)
 * produce code at run time. It writes RISC-V machine code into mmap'ed memory and calls it
 * through function pointers, with __builtin___clear_cache (the riscv_flush_icache system
 * call) and fence.i after each write. Cases:
 *   1. W^X: mmap RW, emit, mprotect RX, call; then the same buffer reused 200 times
 *      (mprotect RW, emit other code, mprotect RX), so a stale translation shows up as a
 *      wrong result;
 *   2. RWX: code rewritten in place with plain stores after it ran hot (called thousands of
 *      times, and a loop inside it running thousands of iterations);
 *   3. munmap, then mmap again at the same address (MAP_FIXED) with new code;
 *   4. two views of one memfd: code written through a RW view and run through a RX view at
 *      another address (only the cache flush tells the emulator about the write);
 *   5. code spanning two pages, the second page rewritten.
 * Prints one line per check and "failures: 0" at the end; exits 1 when a check fails. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int64_t (*fn2)(int64_t, int64_t);

static int failures;

static void check(const char *what, long arg, int64_t got, int64_t want)
{
    if (got == want) {
        printf("ok   %s(%ld) = %lld\n", what, arg, (long long)got);
    } else {
        printf("FAIL %s(%ld) = %lld, want %lld\n", what, arg, (long long)got, (long long)want);
        failures++;
    }
}

/* ---- the assembler ---- */

enum { ZERO = 0, RA = 1, T0 = 5, T1 = 6, A0 = 10, A1 = 11, A2 = 12 };

struct emitter {
    uint32_t *code;
    int n;
};

static void emit(struct emitter *e, uint32_t w)
{
    e->code[e->n++] = w;
}

static uint32_t i_type(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static uint32_t r_type(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static void addi(struct emitter *e, unsigned rd, unsigned rs1, int32_t imm)
{
    emit(e, i_type(imm, rs1, 0, rd, 0x13));
}

static void add(struct emitter *e, unsigned rd, unsigned rs1, unsigned rs2)
{
    emit(e, r_type(0, rs2, rs1, 0, rd, 0x33));
}

static void mul(struct emitter *e, unsigned rd, unsigned rs1, unsigned rs2)
{
    emit(e, r_type(1, rs2, rs1, 0, rd, 0x33));
}

static void ret(struct emitter *e)
{
    emit(e, i_type(0, RA, 0, ZERO, 0x67)); /* jalr zero, 0(ra) */
}

/* bne rs1, rs2, to (an earlier or later instruction index) */
static void bne(struct emitter *e, unsigned rs1, unsigned rs2, int to)
{
    int32_t off = (to - e->n) * 4;
    uint32_t u = (uint32_t)off;
    emit(e, ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | 1 << 12 |
                ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63);
}

/* f(a, b) = a + b * k (k in -2048..2047) */
static int gen_axpb(uint32_t *code, int32_t k)
{
    struct emitter e = { code, 0 };
    addi(&e, T0, ZERO, k);
    mul(&e, A1, A1, T0);
    add(&e, A0, A0, A1);
    ret(&e);
    return e.n;
}

/* f(n, seed): acc = seed; n times acc = acc * m + k; returns acc (n >= 1) */
static int gen_loop(uint32_t *code, int32_t m, int32_t k)
{
    struct emitter e = { code, 0 };
    addi(&e, T0, ZERO, m);
    int top = e.n;
    mul(&e, A1, A1, T0);
    addi(&e, A1, A1, k);
    addi(&e, A0, A0, -1);
    bne(&e, A0, ZERO, top);
    addi(&e, A0, A1, 0);
    ret(&e);
    return e.n;
}

static int64_t ref_axpb(int64_t a, int64_t b, int64_t k)
{
    return (int64_t)((uint64_t)a + (uint64_t)b * (uint64_t)k);
}

static int64_t ref_loop(int64_t n, int64_t seed, int64_t m, int64_t k)
{
    uint64_t acc = (uint64_t)seed;
    while (n-- > 0)
        acc = acc * (uint64_t)m + (uint64_t)k;
    return (int64_t)acc;
}

static void flush(void *p, size_t len)
{
    __builtin___clear_cache((char *)p, (char *)p + len);
    __asm__ volatile("fence.i" ::: "memory");
}

#define PAGE 4096

/* 1: W^X, one buffer reused */
static void test_wx(void)
{
    uint32_t *buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        check("wx mmap", 0, -1, 0);
        return;
    }
    int64_t sum = 0, want = 0;
    for (int round = 0; round < 200; round++) {
        int32_t k = round * 7 - 700;
        mprotect(buf, PAGE, PROT_READ | PROT_WRITE);
        if (round % 2 == 0)
            gen_axpb(buf, k);
        else
            gen_loop(buf, 3, k);
        mprotect(buf, PAGE, PROT_READ | PROT_EXEC);
        flush(buf, PAGE);
        fn2 f = (fn2)(void *)buf;
        /* run it hot before moving on */
        for (int i = 0; i < 60; i++) {
            int64_t r = round % 2 == 0 ? f(i, 1000 + round) : f(i % 5 + 1, round);
            int64_t w = round % 2 == 0 ? ref_axpb(i, 1000 + round, k) : ref_loop(i % 5 + 1, round, 3, k);
            if (r != w && failures < 10)
                check("wx round", round, r, w);
            sum += r;
            want += w;
        }
    }
    check("wx buffer reused 200 times, sum", 200, sum, want);
    munmap(buf, PAGE);
}

/* 2: RWX, rewritten in place after running hot */
static void test_rwx(void)
{
    uint32_t *buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        check("rwx mmap", 0, -1, 0);
        return;
    }
    fn2 f = (fn2)(void *)buf;
    fn2 g = (fn2)(void *)(buf + 64);
    for (int v = 0; v < 8; v++) {
        int32_t k = 100 * v - 350;
        gen_axpb(buf, k);
        gen_loop(buf + 64, 5 + v, k);
        flush(buf, PAGE);
        int64_t sum = 0;
        for (int i = 0; i < 3000; i++)
            sum += f(i, 3);
        check("rwx axpb version, sum of 3000 calls", v, sum, 3000LL * 2999 / 2 + 3000LL * 3 * k);
        check("rwx loop version, 20000 iterations", v, g(20000, v), ref_loop(20000, v, 5 + v, k));
        /* patch only the multiplier of the loop (one word), in place */
        buf[64] = i_type(-(v + 2), ZERO, 0, T0, 0x13);
        flush(buf + 64, 4);
        check("rwx loop multiplier patched", v, g(5000, 1), ref_loop(5000, 1, -(v + 2), k));
    }
    munmap(buf, PAGE);
}

/* 3: munmap and map again at the same address */
static void test_remap(void)
{
    void *want_at = NULL;
    int64_t sum = 0, want = 0;
    int same = 0;
    for (int round = 0; round < 50; round++) {
        uint32_t *buf = mmap(want_at, PAGE, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | (want_at ? MAP_FIXED : 0), -1, 0);
        if (buf == MAP_FAILED) {
            check("remap mmap", round, -1, 0);
            return;
        }
        same += buf == want_at;
        want_at = buf;
        gen_axpb(buf, round * 13 + 1);
        mprotect(buf, PAGE, PROT_READ | PROT_EXEC);
        flush(buf, PAGE);
        fn2 f = (fn2)(void *)buf;
        for (int i = 0; i < 80; i++) {
            sum += f(i, round);
            want += ref_axpb(i, round, round * 13 + 1);
        }
        munmap(buf, PAGE);
    }
    check("remap at the same address", 50, same, 49);
    check("remap 50 times, sum", 50, sum, want);
}

/* 4: one memfd, a RW view for writing and a RX view for running */
static void test_dual_view(void)
{
    int fd = memfd_create("guestjit", 0);
    if (fd < 0 || ftruncate(fd, PAGE) != 0) {
        check("memfd", 0, -1, 0);
        return;
    }
    uint32_t *rw = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    void *rx = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    close(fd);
    if (rw == MAP_FAILED || rx == MAP_FAILED) {
        check("memfd views", 0, -1, 0);
        return;
    }
    fn2 f = (fn2)rx;
    int64_t sum = 0, want = 0;
    for (int round = 0; round < 40; round++) {
        int32_t k = 1000 - round * 50;
        gen_axpb(rw, k);
        flush(rx, PAGE);
        for (int i = 0; i < 100; i++) {
            sum += f(i, 7);
            want += ref_axpb(i, 7, k);
        }
    }
    check("dual view, 40 versions, sum", 40, sum, want);
    munmap(rw, PAGE);
    munmap(rx, PAGE);
}

/* 5: a function across a page boundary, the second page rewritten */
static void test_straddle(void)
{
    char *buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) {
        check("straddle mmap", 0, -1, 0);
        return;
    }
    /* a loop function starting 8 bytes before the boundary: its loop body is on page 2 */
    uint32_t *code = (uint32_t *)(buf + PAGE - 8);
    for (int v = 0; v < 6; v++) {
        int32_t k = v * 11 + 1;
        if (v == 0) {
            gen_loop(code, 3, k);
        } else {
            uint32_t w = i_type(k, A1, 0, A1, 0x13); /* the addi a1, a1, k on page 2 */
            memcpy(buf + PAGE, &w, 4);
        }
        flush(buf, 2 * PAGE);
        fn2 f = (fn2)(void *)code;
        int64_t sum = 0, want = 0;
        for (int i = 0; i < 100; i++) {
            sum += f(i % 7 + 1, i);
            want += ref_loop(i % 7 + 1, i, 3, k);
        }
        check("straddle version, sum", v, sum, want);
    }
    munmap(buf, 2 * PAGE);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_wx();
    test_rwx();
    test_remap();
    test_dual_view();
    test_straddle();
    printf("failures: %d\n", failures);
    return failures != 0;
}
