/* smc: self-modifying code. The program rewrites instructions of its own text segment (linked
 * with -N, so text is writable) and runs them after each write, with fence.i in between, as
 * the RISC-V spec requires (Zifencei). Cases:
 *   1. the immediate of an `addi` in a leaf function, patched 100 times, each version called
 *      once;
 *   2. a function on its own page, called from a loop on another page more than the tier-up
 *      threshold (so it is hot, JIT-compiled in auto mode, and the caller's block is chained
 *      to it), then patched, 20 times;
 *   3. a loop that patches an instruction of its own block on every iteration (the block that
 *      is running: a store into it, then fence.i, then the next iteration runs the new code);
 *   4. a straight-line block that patches the instruction just past its fence.i;
 *   5. a compressed instruction (c.li) patched with a halfword store;
 *   6. a 4-byte instruction straddling a page boundary, patched through its second half;
 *   7. a hot loop (thousands of iterations in one call) whose loop body is patched between
 *      calls.
 * Prints one line per check and "failures: 0" at the end; exits 1 when a check fails.
 * Freestanding (no libc): its own _start and system calls. */
typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;
typedef unsigned short u16;

/* ---- the patched code (all uncompressed unless said otherwise) ---- */
__asm__(
    ".text\n"
    ".option push\n"
    ".option norvc\n"

    /* 1: leaf(a0) = a0 + imm */
    ".globl leaf\n"
    ".balign 4\n"
    "leaf:\n"
    "    addi a0, a0, 0\n"
    "    ret\n"

    /* 4: straight(word): writes word over `addi a0, a0, 1` below, fence.i, runs it */
    ".globl straight\n"
    ".balign 4\n"
    "straight:\n"
    "    auipc t0, 0\n"
    "    sw a0, 16(t0)\n"
    "    fence.i\n"
    "    li a0, 0\n"
    "    addi a0, a0, 1\n" /* straight + 16 */
    "    ret\n"

    /* 3: selfloop(n, first_word) = sum over iterations j = 1..n of j: the `addi a1, a1, 1` at
     * 1: is rewritten by its own block to `addi a1, a1, j + 1` on iteration j */
    ".globl selfloop\n"
    ".balign 4\n"
    "selfloop:\n"
    "    la t0, 1f\n"
    "    sw a1, 0(t0)\n"      /* reset to the first version */
    "    fence.i\n"
    "    li a1, 0\n"          /* sum */
    "    li t4, 1\n"          /* j */
    "    li t2, 0x00058593\n" /* addi a1, a1, 0 */
    "1:  addi a1, a1, 1\n"
    "    addi t4, t4, 1\n"
    "    slli t1, t4, 20\n"
    "    or t1, t1, t2\n"
    "    sw t1, 0(t0)\n"
    "    fence.i\n"
    "    addi a0, a0, -1\n"
    "    bnez a0, 1b\n"
    "    mv a0, a1\n"
    "    ret\n"

    /* 7: hotloop(n) = sum of n times imm, one loop body */
    ".globl hotloop\n"
    ".balign 4\n"
    "hotloop:\n"
    "    li a1, 0\n"
    "2:  addi a1, a1, 3\n"
    "    addi a0, a0, -1\n"
    "    bnez a0, 2b\n"
    "    mv a0, a1\n"
    "    ret\n"

    /* 5: cfn() = c.li immediate */
    ".option rvc\n"
    ".globl cfn\n"
    ".balign 4\n"
    "cfn:\n"
    "    c.li a0, 5\n"
    "    c.jr ra\n"
    ".option norvc\n"

    /* 2: caller(n) = sum of n calls to hot(); hot is alone on the next page */
    ".globl caller\n"
    ".balign 4\n"
    "caller:\n"
    "    addi sp, sp, -32\n"
    "    sd ra, 0(sp)\n"
    "    sd s0, 8(sp)\n"
    "    sd s1, 16(sp)\n"
    "    mv s0, a0\n"
    "    li s1, 0\n"
    "3:  call hot\n"
    "    add s1, s1, a0\n"
    "    addi s0, s0, -1\n"
    "    bnez s0, 3b\n"
    "    mv a0, s1\n"
    "    ld ra, 0(sp)\n"
    "    ld s0, 8(sp)\n"
    "    ld s1, 16(sp)\n"
    "    addi sp, sp, 32\n"
    "    ret\n"

    ".balign 4096\n"
    ".globl hot\n"
    "hot:\n"
    "    li a0, 7\n"
    "    ret\n"

    /* 6: straddle() = immediate of an addi whose upper half is on the next page */
    ".balign 4096\n"
    "    .skip 4094\n"
    ".globl straddle\n"
    "straddle:\n"
    "    addi a0, zero, 11\n"
    "    ret\n"
    ".balign 4096\n"
    ".option pop\n");

