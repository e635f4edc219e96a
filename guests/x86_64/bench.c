/* bench: exit round trips for the benchmark script. Command line:
     pio=N     N byte writes to the 16550 scratch register (a port-I/O exit each)
     virtio=N  N one-sector virtio-blk reads, notified through QueueNotify and polled
     spin=N    N iterations of a register-only loop (guest CPU speed, no exits)
   then exits through isa-debug-exit with value 0. The host times whole runs with
   different N; the difference divided by the difference in N is the cost of one. */
#include "rt/rt.h"
#include "rt/virtio.h"

static struct vq queues[1];
static struct vdev dev;
static struct { u32 type, reserved; u64 sector; } hdr;
static u8 data[512];
static volatile u8 st;

int main(void) {
    u64 n = cmdline_num("spin", 0);
    if (n) {
        u64 x = 0, t = rdtsc();
        for (u64 i = 0; i < n; i++) { x = x * 3 + i; __asm__ volatile("" : "+r"(x)); }
        printf("spin: %lu iterations, %lu TSC cycles each (x=%lu)\n", n, (rdtsc() - t) / n, x & 1);
    }
    n = cmdline_num("pio", 0);
    u64 t0 = rdtsc();
    /* The same three instructions as accel-kvm/examples/bare_pio.rs. */
    if (n) __asm__ volatile("1: outb %%al, %%dx\n\tdec %%rcx\n\tjnz 1b" : "+c"(n) : "a"(0), "d"(0x3ff) : "memory");
    n = cmdline_num("pio", 0);
    u64 t1 = rdtsc();
    if (n) printf("pio: %lu exits, %lu TSC cycles each\n", n, (t1 - t0) / n);
    n = cmdline_num("virtio", 0);
    if (n) {
        if (!virtio_find(2, 0, &dev) || !virtio_init(&dev, 0, queues, 1)) {
            printf("bench: no virtio-blk device\n");
            debug_exit(3);
        }
        vq_desc(&dev, 0, 0, (u64)&hdr, 16, VRING_DESC_F_NEXT, 1);
        vq_desc(&dev, 0, 1, (u64)data, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
        vq_desc(&dev, 0, 2, (u64)&st, 1, VRING_DESC_F_WRITE, 0);
        t0 = rdtsc();
        for (u64 i = 0; i < n; i++) {
            hdr.sector = i & 7;
            vq_push(&dev, 0, 0);
            if (!vq_wait(&dev, 0, 0, 0, 10000) || st != 0) { printf("bench: request failed\n"); debug_exit(3); }
        }
        t1 = rdtsc();
        printf("virtio: %lu requests, %lu TSC cycles each\n", n, (t1 - t0) / n);
    }
    debug_exit(0);
}
