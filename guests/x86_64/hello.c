/* hello: prints over the 16550, starts every CPU the MADT lists (INIT/SIPI), each prints
   its index and APIC ID, then powers off through the ACPI sleep control register.
   Command line: "quick" prints one line and exits through isa-debug-exit (the benchmark
   guest); "exit=N" ends with isa-debug-exit value N instead of power-off; "reboot=acpi"
   resets through the FADT reset register and "reboot=kbd" through the i8042, as Linux's
   reboot= options do. "bootinfo" prints the memory map and the initrd (address, size and
   byte sum) from the zero page or the PVH start info; "probe=ADDR" writes and reads back a
   pattern at ADDR (identity-mapped up to 8 GiB). */
#include "rt/rt.h"

static volatile int done[MAX_CPUS];

static void bootinfo(void) {
    u64 rd = 0, rs = 0, map = 0, n = 0, esz;
    if (boot_kind == 0) {
        rd = *(u32 *)(boot_info + 0x218);
        rs = *(u32 *)(boot_info + 0x21c);
        n = *(u8 *)(boot_info + 0x1e8);
        map = boot_info + 0x2d0;
        esz = 20;
    } else {
        if (*(u32 *)(boot_info + 12) >= 1) {
            u64 ml = *(u64 *)(boot_info + 16);
            rd = *(u64 *)ml;
            rs = *(u64 *)(ml + 8);
        }
        map = *(u64 *)(boot_info + 40);
        n = *(u32 *)(boot_info + 48);
        esz = 24;
    }
    printf("boot protocol: %s\n", boot_kind ? "pvh" : "zero page");
    for (u64 i = 0; i < n; i++) {
        u64 e = map + i * esz;
        printf("memory map: %lx-%lx type %u\n", *(u64 *)e, *(u64 *)e + *(u64 *)(e + 8), *(u32 *)(e + 16));
    }
    u32 sum = 0;
    for (u64 i = 0; i < rs; i++) sum += *(volatile u8 *)(rd + i);
    printf("initrd: %lu bytes at %lx, byte sum %u\n", rs, rd, sum);
}

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
    if (cmdline_has("bootinfo")) bootinfo();
    u64 probe = cmdline_num("probe", 0);
    if (probe) {
        volatile u64 *p = (volatile u64 *)probe;
        *p = 0x72656d7550524f42UL ^ probe;
        CHECK(*p == (0x72656d7550524f42UL ^ probe), "probe: RAM at %lx reads back", probe);
    }
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
