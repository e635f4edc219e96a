/* remu x86-64 test-guest runtime (see rt.h). */
#include "rt.h"
#include <stdarg.h>

int failures;
char cmdline[1024];
u64 rsdp_addr;
u64 boot_info, boot_kind;

void *memset(void *d, int c, size_t n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, size_t n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }
int memcmp(const void *a, const void *b, size_t n) {
    const u8 *p = a, *q = b;
    for (; n; n--, p++, q++) if (*p != *q) return *p - *q;
    return 0;
}
size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
int strncmp(const char *a, const char *b, size_t n) {
    for (; n; n--, a++, b++) { if (*a != *b) return (u8)*a - (u8)*b; if (!*a) return 0; }
    return 0;
}

/* ---- spinlock ---- */
void spin_lock(spinlock_t *l) {
    while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE)) while (l->v) cpu_relax();
}
void spin_unlock(spinlock_t *l) { __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE); }

/* ---- 16550 console ---- */
#define COM1 0x3f8
static void uart_init(void) {
    outb(COM1 + 1, 0x00);   /* IER off */
    outb(COM1 + 3, 0x80);   /* DLAB */
    outb(COM1 + 0, 0x01);   /* 115200 */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);   /* 8N1 */
    outb(COM1 + 2, 0xc7);   /* FIFO on, cleared */
    outb(COM1 + 4, 0x0b);   /* DTR RTS OUT2 */
}
static void uart_putc(char c) {
    while (!(inb(COM1 + 5) & 0x20)) cpu_relax();
    outb(COM1, (u8)c);
}

