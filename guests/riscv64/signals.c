/* signals: checks Linux signal delivery to a riscv64 program, through the raw kernel ABI
 * (struct sigaction without sa_restorer, rt_sigframe with siginfo and ucontext, return
 * through the kernel's trampoline):
 *   - synchronous: SIGSEGV (unmapped: SEGV_MAPERR, read-only: SEGV_ACCERR, si_addr), SIGILL
 *     (si_addr = pc), SIGTRAP (ebreak), SIGBUS (misaligned atomic); the handler moves the pc
 *     past the faulting instruction in uc_mcontext and sigreturn resumes there;
 *   - on an alternate stack (sigaltstack + SA_ONSTACK);
 *   - asynchronous: SIGALRM from setitimer interrupting a busy loop, a blocking read
 *     (EINTR without SA_RESTART, restarted with it), nanosleep (EINTR even with SA_RESTART),
 *     rt_sigsuspend;
 *   - SIGINT sent to itself, SIGUSR1 blocked then unblocked (rt_sigpending), SIGCHLD from a
 *     forked child with si_pid/si_status, and wait4's status.
 * Prints one "ok"/"FAIL" line per check and exits 0 when all pass. With an argument it
 * instead dies: "segv" of an unhandled SIGSEGV, "term" of SIGTERM sent to itself.
 * Freestanding (no libc): its own _start and system calls. */
typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;

enum {
    SYS_pipe2 = 59, SYS_read = 63, SYS_write = 64, SYS_exit_group = 94, SYS_setitimer = 103,
    SYS_nanosleep = 101, SYS_clock_gettime = 113, SYS_kill = 129, SYS_tgkill = 131, SYS_sigaltstack = 132,
    SYS_rt_sigsuspend = 133, SYS_rt_sigaction = 134, SYS_rt_sigprocmask = 135,
    SYS_rt_sigpending = 136, SYS_getpid = 172, SYS_gettid = 178, SYS_clone = 220,
    SYS_mmap = 222, SYS_wait4 = 260,
};
enum { SIGINT = 2, SIGILL = 4, SIGTRAP = 5, SIGBUS = 7, SIGUSR1 = 10, SIGSEGV = 11,
       SIGALRM = 14, SIGTERM = 15, SIGCHLD = 17 };
#define SA_SIGINFO 4UL
#define SA_ONSTACK 0x08000000UL
#define SA_RESTART 0x10000000UL
#define EINTR 4

static long sc(long n, long a, long b, long c, long d, long e)
{
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a3 __asm__("a3") = d;
    register long a4 __asm__("a4") = e;
    register long a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a7) : "memory");
    return a0;
}

static char out[4096];
static u64 outn;
static void flush(void)
{
    sc(SYS_write, 1, (long)out, (long)outn, 0, 0);
    outn = 0;
}
static void puts_(const char *s)
{
    while (*s) {
        if (outn == sizeof out)
            flush();
        out[outn++] = *s++;
    }
}
static void putn(long v)
{
    char b[24];
    int i = 23;
    int neg = v < 0;
    u64 u = neg ? -(u64)v : (u64)v;
    b[i] = 0;
    do {
        b[--i] = '0' + u % 10;
        u /= 10;
    } while (u);
    if (neg)
        b[--i] = '-';
    puts_(b + i);
}

static int failures;
static void check(const char *name, int ok)
{
    puts_(ok ? "ok   " : "FAIL ");
    puts_(name);
    puts_("\n");
    if (!ok)
        failures++;
}

struct ksigaction {
    void *handler;
    u64 flags;
    u64 mask;
};
struct ksiginfo {
    int signo, errno_, code, pad;
    union {
        u64 addr;
        struct {
            int pid;
            u32 uid;
            int status;
        } chld;
    } u;
};
struct kstack {
    void *sp;
    int flags;
    u64 size;
};

/* What the last handler saw. */
static volatile int got_sig, got_code, got_count;
static volatile u64 got_addr, got_sp, got_pc;
static volatile u64 got_gregs[32];
static volatile int chld_pid, chld_status;
static int pipefd[2];
static volatile int write_in_handler;

