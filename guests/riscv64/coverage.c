/* coverage: runs every RV64GC + Zba/Zbb/Zbs instruction class on a grid of interesting
 * operands (and every rounding mode for floating point) and prints one line per instruction:
 * its name and an FNV-1a hash of all results (and fflags, for FP). coverage.expected is its
 * output under qemu-riscv64; remu must print exactly the same.
 * Freestanding (no libc): its own _start, write and exit system calls. */
typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;

static long sys3(long n, long a, long b, long c)
{
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

static char out[8192];
static u64 outn;

static void flush(void)
{
    sys3(64, 1, (long)out, (long)outn);
    outn = 0;
}
static void putc_(char c)
{
    if (outn == sizeof out)
        flush();
    out[outn++] = c;
}
static void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}
static void puthex(u64 v)
{
    for (int i = 60; i >= 0; i -= 4)
        putc_("0123456789abcdef"[(v >> i) & 15]);
}

static u64 h;
static void hinit(void) { h = 0xcbf29ce484222325UL; }
static void hmix(u64 v)
{
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xff;
        h *= 0x100000001b3UL;
    }
}
static void report(const char *name)
{
    puts_(name);
    putc_(' ');
    puthex(h);
    putc_('\n');
}

static const u64 iv[] = {
    0, 1, 2, 3, -1UL, -2UL, 0x7fffffffffffffffUL, 0x8000000000000000UL, 0x7fffffffUL, 0x80000000UL,
    0xffffffffUL, 0xffffffff80000000UL, 0x123456789abcdef0UL, 0xfedcba9876543210UL, 31, 32, 63, 64,
    0x00ff00ff00ff0000UL, 0x8000000100000001UL,
};
#define NIV (sizeof iv / sizeof iv[0])