/* ---- printf ---- */
struct out { char *buf; size_t n, len; };
static void emit(struct out *o, char c) { if (o->len + 1 < o->n) o->buf[o->len] = c; o->len++; }
static void emit_num(struct out *o, u64 v, int base, int neg, int width, char pad) {
    char tmp[24]; int i = 0;
    do { tmp[i++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    if (neg) tmp[i++] = '-';
    while (i < width) { emit(o, pad); width--; }
    while (i) emit(o, tmp[--i]);
}
static int vfmt(char *buf, size_t n, const char *f, va_list ap) {
    struct out o = { buf, n, 0 };
    for (; *f; f++) {
        if (*f != '%') { emit(&o, *f); continue; }
        f++;
        char pad = ' '; int width = 0, lng = 0;
        if (*f == '0') { pad = '0'; f++; }
        while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
        while (*f == 'l') { lng = 1; f++; }
        switch (*f) {
        case 'd': case 'i': {
            i64 v = lng ? va_arg(ap, i64) : va_arg(ap, int);
            emit_num(&o, v < 0 ? -(u64)v : (u64)v, 10, v < 0, width, pad); break;
        }
        case 'u': emit_num(&o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 10, 0, width, pad); break;
        case 'x': emit_num(&o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 16, 0, width, pad); break;
        case 'p': emit(&o, '0'); emit(&o, 'x'); emit_num(&o, (u64)va_arg(ap, void *), 16, 0, width, pad); break;
        case 'c': emit(&o, (char)va_arg(ap, int)); break;
        case 's': { const char *s = va_arg(ap, const char *); if (!s) s = "(null)"; while (*s) emit(&o, *s++); break; }
        case '%': emit(&o, '%'); break;
        default: emit(&o, '%'); emit(&o, *f); break;
        }
    }
    if (n) buf[o.len < n ? o.len : n - 1] = 0;
    return (int)o.len;
}
int snprintf(char *buf, size_t n, const char *fmt, ...) {
    va_list ap; va_start(ap, fmt); int r = vfmt(buf, n, fmt, ap); va_end(ap); return r;
}
static spinlock_t print_lock;
int printf(const char *fmt, ...) {
    char buf[512];
    va_list ap; va_start(ap, fmt); int r = vfmt(buf, sizeof buf, fmt, ap); va_end(ap);
    spin_lock(&print_lock);
    for (char *p = buf; *p; p++) uart_putc(*p);
    spin_unlock(&print_lock);
    return r;
}

/* ---- command line ---- */
int cmdline_get(const char *key, char *buf, size_t n) {
    size_t kl = strlen(key);
    const char *p = cmdline;
    while (*p) {
        while (*p == ' ') p++;
        const char *w = p;
        while (*p && *p != ' ') p++;
        if ((size_t)(p - w) > kl && !strncmp(w, key, kl) && w[kl] == '=') {
            size_t l = p - w - kl - 1;
            if (l >= n) l = n - 1;
            memcpy(buf, w + kl + 1, l);
            buf[l] = 0;
            return 1;
        }
    }
    return 0;
}
int cmdline_has(const char *word) {
    size_t kl = strlen(word);
    const char *p = cmdline;
    while (*p) {
        while (*p == ' ') p++;
        const char *w = p;
        while (*p && *p != ' ') p++;
        if (((size_t)(p - w) == kl || ((size_t)(p - w) > kl && w[kl] == '=')) && !strncmp(w, word, kl)) return 1;
    }
    return 0;
}
u64 cmdline_num(const char *key, u64 dflt) {
    char b[32];
    if (!cmdline_get(key, b, sizeof b)) return dflt;
    u64 v = 0; const char *p = b; int base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) { base = 16; p += 2; }
    for (; *p; p++) {
        int d = (*p >= '0' && *p <= '9') ? *p - '0' : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10 : (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10 : 99;
        if (d >= base) return dflt;
        v = v * base + d;
    }
    return v;
}

/* ---- ACPI ---- */
static int sum8(const u8 *p, u32 n) { u8 s = 0; while (n--) s += *p++; return s; }
static u64 find_rsdp(void) {
    for (u64 a = 0xe0000; a < 0x100000; a += 16)
        if (!memcmp((void *)a, "RSD PTR ", 8) && !sum8((u8 *)a, 20)) return a;
    return 0;
}
static const u8 *acpi_table(const char *sig) {
    if (!rsdp_addr) return 0;
    const u8 *r = (const u8 *)rsdp_addr;
    if (memcmp(r, "RSD PTR ", 8) || sum8(r, 20)) return 0;
    int x = r[15] >= 2 && *(u64 *)(r + 24);
    const u8 *sdt = x ? (const u8 *)*(u64 *)(r + 24) : (const u8 *)(u64)*(u32 *)(r + 16);
    if (!sdt || sum8(sdt, *(u32 *)(sdt + 4))) return 0;
    u32 len = *(u32 *)(sdt + 4), esz = x ? 8 : 4;
    for (u32 off = 36; off + esz <= len; off += esz) {
        const u8 *t = x ? (const u8 *)*(u64 *)(sdt + off) : (const u8 *)(u64)*(u32 *)(sdt + off);
        if (!memcmp(t, sig, 4)) return sum8(t, *(u32 *)(t + 4)) ? 0 : t;
    }
    return 0;
}
int acpi_cpus(u8 *ids, int max) {
    const u8 *m = acpi_table("APIC");
    if (!m) return 0;
    u32 len = *(u32 *)(m + 4);
    int n = 0;
    for (u32 off = 44; off + 2 <= len && m[off + 1]; off += m[off + 1]) {
        if (m[off] == 0 && (m[off + 4] & 1) && n < max) ids[n++] = m[off + 3];
        if (m[off] == 9 && (m[off + 8] & 1) && n < max) ids[n++] = (u8)*(u32 *)(m + off + 4);
    }
    return n;
}
int acpi_poweroff(void) {
    const u8 *f = acpi_table("FACP");
    if (!f || *(u32 *)(f + 4) < 268) return -1;
    const u8 *gas = f + 244;                 /* SLEEP_CONTROL_REG */
    u64 addr = *(u64 *)(gas + 4);
    u8 v = (5 << 2) | 0x20;                  /* SLP_TYP = 5 (\_S5), SLP_EN */
    if (!addr) return -1;
    if (gas[0] == 1) outb((u16)addr, v);
    else if (gas[0] == 0) mmio_write8(addr, v);
    else return -1;
    for (int i = 0; i < 1000000; i++) cpu_relax();
    return -1;
}

int acpi_reset(void) {
    const u8 *f = acpi_table("FACP");
    if (!f || *(u32 *)(f + 4) < 129 || !(*(u32 *)(f + 112) & (1 << 10))) return -1;
    const u8 *gas = f + 116;                 /* RESET_REG */
    u64 addr = *(u64 *)(gas + 4);
    if (gas[0] == 1) outb((u16)addr, f[128]);
    else if (gas[0] == 0) mmio_write8(addr, f[128]);
    else return -1;
    for (int i = 0; i < 1000000; i++) cpu_relax();
    return -1;
}

/* ---- exit ---- */
void debug_exit(u32 value) {
    outl((u16)cmdline_num("debugport", 0xf4), value);
    /* No isa-debug-exit there: make sure the run still ends, and not with a clean status.
       An empty IDT turns the breakpoint into a triple fault. */
    printf("isa-debug-exit did not stop the machine; crashing instead\n");
    struct { u16 limit; u64 base; } __attribute__((packed)) empty = { 0, 0 };
    __asm__ volatile("lidt %0; int3" : : "m"(empty));
    for (;;) __asm__ volatile("cli; hlt");
}
void finish(int nfail) {
    printf("guest done: %d failure%s\n", nfail, nfail == 1 ? "" : "s");
    if (nfail) debug_exit(nfail > 100 ? 100 : nfail);
    if (cmdline_has("exit")) debug_exit((u32)cmdline_num("exit", 0));
    acpi_poweroff();
    printf("ACPI power-off failed\n");
    debug_exit(0x7d);
}

/* ---- IDT ---- */
struct gate { u16 off0, sel; u8 ist, type; u16 off1; u32 off2, zero; };
static struct gate idt[256] __attribute__((aligned(16)));
static irq_handler handlers[256];
extern char isr_stubs[];
static struct { u16 limit; u64 base; } __attribute__((packed)) idtr;
static void idt_load(void) { __asm__ volatile("lidt %0" : : "m"(idtr)); }
void idt_init(void) {
    for (int v = 0; v < 256; v++) {
        u64 a = (u64)isr_stubs + 16 * v;
        idt[v] = (struct gate){ (u16)a, 0x10, 0, 0x8e, (u16)(a >> 16), (u32)(a >> 32), 0 };
    }
    idtr.limit = sizeof idt - 1;
    idtr.base = (u64)idt;
    idt_load();
}
void set_handler(int v, irq_handler h) { handlers[v] = h; }
void isr_dispatch(struct frame *f) {
    if (handlers[f->vector]) { handlers[f->vector](f); return; }
    if (f->vector < 32) {
        printf("EXCEPTION %lu error %lx at rip %lx\n", f->vector, f->error, f->rip);
        debug_exit(0x7e);
    }
    lapic_eoi();
}
void pic_mask_all(void) { outb(0x21, 0xff); outb(0xa1, 0xff); }

/* ---- local APIC / I/O APIC ---- */
static inline u32 lapic_r(u32 r) { return mmio_read32(LAPIC_BASE + r); }
static inline void lapic_w(u32 r, u32 v) { mmio_write32(LAPIC_BASE + r, v); }
void lapic_init(void) {
    lapic_w(0xf0, 0x1ff);        /* software enable, spurious vector 0xff */
    lapic_w(0x80, 0);            /* TPR */
    lapic_w(0x350, 0x10000);     /* LINT0 masked: the 8259s stay out of the way */
}
void lapic_eoi(void) { lapic_w(0xb0, 0); }
u32 lapic_id(void) { return lapic_r(0x20) >> 24; }
void lapic_timer_periodic(int vector, u32 count) {
    lapic_w(0x3e0, 0x3);         /* divide by 16 */
    lapic_w(0x320, (u32)vector | (1 << 17));
    lapic_w(0x380, count);
}
void lapic_timer_stop(void) { lapic_w(0x320, 0x10000); lapic_w(0x380, 0); }
void ioapic_route(int pin, int vector, int level, u32 dest) {
    mmio_write32(IOAPIC_BASE, 0x10 + 2 * pin + 1);
    mmio_write32(IOAPIC_BASE + 0x10, dest << 24);
    mmio_write32(IOAPIC_BASE, 0x10 + 2 * pin);
    mmio_write32(IOAPIC_BASE + 0x10, (u32)vector | (level ? (1 << 15) : 0));
}

/* ---- SMP ---- */
volatile int cpus_online = 1;
int ncpus = 1;
u8 cpu_apic_ids[MAX_CPUS];
extern char stacks[];
extern char tramp_start[], tramp_end[];
volatile u64 ap_stack;
static void (*ap_fn)(int);
int this_cpu(void) {
    u32 id = lapic_id();
    for (int i = 0; i < ncpus; i++) if (cpu_apic_ids[i] == id) return i;
    return -1;
}
void ap_main(void) {
    idt_load();
    lapic_init();
    int me = this_cpu();
    __atomic_fetch_add(&cpus_online, 1, __ATOMIC_SEQ_CST);
    if (ap_fn) ap_fn(me);
    for (;;) __asm__ volatile("cli; hlt");
}
static void icr_send(u32 dest, u32 low) {
    lapic_w(0x310, dest << 24);
    lapic_w(0x300, low);
    for (int i = 0; i < 1000000 && (lapic_r(0x300) & (1 << 12)); i++) cpu_relax();
}
int smp_start(void (*fn)(int)) {
    ap_fn = fn;
    memcpy((void *)TRAMP_ADDR, tramp_start, tramp_end - tramp_start);
    u32 me = lapic_id();
    for (int i = 0; i < ncpus; i++) {
        if (cpu_apic_ids[i] == me) continue;
        ap_stack = (u64)stacks + 16384 * (u64)(i + 1) + 16384 - 16;
        int before = cpus_online;
        icr_send(cpu_apic_ids[i], 0x4500);                          /* INIT */
        for (int s = 0; s < 2 && cpus_online == before; s++) {
            icr_send(cpu_apic_ids[i], 0x4600 | (TRAMP_ADDR >> 12));  /* SIPI */
            for (long w = 0; w < 20000000 && cpus_online == before; w++) cpu_relax();
        }
        if (cpus_online == before) printf("cpu %d (apic %u) did not start\n", i, cpu_apic_ids[i]);
    }
    return cpus_online;
}

/* ---- start ---- */
void rt_start(u64 boot, u64 kind) {
    const char *cl = 0;
    boot_info = boot;
    boot_kind = kind;
    if (kind == 0 && boot) {
        cl = (const char *)(u64)*(u32 *)(boot + 0x228);
        rsdp_addr = *(u64 *)(boot + 0x70);
    } else if (kind == 1 && boot && *(u32 *)boot == 0x336ec578) {
        cl = (const char *)*(u64 *)(boot + 24);
        rsdp_addr = *(u64 *)(boot + 32);
    }
    if (cl) {
        size_t i = 0;
        for (; cl[i] && i < sizeof cmdline - 1; i++) cmdline[i] = cl[i];
        cmdline[i] = 0;
    }
    uart_init();
    if (cmdline_has("quick")) {
        /* The benchmark's whole-run guest: no interrupts, APICs or ACPI needed. */
        main();
        finish(failures);
    }
    if (!rsdp_addr) rsdp_addr = find_rsdp();
    idt_init();
    pic_mask_all();
    lapic_init();
    int n = acpi_cpus(cpu_apic_ids, MAX_CPUS);
    if (n > 0) ncpus = n; else cpu_apic_ids[0] = (u8)lapic_id();
    main();
    finish(failures);
}
