/* sysfuzz: makes every riscv64 system call number 0..460 with pseudo-random arguments
 * (small integers, -1, addresses that are unmapped, lie just past the end of the address space
 * or wrap around, random 64-bit values), to check that the emulator survives garbage from a
 * guest: every call must simply return. Calls that would end, block, signal or reconfigure
 * the process, or change files through descriptors it inherited, are skipped (list below).
 * Prints the number of calls made and exits 0. Freestanding (no libc). */
typedef unsigned long u64;

static long sc(long n, long a, long b, long c, long d, long e, long f)
{
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a3 __asm__("a3") = d;
    register long a4 __asm__("a4") = e;
    register long a5 __asm__("a5") = f;
    register long a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7) : "memory");
    return a0;
}

static const short skipped[] = {
    22, 24, 46, 47, 45, 51, 52, 53, 54, 55, 57, 58, 72, 73, 75, 76, 77, 81, 88, 91, 93, 94, 97, 103,
    107, 110, 112, 117, 118, 119, 122, 129, 130, 131, 133, 134, 138, 139, 140, 142, 143, 144, 145,
    146, 147, 149, 151, 152, 159, 161, 162, 167, 170, 171, 202, 203, 206, 207, 211, 212, 214, 215,
    216, 220, 221, 222, 226, 233, 240, 242, 267, 268, 277, 281, 424, 435, 436, 441,
};

static u64 rng = 0x2545f4914f6cdd1dUL;
static u64 next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static long arg(void)
{
    u64 r = next();
    switch (r % 6) {
    case 0: return (long)(r >> 8) % 17;                       /* small integer, also a fd */
    case 1: return -1;
    case 2: return (long)(0xdead0000UL + ((r >> 8) & 0xfff) * 8); /* unmapped */
    case 3: return (long)((1UL << 38) + ((r >> 8) & 15));       /* just past the end */
    case 4: return (long)(~0UL - ((r >> 8) & 0xff));            /* wraps around */
    default: return (long)(next() | 0x1000000000000UL);         /* random, above any mapping */
    }
}

static char out[64];

void _start_c(void) __attribute__((noreturn, used));
void _start_c(void)
{
    long calls = 0;
    for (long nr = 0; nr <= 460; nr++) {
        int skip = 0;
        for (unsigned i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
            if (skipped[i] == nr)
                skip = 1;
        if (skip)
            continue;
        for (int round = 0; round < 8; round++) {
            long a = arg(), b = arg(), c = arg(), d = arg(), e = arg(), f = arg();
            sc(nr, a, b, c, d, e, f);
            calls++;
        }
    }
    int n = 0;
    const char *msg = "done, calls: ";
    while (msg[n]) {
        out[n] = msg[n];
        n++;
    }
    char digits[20];
    int k = 0;
    do {
        digits[k++] = '0' + calls % 10;
        calls /= 10;
    } while (calls);
    while (k)
        out[n++] = digits[--k];
    out[n++] = '\n';
    sc(64, 1, (long)out, n, 0, 0, 0);
    sc(94, 0, 0, 0, 0, 0, 0);
    for (;;)
        ;
}

__asm__(".globl _start\n_start:\n\t.option push\n\t.option norelax\n\tla gp, __global_pointer$\n\t.option pop\n"
        "\tandi sp, sp, -16\n\tcall _start_c\n");
