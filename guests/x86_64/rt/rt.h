/* remu's x86-64 test-guest runtime: port and MMIO access, the 16550 console, printf,
   the boot command line, ACPI (MADT CPUs, FADT power-off), IDT and interrupt
   dispatch, local APIC and I/O APIC, SMP start-up and guest exit. */
#ifndef RT_H
#define RT_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long u64;
typedef long i64;
typedef unsigned long size_t;

#define MAX_CPUS 16
#define TRAMP_ADDR 0x1000

static inline void outb(u16 p, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(p)); }
static inline void outw(u16 p, u16 v) { __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(p)); }
static inline void outl(u16 p, u32 v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(p)); }
static inline u8 inb(u16 p) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline u32 inl(u16 p) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline u32 mmio_read32(u64 a) { return *(volatile u32 *)a; }
static inline void mmio_write32(u64 a, u32 v) { *(volatile u32 *)a = v; }
static inline u8 mmio_read8(u64 a) { return *(volatile u8 *)a; }
static inline void mmio_write8(u64 a, u8 v) { *(volatile u8 *)a = v; }
static inline u64 mmio_read64(u64 a) { return *(volatile u64 *)a; }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void mb(void) { __asm__ volatile("mfence" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
/* sti; hlt: wait for an interrupt without a lost-wakeup window. */
static inline void wait_irq(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }
static inline u64 rdtsc(void) { u32 lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((u64)hi << 32) | lo; }

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

void putchar_locked(char c);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* What the loader handed over: the Linux zero page (kind 0, 64-bit entry) or the PVH
   hvm_start_info (kind 1). */
extern u64 boot_info, boot_kind;

/* Boot command line (-append). */
extern char cmdline[1024];
/* Value of "key=value" on the command line, copied into buf; returns 0 if absent. */
int cmdline_get(const char *key, char *buf, size_t n);
/* Numeric "key=N" (decimal or 0x hex), or dflt. */
u64 cmdline_num(const char *key, u64 dflt);
/* Whether the bare word (or key=...) appears. */
int cmdline_has(const char *word);

/* ACPI */
extern u64 rsdp_addr;
int acpi_cpus(u8 *apic_ids, int max);   /* from the MADT; 0 if none */
int acpi_poweroff(void);                 /* returns only on failure */
int acpi_reset(void);                    /* FADT reset register; returns only on failure */

/* Interrupts */
struct frame {
    u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    u64 vector, error, rip, cs, rflags, rsp, ss;
};
typedef void (*irq_handler)(struct frame *f);
void idt_init(void);
void set_handler(int vector, irq_handler h);
void pic_mask_all(void);

#define LAPIC_BASE 0xfee00000UL
#define IOAPIC_BASE 0xfec00000UL
void lapic_init(void);
void lapic_eoi(void);
u32 lapic_id(void);
void lapic_timer_periodic(int vector, u32 count);
void lapic_timer_stop(void);
void ioapic_route(int pin, int vector, int level, u32 dest_apic);

/* SMP */
extern volatile int cpus_online;
extern int ncpus;
extern u8 cpu_apic_ids[MAX_CPUS];
int smp_start(void (*ap_fn)(int cpu_index)); /* returns number of CPUs running */
int this_cpu(void);

/* Spinlock */
typedef struct { volatile int v; } spinlock_t;
void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);

/* Exit */
void debug_exit(u32 value) __attribute__((noreturn));
void finish(int failures) __attribute__((noreturn));

/* Each program defines this. */
int main(void);

/* Checks: print "ok: ..." or "FAIL: ..." and count failures. */
extern int failures;
#define CHECK(cond, ...) do { if (cond) { printf("ok: "); } else { failures++; printf("FAIL: "); } printf(__VA_ARGS__); printf("\n"); } while (0)

#endif