/* register-register integer ops */
#define RR(fn, mn)                                                              \
    static u64 fn(u64 a, u64 b)                                                 \
    {                                                                           \
        u64 r;                                                                  \
        __asm__ volatile(mn " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));          \
        return r;                                                               \
    }
#define R1(fn, mn)                                                              \
    static u64 fn(u64 a, u64 b)                                                 \
    {                                                                           \
        u64 r;                                                                  \
        (void)b;                                                                \
        __asm__ volatile(mn " %0, %1" : "=r"(r) : "r"(a));                      \
        return r;                                                               \
    }
#define RI(fn, mn, imm)                                                         \
    static u64 fn(u64 a, u64 b)                                                 \
    {                                                                           \
        u64 r;                                                                  \
        (void)b;                                                                \
        __asm__ volatile(mn " %0, %1, " #imm : "=r"(r) : "r"(a));               \
        return r;                                                               \
    }

RR(o_add, "add") RR(o_sub, "sub") RR(o_sll, "sll") RR(o_slt, "slt") RR(o_sltu, "sltu")
RR(o_xor, "xor") RR(o_srl, "srl") RR(o_sra, "sra") RR(o_or, "or") RR(o_and, "and")
RR(o_addw, "addw") RR(o_subw, "subw") RR(o_sllw, "sllw") RR(o_srlw, "srlw") RR(o_sraw, "sraw")
RR(o_mul, "mul") RR(o_mulh, "mulh") RR(o_mulhsu, "mulhsu") RR(o_mulhu, "mulhu")
RR(o_div, "div") RR(o_divu, "divu") RR(o_rem, "rem") RR(o_remu, "remu")
RR(o_mulw, "mulw") RR(o_divw, "divw") RR(o_divuw, "divuw") RR(o_remw, "remw") RR(o_remuw, "remuw")
RR(o_sh1add, "sh1add") RR(o_sh2add, "sh2add") RR(o_sh3add, "sh3add") RR(o_adduw, "add.uw")
RR(o_sh1adduw, "sh1add.uw") RR(o_sh2adduw, "sh2add.uw") RR(o_sh3adduw, "sh3add.uw")
RR(o_andn, "andn") RR(o_orn, "orn") RR(o_xnor, "xnor") RR(o_max, "max") RR(o_maxu, "maxu")
RR(o_min, "min") RR(o_minu, "minu") RR(o_rol, "rol") RR(o_ror, "ror") RR(o_rolw, "rolw")
RR(o_rorw, "rorw") RR(o_bclr, "bclr") RR(o_bext, "bext") RR(o_binv, "binv") RR(o_bset, "bset")
R1(o_clz, "clz") R1(o_ctz, "ctz") R1(o_cpop, "cpop") R1(o_clzw, "clzw") R1(o_ctzw, "ctzw")
R1(o_cpopw, "cpopw") R1(o_sextb, "sext.b") R1(o_sexth, "sext.h") R1(o_zexth, "zext.h")
R1(o_orcb, "orc.b") R1(o_rev8, "rev8")
RI(o_addi, "addi", -2048) RI(o_slti, "slti", -1) RI(o_sltiu, "sltiu", -1) RI(o_xori, "xori", 0x555)
RI(o_ori, "ori", -256) RI(o_andi, "andi", 0x7f0) RI(o_slli, "slli", 63) RI(o_srli, "srli", 33)
RI(o_srai, "srai", 7) RI(o_addiw, "addiw", 2047) RI(o_slliw, "slliw", 31) RI(o_srliw, "srliw", 1)
RI(o_sraiw, "sraiw", 31) RI(o_slliuw, "slli.uw", 5) RI(o_rori, "rori", 13) RI(o_roriw, "roriw", 31)
RI(o_bclri, "bclri", 63) RI(o_bexti, "bexti", 31) RI(o_binvi, "binvi", 32) RI(o_bseti, "bseti", 0)

static const struct { const char *name; u64 (*f)(u64, u64); } intops[] = {
#define E(n, f) { n, f },
    E("add", o_add) E("sub", o_sub) E("sll", o_sll) E("slt", o_slt) E("sltu", o_sltu)
    E("xor", o_xor) E("srl", o_srl) E("sra", o_sra) E("or", o_or) E("and", o_and)
    E("addw", o_addw) E("subw", o_subw) E("sllw", o_sllw) E("srlw", o_srlw) E("sraw", o_sraw)
    E("mul", o_mul) E("mulh", o_mulh) E("mulhsu", o_mulhsu) E("mulhu", o_mulhu)
    E("div", o_div) E("divu", o_divu) E("rem", o_rem) E("remu", o_remu)
    E("mulw", o_mulw) E("divw", o_divw) E("divuw", o_divuw) E("remw", o_remw) E("remuw", o_remuw)
    E("sh1add", o_sh1add) E("sh2add", o_sh2add) E("sh3add", o_sh3add) E("add.uw", o_adduw)
    E("sh1add.uw", o_sh1adduw) E("sh2add.uw", o_sh2adduw) E("sh3add.uw", o_sh3adduw)
    E("andn", o_andn) E("orn", o_orn) E("xnor", o_xnor) E("max", o_max) E("maxu", o_maxu)
    E("min", o_min) E("minu", o_minu) E("rol", o_rol) E("ror", o_ror) E("rolw", o_rolw)
    E("rorw", o_rorw) E("bclr", o_bclr) E("bext", o_bext) E("binv", o_binv) E("bset", o_bset)
    E("clz", o_clz) E("ctz", o_ctz) E("cpop", o_cpop) E("clzw", o_clzw) E("ctzw", o_ctzw)
    E("cpopw", o_cpopw) E("sext.b", o_sextb) E("sext.h", o_sexth) E("zext.h", o_zexth)
    E("orc.b", o_orcb) E("rev8", o_rev8)
    E("addi", o_addi) E("slti", o_slti) E("sltiu", o_sltiu) E("xori", o_xori) E("ori", o_ori)
    E("andi", o_andi) E("slli", o_slli) E("srli", o_srli) E("srai", o_srai) E("addiw", o_addiw)
    E("slliw", o_slliw) E("srliw", o_srliw) E("sraiw", o_sraiw) E("slli.uw", o_slliuw)
    E("rori", o_rori) E("roriw", o_roriw) E("bclri", o_bclri) E("bexti", o_bexti)
    E("binvi", o_binvi) E("bseti", o_bseti)
#undef E
};

static void int_ops(void)
{
    for (u64 k = 0; k < sizeof intops / sizeof intops[0]; k++) {
        hinit();
        for (u64 i = 0; i < NIV; i++)
            for (u64 j = 0; j < NIV; j++)
                hmix(intops[k].f(iv[i], iv[j]));
        report(intops[k].name);
    }
}

static unsigned char mem[64] __attribute__((aligned(16)));

static void mem_ops(void)
{
    for (int i = 0; i < 64; i++)
        mem[i] = (unsigned char)(i * 37 + 0x81);
    hinit();
    for (int off = 0; off < 16; off++) {
        u64 r;
        unsigned char *p = mem + off;
        __asm__ volatile("lb %0, 0(%1)" : "=r"(r) : "r"(p)); hmix(r);
        __asm__ volatile("lbu %0, 1(%1)" : "=r"(r) : "r"(p)); hmix(r);
        __asm__ volatile("lh %0, 2(%1)" : "=r"(r) : "r"(p)); hmix(r);
        __asm__ volatile("lhu %0, 3(%1)" : "=r"(r) : "r"(p)); hmix(r);
        __asm__ volatile("lw %0, 4(%1)" : "=r"(r) : "r"(p)); hmix(r);
        __asm__ volatile("lwu %0, 5(%1)" : "=r"(r) : "r"(p)); hmix(r);
        __asm__ volatile("ld %0, 6(%1)" : "=r"(r) : "r"(p)); hmix(r);
    }
    report("loads");
    hinit();
    for (int off = 0; off < 16; off++) {
        unsigned char *p = mem + 16 + off;
        u64 v = 0x0102030405060708UL * (u64)(off + 1);
        __asm__ volatile("sb %0, 0(%1)" ::"r"(v), "r"(p) : "memory");
        __asm__ volatile("sh %0, 1(%1)" ::"r"(v >> 8), "r"(p) : "memory");
        __asm__ volatile("sw %0, 3(%1)" ::"r"(v >> 16), "r"(p) : "memory");
        __asm__ volatile("sd %0, 7(%1)" ::"r"(~v), "r"(p) : "memory");
        for (int i = 0; i < 64; i++)
            hmix(mem[i]);
    }
    report("stores");
}

static u64 word[2] __attribute__((aligned(16)));

#define AMO(mn)                                                                             \
    do {                                                                                    \
        hinit();                                                                            \
        for (u64 i = 0; i < NIV; i++)                                                       \
            for (u64 j = 0; j < NIV; j++) {                                                 \
                u64 r;                                                                      \
                word[0] = iv[i];                                                            \
                __asm__ volatile(mn " %0, %1, (%2)" : "=r"(r) : "r"(iv[j]), "r"(word) : "memory"); \
                hmix(r);                                                                    \
                hmix(word[0]);                                                              \
            }                                                                               \
        report(mn);                                                                         \
    } while (0)

static void atomics(void)
{
    AMO("amoswap.w"); AMO("amoadd.w"); AMO("amoxor.w"); AMO("amoand.w"); AMO("amoor.w");
    AMO("amomin.w"); AMO("amomax.w"); AMO("amominu.w"); AMO("amomaxu.w");
    AMO("amoswap.d"); AMO("amoadd.d"); AMO("amoxor.d"); AMO("amoand.d"); AMO("amoor.d");
    AMO("amomin.d"); AMO("amomax.d"); AMO("amominu.d"); AMO("amomaxu.d");
    AMO("amoadd.w.aqrl"); AMO("amoswap.d.aq");
    hinit();
    for (u64 i = 0; i < NIV; i++) {
        u64 v, ok1, ok2, ok3, v2;
        word[0] = iv[i];
        /* success, then an SC without a reservation fails, then LR.W/SC.W on the low word */
        __asm__ volatile("lr.d %0, (%2)\n\tsc.d %1, %3, (%2)" : "=&r"(v), "=&r"(ok1) : "r"(word), "r"(~iv[i]) : "memory");
        __asm__ volatile("sc.d %0, %2, (%1)" : "=&r"(ok2) : "r"(word), "r"(iv[i]) : "memory");
        __asm__ volatile("lr.w %0, (%2)\n\tsc.w %1, %3, (%2)" : "=&r"(v2), "=&r"(ok3) : "r"(word), "r"(iv[i] + 5) : "memory");
        hmix(v); hmix(ok1); hmix(ok2); hmix(v2); hmix(ok3); hmix(word[0]);
    }
    report("lr/sc");
}

/* floating point */
static const u64 dv[] = {
    0, 0x8000000000000000UL, 0x3ff0000000000000UL /* 1 */, 0xbff8000000000000UL /* -1.5 */,
    0x4008000000000000UL /* 3 */, 0x3fb999999999999aUL /* 0.1 */, 0x7fefffffffffffffUL /* max */,
    0x0010000000000000UL /* min normal */, 0x000fffffffffffffUL /* max subnormal */, 1 /* min subnormal */,
    0x7ff0000000000000UL /* inf */, 0xfff0000000000000UL /* -inf */, 0x7ff8000000000000UL /* qNaN */,
    0x7ff4000000000000UL /* sNaN */, 0x43e0000000000000UL /* 2^63 */, 0xc3e0000000000000UL /* -2^63 */,
    0x41dfffffffc00000UL /* 2^31-1 */, 0x41f0000000000000UL /* 2^32 */, 0x3fe0000000000000UL /* 0.5 */,
    0xc004000000000000UL /* -2.5 */,
};
#define NDV (sizeof dv / sizeof dv[0])
static const u32 sv[] = {
    0, 0x80000000, 0x3f800000, 0xbfc00000, 0x40400000, 0x3dcccccd, 0x7f7fffff, 0x00800000, 0x007fffff, 1,
    0x7f800000, 0xff800000, 0x7fc00000, 0x7fa00000, 0x5f000000, 0xdf000000, 0x4f000000, 0x3f000000,
    0xc0200000, 0x4b7fffff,
};
#define NSV (sizeof sv / sizeof sv[0])

static u64 sbox(u32 v) { return 0xffffffff00000000UL | v; }

static u64 frflags_clear(void)
{
    u64 f;
    __asm__ volatile("csrrw %0, fflags, zero" : "=r"(f));
    return f;
}
static void fsrm(u64 rm) { __asm__ volatile("fsrm %0" ::"r"(rm)); }

#define FRR(fn, mn)                                                                         \
    static u64 fn(u64 a, u64 b, u64 c)                                                      \
    {                                                                                       \
        u64 r;                                                                              \
        (void)c;                                                                            \
        __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\t" mn " ft2, ft0, ft1\n\tfmv.x.d %0, ft2" \
                         : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1", "ft2");                 \
        return r;                                                                           \
    }
#define FR1(fn, mn)                                                                         \
    static u64 fn(u64 a, u64 b, u64 c)                                                      \
    {                                                                                       \
        u64 r;                                                                              \
        (void)b; (void)c;                                                                   \
        __asm__ volatile("fmv.d.x ft0, %1\n\t" mn " ft2, ft0\n\tfmv.x.d %0, ft2"           \
                         : "=r"(r) : "r"(a) : "ft0", "ft2");                                \
        return r;                                                                           \
    }
#define FR3(fn, mn)                                                                         \
    static u64 fn(u64 a, u64 b, u64 c)                                                      \
    {                                                                                       \
        u64 r;                                                                              \
        __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\tfmv.d.x ft3, %3\n\t" mn " ft2, ft0, ft1, ft3\n\tfmv.x.d %0, ft2" \
                         : "=r"(r) : "r"(a), "r"(b), "r"(c) : "ft0", "ft1", "ft2", "ft3"); \
        return r;                                                                           \
    }
#define FTOI(fn, mn)                                                                        \
    static u64 fn(u64 a, u64 b, u64 c)                                                      \
    {                                                                                       \
        u64 r;                                                                              \
        (void)b; (void)c;                                                                   \
        __asm__ volatile("fmv.d.x ft0, %1\n\t" mn " %0, ft0" : "=r"(r) : "r"(a) : "ft0");  \
        return r;                                                                           \
    }
#define FCMP(fn, mn)                                                                        \
    static u64 fn(u64 a, u64 b, u64 c)                                                      \
    {                                                                                       \
        u64 r;                                                                              \
        (void)c;                                                                            \
        __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\t" mn " %0, ft0, ft1"       \
                         : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1");                        \
        return r;                                                                           \
    }
#define ITOF(fn, mn)                                                                        \
    static u64 fn(u64 a, u64 b, u64 c)                                                      \
    {                                                                                       \
        u64 r;                                                                              \
        (void)b; (void)c;                                                                   \
        __asm__ volatile(mn " ft0, %1\n\tfmv.x.d %0, ft0" : "=r"(r) : "r"(a) : "ft0");     \
        return r;                                                                           \
    }

FRR(f_fadd_d, "fadd.d") FRR(f_fsub_d, "fsub.d") FRR(f_fmul_d, "fmul.d") FRR(f_fdiv_d, "fdiv.d")
FRR(f_fmin_d, "fmin.d") FRR(f_fmax_d, "fmax.d") FRR(f_fsgnj_d, "fsgnj.d") FRR(f_fsgnjn_d, "fsgnjn.d")
FRR(f_fsgnjx_d, "fsgnjx.d") FR1(f_fsqrt_d, "fsqrt.d") FR1(f_fcvt_s_d, "fcvt.s.d")
FR3(f_fmadd_d, "fmadd.d") FR3(f_fmsub_d, "fmsub.d") FR3(f_fnmsub_d, "fnmsub.d") FR3(f_fnmadd_d, "fnmadd.d")
FTOI(f_fcvt_w_d, "fcvt.w.d") FTOI(f_fcvt_wu_d, "fcvt.wu.d") FTOI(f_fcvt_l_d, "fcvt.l.d")
FTOI(f_fcvt_lu_d, "fcvt.lu.d") FTOI(f_fclass_d, "fclass.d") FTOI(f_fmv_x_d, "fmv.x.d")
FCMP(f_feq_d, "feq.d") FCMP(f_flt_d, "flt.d") FCMP(f_fle_d, "fle.d")
FRR(f_fadd_s, "fadd.s") FRR(f_fsub_s, "fsub.s") FRR(f_fmul_s, "fmul.s") FRR(f_fdiv_s, "fdiv.s")
FRR(f_fmin_s, "fmin.s") FRR(f_fmax_s, "fmax.s") FRR(f_fsgnj_s, "fsgnj.s") FRR(f_fsgnjn_s, "fsgnjn.s")
FRR(f_fsgnjx_s, "fsgnjx.s") FR1(f_fsqrt_s, "fsqrt.s") FR1(f_fcvt_d_s, "fcvt.d.s")
FR3(f_fmadd_s, "fmadd.s") FR3(f_fmsub_s, "fmsub.s") FR3(f_fnmsub_s, "fnmsub.s") FR3(f_fnmadd_s, "fnmadd.s")
FTOI(f_fcvt_w_s, "fcvt.w.s") FTOI(f_fcvt_wu_s, "fcvt.wu.s") FTOI(f_fcvt_l_s, "fcvt.l.s")
FTOI(f_fcvt_lu_s, "fcvt.lu.s") FTOI(f_fclass_s, "fclass.s") FTOI(f_fmv_x_w, "fmv.x.w")
FCMP(f_feq_s, "feq.s") FCMP(f_flt_s, "flt.s") FCMP(f_fle_s, "fle.s")
ITOF(f_fcvt_d_w, "fcvt.d.w") ITOF(f_fcvt_d_wu, "fcvt.d.wu") ITOF(f_fcvt_d_l, "fcvt.d.l")
ITOF(f_fcvt_d_lu, "fcvt.d.lu") ITOF(f_fcvt_s_w, "fcvt.s.w") ITOF(f_fcvt_s_wu, "fcvt.s.wu")
ITOF(f_fcvt_s_l, "fcvt.s.l") ITOF(f_fcvt_s_lu, "fcvt.s.lu") ITOF(f_fmv_w_x, "fmv.w.x")
ITOF(f_fmv_d_x, "fmv.d.x")
/* static rounding modes */
#define FRRM(fn, mn, rm)                                                                    \
    static u64 fn(u64 a, u64 b, u64 c)                                                      \
    {                                                                                       \
        u64 r;                                                                              \
        (void)c;                                                                            \
        __asm__ volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\t" mn " ft2, ft0, ft1, " rm "\n\tfmv.x.d %0, ft2" \
                         : "=r"(r) : "r"(a), "r"(b) : "ft0", "ft1", "ft2");                 \
        return r;                                                                           \
    }
FRRM(f_fdiv_d_rtz, "fdiv.d", "rtz") FRRM(f_fdiv_d_rdn, "fdiv.d", "rdn") FRRM(f_fdiv_d_rup, "fdiv.d", "rup")
FRRM(f_fdiv_d_rmm, "fdiv.d", "rmm") FRRM(f_fdiv_d_rne2, "fdiv.d", "rne") FRRM(f_fmul_s_rtz, "fmul.s", "rtz")
FRRM(f_fmul_s_rup, "fmul.s", "rup")

enum kind { D, S, I };
static const struct { const char *name; u64 (*f)(u64, u64, u64); enum kind k; int nargs; } fops[] = {
#define F(n, f, k, a) { n, f, k, a },
    F("fadd.d", f_fadd_d, D, 2) F("fsub.d", f_fsub_d, D, 2) F("fmul.d", f_fmul_d, D, 2)
    F("fdiv.d", f_fdiv_d, D, 2) F("fmin.d", f_fmin_d, D, 2) F("fmax.d", f_fmax_d, D, 2)
    F("fsgnj.d", f_fsgnj_d, D, 2) F("fsgnjn.d", f_fsgnjn_d, D, 2) F("fsgnjx.d", f_fsgnjx_d, D, 2)
    F("fsqrt.d", f_fsqrt_d, D, 1) F("fcvt.s.d", f_fcvt_s_d, D, 1) F("fmadd.d", f_fmadd_d, D, 3)
    F("fmsub.d", f_fmsub_d, D, 3) F("fnmsub.d", f_fnmsub_d, D, 3) F("fnmadd.d", f_fnmadd_d, D, 3)
    F("fcvt.w.d", f_fcvt_w_d, D, 1) F("fcvt.wu.d", f_fcvt_wu_d, D, 1) F("fcvt.l.d", f_fcvt_l_d, D, 1)
    F("fcvt.lu.d", f_fcvt_lu_d, D, 1) F("fclass.d", f_fclass_d, D, 1) F("fmv.x.d", f_fmv_x_d, D, 1)
    F("feq.d", f_feq_d, D, 2) F("flt.d", f_flt_d, D, 2) F("fle.d", f_fle_d, D, 2)
    F("fadd.s", f_fadd_s, S, 2) F("fsub.s", f_fsub_s, S, 2) F("fmul.s", f_fmul_s, S, 2)
    F("fdiv.s", f_fdiv_s, S, 2) F("fmin.s", f_fmin_s, S, 2) F("fmax.s", f_fmax_s, S, 2)
    F("fsgnj.s", f_fsgnj_s, S, 2) F("fsgnjn.s", f_fsgnjn_s, S, 2) F("fsgnjx.s", f_fsgnjx_s, S, 2)
    F("fsqrt.s", f_fsqrt_s, S, 1) F("fcvt.d.s", f_fcvt_d_s, S, 1) F("fmadd.s", f_fmadd_s, S, 3)
    F("fmsub.s", f_fmsub_s, S, 3) F("fnmsub.s", f_fnmsub_s, S, 3) F("fnmadd.s", f_fnmadd_s, S, 3)
    F("fcvt.w.s", f_fcvt_w_s, S, 1) F("fcvt.wu.s", f_fcvt_wu_s, S, 1) F("fcvt.l.s", f_fcvt_l_s, S, 1)
    F("fcvt.lu.s", f_fcvt_lu_s, S, 1) F("fclass.s", f_fclass_s, S, 1) F("fmv.x.w", f_fmv_x_w, S, 1)
    F("feq.s", f_feq_s, S, 2) F("flt.s", f_flt_s, S, 2) F("fle.s", f_fle_s, S, 2)
    F("fcvt.d.w", f_fcvt_d_w, I, 1) F("fcvt.d.wu", f_fcvt_d_wu, I, 1) F("fcvt.d.l", f_fcvt_d_l, I, 1)
    F("fcvt.d.lu", f_fcvt_d_lu, I, 1) F("fcvt.s.w", f_fcvt_s_w, I, 1) F("fcvt.s.wu", f_fcvt_s_wu, I, 1)
    F("fcvt.s.l", f_fcvt_s_l, I, 1) F("fcvt.s.lu", f_fcvt_s_lu, I, 1) F("fmv.w.x", f_fmv_w_x, I, 1)
    F("fmv.d.x", f_fmv_d_x, I, 1)
    F("fdiv.d.rtz", f_fdiv_d_rtz, D, 2) F("fdiv.d.rdn", f_fdiv_d_rdn, D, 2) F("fdiv.d.rup", f_fdiv_d_rup, D, 2)
    F("fdiv.d.rmm", f_fdiv_d_rmm, D, 2) F("fdiv.d.rne", f_fdiv_d_rne2, D, 2) F("fmul.s.rtz", f_fmul_s_rtz, S, 2)
    F("fmul.s.rup", f_fmul_s_rup, S, 2)
#undef F
};

static u64 operand(enum kind k, u64 i)
{
    switch (k) {
    case D: return dv[i % NDV];
    case S: return i == NSV ? 0x3f800000 /* not NaN-boxed: reads as the canonical NaN */ : sbox(sv[i % NSV]);
    default: return iv[i % NIV];
    }
}

static void fp_ops(void)
{
    for (u64 k = 0; k < sizeof fops / sizeof fops[0]; k++) {
        enum kind kd = fops[k].k;
        u64 n = kd == D ? NDV : kd == S ? NSV + 1 : NIV;
        u64 nj = fops[k].nargs >= 2 ? n : 1;
        hinit();
        for (u64 rm = 0; rm < 5; rm++) {
            fsrm(rm);
            for (u64 i = 0; i < n; i++)
                for (u64 j = 0; j < nj; j++) {
                    /* three-operand ops: the addend walks the grid too, shifted */
                    u64 c = operand(kd, (i + j + 3) % n);
                    frflags_clear();
                    hmix(fops[k].f(operand(kd, i), operand(kd, j), c));
                    hmix(frflags_clear());
                }
        }
        fsrm(0);
        report(fops[k].name);
    }
}

static void csrs(void)
{
    u64 a, b, c, d, e;
    hinit();
    __asm__ volatile("fscsr %0, %1" : "=r"(a) : "r"(0xffUL));
    __asm__ volatile("frcsr %0" : "=r"(b));
    __asm__ volatile("frrm %0" : "=r"(c));
    __asm__ volatile("fsflagsi %0, 0x5" : "=r"(d));
    __asm__ volatile("csrrci %0, fflags, 1" : "=r"(e));
    hmix(a); hmix(b); hmix(c); hmix(d); hmix(e);
    __asm__ volatile("csrrs %0, fcsr, zero" : "=r"(a));
    __asm__ volatile("fsrmi %0, 2" : "=r"(b));
    __asm__ volatile("csrrw %0, frm, zero" : "=r"(c));
    __asm__ volatile("frcsr %0" : "=r"(d));
    hmix(a); hmix(b); hmix(c); hmix(d);
    __asm__ volatile("fscsr zero");
    report("csr");
}

static u64 fib(u64 n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static void control(void)
{
    /* branches of every kind, calls and returns through compiled C */
    hinit();
    for (u64 i = 0; i < NIV; i++)
        for (u64 j = 0; j < NIV; j++) {
            i64 a = (i64)iv[i], b = (i64)iv[j];
            u64 bits = (a == b) | (a != b) << 1 | (a < b) << 2 | (a >= b) << 3 |
                       ((u64)a < (u64)b) << 4 | ((u64)a >= (u64)b) << 5;
            hmix(bits);
        }
    hmix(fib(20));
    report("control");
}

void _start_c(void) __attribute__((noreturn, used));
void _start_c(void)
{
    int_ops();
    mem_ops();
    atomics();
    fp_ops();
    csrs();
    control();
    flush();
    sys3(93, 0, 0, 0);
    __builtin_unreachable();
}

__asm__(".globl _start\n_start:\n\t.option push\n\t.option norelax\n\tla gp, __global_pointer$\n\t.option pop\n\tandi sp, sp, -16\n\tcall _start_c\n");
