/* crash: a triple fault on purpose. Prints the address of the faulting instruction, loads
   an empty IDT and executes ud2: #UD cannot be delivered, nor can #DF, so the CPU shuts
   down. remu must report the rip and the instruction bytes and exit non-zero. */
#include "rt/rt.h"

extern char crash_here[];

int main(void) {
    struct { u16 limit; u64 base; } __attribute__((packed)) empty = { 0, 0 };
    printf("crash: ud2 at %p\n", (void *)crash_here);
    __asm__ volatile("lidt %0\n\t.globl crash_here\ncrash_here:\n\tud2" : : "m"(empty));
    printf("FAIL: still running\n");
    return 1;
}
