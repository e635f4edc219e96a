/* crash: a triple fault on purpose. Prints the address of the faulting instruction, loads
   an empty IDT and executes ud2: #UD cannot be delivered, nor can #DF, so the CPU shuts
   down. remu must report the rip and the instruction bytes and exit non-zero.
   With "cmpxchg16b" on the command line it instead runs `lock cmpxchg16b`, which hardware
   KVM executes (the guest then says so and exits through isa-debug-exit with 9) and which
   kvm-pvm's instruction emulator cannot (a KVM internal error remu must report). */
#include "rt/rt.h"

extern char crash_here[], cx16_here[];

static u64 pair[2] __attribute__((aligned(16)));

int main(void) {
    if (cmdline_has("cmpxchg16b")) {
        printf("crash: lock cmpxchg16b at %p\n", (void *)cx16_here);
        u64 lo = 0, hi = 0;
        __asm__ volatile(".globl cx16_here\ncx16_here:\n\tlock cmpxchg16b %0"
                         : "+m"(pair[0]), "+a"(lo), "+d"(hi) : "b"(1UL), "c"(2UL) : "memory", "cc");
        printf("cmpxchg16b ran natively: %lu %lu\n", pair[0], pair[1]);
        debug_exit(9);
    }
    struct { u16 limit; u64 base; } __attribute__((packed)) empty = { 0, 0 };
    printf("crash: ud2 at %p\n", (void *)crash_here);
    __asm__ volatile("lidt %0\n\t.globl crash_here\ncrash_here:\n\tud2" : : "m"(empty));
    printf("FAIL: still running\n");
    return 1;
}