static void handler(int sig, struct ksiginfo *si, void *uc)
{
    u64 *gregs = (u64 *)((char *)uc + 176); /* uc_mcontext.__gregs: pc, x1..x31 */
    char local;
    got_sig = sig;
    got_code = si->code;
    got_addr = si->u.addr;
    got_sp = (u64)&local;
    got_pc = gregs[0];
    for (int i = 0; i < 32; i++)
        got_gregs[i] = gregs[i];
    got_count++;
    if (sig == SIGCHLD) {
        chld_pid = si->u.chld.pid;
        chld_status = si->u.chld.status;
    }
    if (sig == SIGSEGV || sig == SIGILL || sig == SIGTRAP || sig == SIGBUS)
        gregs[0] += 4; /* every faulting instruction below is 4 bytes long */
    if (write_in_handler)
        sc(SYS_write, pipefd[1], (long)"x", 1, 0, 0);
}

static long on(int sig, u64 flags)
{
    struct ksigaction sa = { (void *)handler, SA_SIGINFO | flags, 0 };
    return sc(SYS_rt_sigaction, sig, (long)&sa, 0, 8, 0);
}

static void reset(void) { got_sig = got_code = 0; got_addr = got_sp = got_pc = 0; }

static u64 now_ms(void)
{
    long ts[2];
    sc(SYS_clock_gettime, 1, (long)ts, 0, 0, 0);
    return ts[0] * 1000 + ts[1] / 1000000;
}

static void alarm_ms(long ms)
{
    long it[4] = { 0, 0, ms / 1000, (ms % 1000) * 1000 };
    sc(SYS_setitimer, 0, (long)it, 0, 0, 0);
}

static char altstack[16384] __attribute__((aligned(16)));

static void load_from(u64 addr)
{
    __asm__ volatile(".option push\n.option norvc\nld t0, 0(%0)\n.option pop" : : "r"(addr) : "t0", "memory");
}
static void store_to(u64 addr)
{
    __asm__ volatile(".option push\n.option norvc\nsd zero, 0(%0)\n.option pop" : : "r"(addr) : "memory");
}

/* probe(addr, k, cell): registers written, then two loads, the second from addr, with no
 * store or call in between: an emulator that moves register writes past loads (remu's block
 * optimizer does) must still show them at the load's fault. Returns *addr + *cell + 1. */
__asm__(".text\n.globl probe\nprobe:\n.option push\n.option norvc\n"
        "addi t1, a1, 0x111\n"
        "xori t2, a1, 0x222\n"
        "ld t3, 0(a2)\n"
        "addi t4, t3, 1\n"
        "ld t0, 0(a0)\n"
        "add a0, t0, t4\n"
        "ret\n.option pop\n");
extern u64 probe(u64 addr, u64 k, u64 *cell);

/* poke(addr, v): a register written, then a store of v at addr. */
__asm__(".text\n.globl poke\npoke:\n.option push\n.option norvc\n"
        "addi t1, a1, 0x333\n"
        "sd a1, 8(a0)\n"
        "ret\n.option pop\n");
extern void poke(u64 addr, u64 v);