i64 leaf(i64);
i64 straight(u32 word);
i64 selfloop(i64 n, u32 first_word);
i64 hotloop(i64 n);
i64 cfn(void);
i64 caller(i64 n);
i64 hot(void);
i64 straddle(void);

/* ---- system calls and output ---- */
static i64 syscall3(i64 n, i64 a, i64 b, i64 c)
{
    register i64 a0 __asm__("a0") = a;
    register i64 a1 __asm__("a1") = b;
    register i64 a2 __asm__("a2") = c;
    register i64 a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

static void out(const char *s)
{
    i64 n = 0;
    while (s[n])
        n++;
    syscall3(64, 1, (i64)s, n);
}

static void out_num(i64 v)
{
    char buf[24];
    int i = 23;
    int neg = v < 0;
    u64 u = neg ? -(u64)v : (u64)v;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (neg)
        buf[--i] = '-';
    out(buf + i);
}

static int failures;

static void check(const char *what, i64 arg, i64 got, i64 want)
{
    out(got == want ? "ok   " : "FAIL ");
    out(what);
    out("(");
    out_num(arg);
    out(") = ");
    out_num(got);
    if (got != want) {
        out(", want ");
        out_num(want);
        failures++;
    }
    out("\n");
}

static inline void fence_i(void)
{
    __asm__ volatile("fence.i" ::: "memory");
}

/* I-type `addi rd, rs1, imm` */
static u32 addi(u32 rd, u32 rs1, i64 imm)
{
    return ((u32)(imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13;
}

static void patch32(void *at, u32 word)
{
    *(volatile u32 *)at = word;
    fence_i();
}

static void patch16(void *at, u16 half)
{
    *(volatile u16 *)at = half;
    fence_i();
}

static void run(void)
{
    /* 1 */
    i64 sum = 0;
    for (i64 k = -50; k < 50; k++) {
        patch32((void *)leaf, addi(10, 10, k * 37));
        i64 r = leaf(1000);
        if (r != 1000 + k * 37)
            check("leaf", k, r, 1000 + k * 37);
        sum += r;
    }
    check("leaf patched 100 times, sum", 100, sum, 100 * 1000 + 37 * -50);

    /* 2 */
    check("caller before any patch", 1000, caller(1000), 1000 * 7);
    for (i64 k = 1; k <= 20; k++) {
        patch32((void *)hot, addi(10, 0, k * 100 - 1000));
        check("caller after patching hot", k, caller(1000), 1000 * (k * 100 - 1000));
    }

    /* 3 */
    for (i64 n = 1; n <= 300; n += 299)
        check("selfloop", n, selfloop(n, addi(11, 11, 1)), n * (n + 1) / 2);
    check("selfloop again", 100, selfloop(100, addi(11, 11, 1)), 5050);

    /* 4 */
    for (i64 k = 0; k < 60; k += 7)
        check("straight", k, straight(addi(10, 10, k)), k);

    /* 5: c.li a0, imm (imm in -32..31) */
    check("cfn before any patch", 0, cfn(), 5);
    for (i64 k = -32; k < 32; k += 9) {
        for (int i = 0; i < 60; i++)
            cfn();
        u16 w = (u16)(0x4501 | ((k & 0x20) << 7) | ((k & 0x1f) << 2));
        patch16((void *)cfn, w);
        check("cfn", k, cfn(), k);
    }

    /* 6 */
    i64 s6 = 0;
    for (int i = 0; i < 100; i++)
        s6 += straddle();
    check("straddle before any patch", 100, s6, 1100);
    for (i64 k = 1; k <= 5; k++) {
        /* the immediate is in the upper half: bits 31..20 of the word = bits 15..4 of it */
        patch16((char *)straddle + 2, (u16)((k * 123) << 4));
        s6 = 0;
        for (int i = 0; i < 100; i++)
            s6 += straddle();
        check("straddle", k, s6, 100 * k * 123);
    }

    /* 7 */
    check("hotloop before any patch", 5000, hotloop(5000), 15000);
    for (i64 k = -3; k <= 3; k++) {
        patch32((char *)hotloop + 4, addi(11, 11, k * 600));
        check("hotloop", k, hotloop(5000), 5000 * k * 600);
    }
}

void __attribute__((noreturn, used)) start_c(void)
{
    run();
    out("failures: ");
    out_num(failures);
    out("\n");
    syscall3(94, failures != 0, 0, 0);
    __builtin_unreachable();
}

__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "    .option push\n"
        "    .option norelax\n"
        "    la gp, __global_pointer$\n"
        "    .option pop\n"
        "    andi sp, sp, -16\n"
        "    call start_c\n");
