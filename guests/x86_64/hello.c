/* hello: prints over the 16550, starts every CPU the MADT lists (INIT/SIPI), each prints
   its index and APIC ID, then powers off through the ACPI sleep control register.
   Command line: "quick" prints one line and exits through isa-debug-exit (the benchmark
   guest); "exit=N" ends with isa-debug-exit value N instead of power-off; "reboot=acpi"
   resets through the FADT reset register and "reboot=kbd" through the i8042, as Linux's
   reboot= options do. */
#include "rt/rt.h"

static volatile int done[MAX_CPUS];

static void ap(int cpu) {
    printf("cpu %d online (apic id %u)\n", cpu, lapic_id());
    done[cpu] = 1;
}

int main(void) {
    if (cmdline_has("quick")) {
        printf("hello from remu guest\n");
        debug_exit((u32)cmdline_num("quick", 0));
    }
    printf("hello from remu guest (cmdline: \"%s\")\n", cmdline);
    printf("cpus in MADT: %d\n", ncpus);
    printf("cpu 0 online (apic id %u)\n", lapic_id());
    int up = smp_start(ap);
    for (int i = 1; i < ncpus; i++)
        for (long w = 0; w < 50000000 && !done[i]; w++) cpu_relax();
    int n = 1;
    for (int i = 1; i < ncpus; i++) n += done[i];
    CHECK(up == ncpus && n == ncpus, "all %d cpus up", ncpus);
    char how[8];
    if (cmdline_get("reboot", how, sizeof how)) {
        printf("rebooting (%s)\n", how);
        if (!strncmp(how, "kbd", 4)) outb(0x64, 0xfe);
        else acpi_reset();
        CHECK(0, "reboot did not happen");
    }
    return 0;
}