static void run_checks(void)
{
    long pid = sc(SYS_getpid, 0, 0, 0, 0, 0);
    long tid = sc(SYS_gettid, 0, 0, 0, 0, 0);

    /* SIGSEGV, unmapped address. */
    check("sigaction SIGSEGV", on(SIGSEGV, 0) == 0);
    reset();
    load_from(0xdead0008UL);
    check("SIGSEGV delivered", got_sig == SIGSEGV);
    check("SIGSEGV si_code SEGV_MAPERR", got_code == 1);
    check("SIGSEGV si_addr", got_addr == 0xdead0008UL);
    check("SIGSEGV resumed after sigreturn", got_count == 1);

    /* SIGSEGV with every register as of the faulting load, after the code ran hot (compiled)
     * without faulting. */
    static u64 cell = 41;
    u64 sum = 0;
    for (u64 i = 0; i < 3000; i++)
        sum += probe((u64)&cell, i, &cell);
    check("probe runs", sum == 3000 * (41 + 42));
    reset();
    probe(0xdead0010UL, 7, &cell);
    check("SIGSEGV at a load: registers written before it",
          got_sig == SIGSEGV && got_addr == 0xdead0010UL && got_gregs[6] == 7 + 0x111 && got_gregs[7] == (7 ^ 0x222)
              && got_gregs[28] == 41 && got_gregs[29] == 42);

    /* The same beyond the end of the user address space (Sv39: 2^38), where remu's compiled
     * code leaves the access to its reference evaluator; a store too. */
    reset();
    probe(1UL << 40, 9, &cell);
    check("SIGSEGV at a load beyond the address space",
          got_sig == SIGSEGV && got_code == 1 && got_addr == 1UL << 40 && got_gregs[6] == 9 + 0x111
              && got_gregs[7] == (9 ^ 0x222) && got_gregs[28] == 41 && got_gregs[29] == 42);
    static u64 slots[2];
    for (u64 i = 0; i < 3000; i++)
        poke((u64)slots, i);
    check("poke runs", slots[1] == 2999);
    reset();
    poke((1UL << 40) - 8, 5);
    check("SIGSEGV at a store beyond the address space",
          got_sig == SIGSEGV && got_code == 1 && got_addr == 1UL << 40 && got_gregs[6] == 5 + 0x333);

    /* SIGSEGV, write to a read-only page. */
    long ro = sc(SYS_mmap, 0, 4096, 1 /* PROT_READ */, 0x22 /* PRIVATE|ANON */, -1);
    reset();
    store_to((u64)ro + 16);
    check("SIGSEGV on a read-only page", got_sig == SIGSEGV && got_addr == (u64)ro + 16);
    puts_("read-only page si_code ");
    putn(got_code);
    puts_("\n");

    /* SIGILL: the all-zero instruction is illegal. */
    on(SIGILL, 0);
    reset();
    u64 ill_pc;
    __asm__ volatile(".option push\n.option norvc\nauipc %0, 0\n.word 0\n.option pop" : "=r"(ill_pc) : : "memory");
    check("SIGILL delivered", got_sig == SIGILL && got_code == 1 /* ILL_ILLOPC */);
    check("SIGILL si_addr is the pc", got_addr == ill_pc + 4 && got_pc == ill_pc + 4);

    /* SIGTRAP from ebreak. */
    on(SIGTRAP, 0);
    reset();
    __asm__ volatile(".option push\n.option norvc\nebreak\n.option pop" : : : "memory");
    check("SIGTRAP from ebreak", got_sig == SIGTRAP);

    /* SIGBUS: a misaligned atomic. */
    on(SIGBUS, 0);
    reset();
    static u64 word[2];
    __asm__ volatile(".option push\n.option norvc\namoadd.w zero, zero, (%0)\n.option pop" : : "r"((u64)word + 1) : "memory");
    check("SIGBUS from a misaligned atomic", got_sig == SIGBUS && got_code == 1 /* BUS_ADRALN */ && got_addr == (u64)word + 1);

    /* The handler runs on the alternate stack. */
    struct kstack ss = { altstack, 0, sizeof altstack };
    check("sigaltstack", sc(SYS_sigaltstack, (long)&ss, 0, 0, 0, 0) == 0);
    on(SIGSEGV, SA_ONSTACK);
    reset();
    load_from(8);
    check("SA_ONSTACK handler on the alternate stack",
          got_sig == SIGSEGV && got_sp >= (u64)altstack && got_sp < (u64)altstack + sizeof altstack);

    /* SIGINT sent to itself arrives before kill returns. */
    on(SIGINT, 0);
    reset();
    sc(SYS_kill, pid, SIGINT, 0, 0, 0);
    check("SIGINT to itself", got_sig == SIGINT && got_code == 0 /* SI_USER */);

    /* A blocked signal stays pending until unblocked. */
    on(SIGUSR1, 0);
    reset();
    u64 set = 1UL << (SIGUSR1 - 1), pend = 0;
    sc(SYS_rt_sigprocmask, 0 /* SIG_BLOCK */, (long)&set, 0, 8, 0);
    sc(SYS_tgkill, pid, tid, SIGUSR1, 0, 0);
    check("blocked SIGUSR1 not delivered", got_sig == 0);
    sc(SYS_rt_sigpending, (long)&pend, 8, 0, 0, 0);
    check("rt_sigpending shows SIGUSR1", pend == set);
    sc(SYS_rt_sigprocmask, 1 /* SIG_UNBLOCK */, (long)&set, 0, 8, 0);
    check("SIGUSR1 delivered when unblocked", got_sig == SIGUSR1 && got_code == -6 /* SI_TKILL */);

    /* SIGALRM interrupts a busy loop. */
    on(SIGALRM, 0);
    reset();
    alarm_ms(20);
    u64 t0 = now_ms();
    while (!got_sig && now_ms() - t0 < 10000)
        ;
    check("SIGALRM interrupts a busy loop", got_sig == SIGALRM);

    /* ... a blocking read: EINTR without SA_RESTART. */
    sc(SYS_pipe2, (long)pipefd, 0, 0, 0, 0);
    reset();
    alarm_ms(20);
    char c = 0;
    long r = sc(SYS_read, pipefd[0], (long)&c, 1, 0, 0);
    check("read interrupted: EINTR", r == -EINTR && got_sig == SIGALRM);

    /* ... restarted with SA_RESTART (the handler writes the byte the read then gets). */
    on(SIGALRM, SA_RESTART);
    reset();
    write_in_handler = 1;
    alarm_ms(20);
    r = sc(SYS_read, pipefd[0], (long)&c, 1, 0, 0);
    write_in_handler = 0;
    check("read restarted with SA_RESTART", r == 1 && c == 'x' && got_sig == SIGALRM);

    /* ... but a sleep is not restarted after a handler, even with SA_RESTART. */
    reset();
    alarm_ms(20);
    long req[2] = { 5, 0 }, rem[2] = { 0, 0 };
    r = sc(SYS_nanosleep, (long)req, (long)rem, 0, 0, 0);
    check("nanosleep interrupted despite SA_RESTART", r == -EINTR && got_sig == SIGALRM && rem[0] <= 5);

    /* ... rt_sigsuspend. */
    reset();
    u64 block_alrm = 1UL << (SIGALRM - 1), empty = 0;
    sc(SYS_rt_sigprocmask, 0, (long)&block_alrm, 0, 8, 0);
    alarm_ms(20);
    r = sc(SYS_rt_sigsuspend, (long)&empty, 8, 0, 0, 0);
    u64 after = 0;
    sc(SYS_rt_sigprocmask, 0, 0, (long)&after, 8, 0);
    check("rt_sigsuspend returns EINTR after the handler", r == -EINTR && got_sig == SIGALRM);
    check("rt_sigsuspend restores the mask", after == block_alrm);
    sc(SYS_rt_sigprocmask, 1, (long)&block_alrm, 0, 8, 0);

    /* SIGCHLD from a child that exits with 42. */
    on(SIGCHLD, 0);
    reset();
    u64 block_chld = 1UL << (SIGCHLD - 1);
    sc(SYS_rt_sigprocmask, 0, (long)&block_chld, 0, 8, 0);
    long child = sc(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (child == 0) {
        outn = 0; /* the parent's unwritten output is not the child's */
        sc(SYS_exit_group, 42, 0, 0, 0, 0);
    }
    sc(SYS_rt_sigsuspend, (long)&empty, 8, 0, 0, 0);
    check("SIGCHLD delivered", got_sig == SIGCHLD && got_code == 1 /* CLD_EXITED */);
    check("SIGCHLD si_pid and si_status", chld_pid == child && chld_status == 42);
    int status = 0;
    r = sc(SYS_wait4, child, (long)&status, 0, 0, 0);
    check("wait4 status", r == child && status == 42 << 8);
    sc(SYS_rt_sigprocmask, 1, (long)&block_chld, 0, 8, 0);

    puts_("failures: ");
    putn(failures);
    puts_("\n");
}

void _start_c(long *sp) __attribute__((noreturn, used));
void _start_c(long *sp)
{
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    if (argc > 1 && argv[1][0] == 's') {
        puts_("dying of SIGSEGV\n");
        flush();
        load_from(16);
    }
    if (argc > 1 && argv[1][0] == 't') {
        puts_("dying of SIGTERM\n");
        flush();
        sc(SYS_kill, sc(SYS_getpid, 0, 0, 0, 0, 0), SIGTERM, 0, 0, 0);
    }
    run_checks();
    flush();
    sc(SYS_exit_group, failures ? 1 : 0, 0, 0, 0, 0);
    for (;;)
        ;
}

__asm__(".globl _start\n_start:\n\t.option push\n\t.option norelax\n\tla gp, __global_pointer$\n\t.option pop\n"
        "\tmv a0, sp\n\tandi sp, sp, -16\n\tcall _start_c\n");
