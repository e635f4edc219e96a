/* blk: a virtio-blk driver exercise. Reads sectors 0..7 and checks the test pattern
   (byte i of sector s = (s * 7 + i * 13) & 0xff), writes sectors 8..11 and reads them back,
   flushes, discards sectors 16..23 when the device offers it, asks for the device ID, then
   submits malformed chains (buffer outside RAM, wrong direction, a loop, a next index past
   the table, a device-readable status byte) and checks each fails while the device keeps
   working. Completions arrive as interrupts on GSI 16 + slot. */
#include "rt/rt.h"
#include "rt/virtio.h"

#define F_RO (1UL << 5)
#define F_FLUSH (1UL << 9)
#define F_DISCARD (1UL << 13)
#define F_BLK_SIZE (1UL << 6)
#define F_SEG_MAX (1UL << 2)

static struct vq queues[1];
static struct vdev dev;
static struct { u32 type, reserved; u64 sector; } hdr;
static u8 data[8 * 512] __attribute__((aligned(512)));
static volatile u8 st;

static void tick(struct frame *f) { lapic_eoi(); }

/* One request: header, one data buffer (flags), status. Returns the status byte, or
   -1 when the device completed it with used length 0, -2 on timeout. */
static int request(u32 type, u64 sector, void *buf, u32 len, u16 dflags, u32 *used) {
    hdr.type = type; hdr.reserved = 0; hdr.sector = sector;
    st = 0xff;
    int n = 0;
    vq_desc(&dev, 0, n, (u64)&hdr, 16, VRING_DESC_F_NEXT, n + 1); n++;
    if (len) { vq_desc(&dev, 0, n, (u64)buf, len, dflags | VRING_DESC_F_NEXT, n + 1); n++; }
    vq_desc(&dev, 0, n, (u64)&st, 1, VRING_DESC_F_WRITE, 0);
    vq_push(&dev, 0, 0);
    u32 id, l;
    if (!vq_wait(&dev, 0, &id, &l, 5000)) return -2;
    if (used) *used = l;
    return l == 0 ? -1 : st;
}

static void fill_msg(u8 *p, int sector) {
    memset(p, 0, 512);
    snprintf((char *)p, 512, "remu-blk-write sector %d", sector);
}

int main(void) {
    if (!virtio_find(2, 0, &dev)) { CHECK(0, "virtio-blk device found"); return 0; }
    int ok = virtio_init(&dev, F_RO | F_FLUSH | F_DISCARD | F_BLK_SIZE | F_SEG_MAX, queues, 1);
    CHECK(ok, "virtio-blk initialised in slot %d", dev.slot);
    if (!ok) return 0;
    set_handler(0x40, tick);
    lapic_timer_periodic(0x40, 625000);     /* 10 ms: bounds every wait */
    virtio_use_irq(&dev, 0x50 + dev.slot);
    u64 cap = virtio_cfg32(&dev, 0) | ((u64)virtio_cfg32(&dev, 4) << 32);
    int ro = !!(dev.features & F_RO), disc = !!(dev.features & F_DISCARD);
    printf("blk: capacity %lu sectors, ro=%d, discard=%d\n", cap, ro, disc);

    int s = request(0, 0, data, 8 * 512, VRING_DESC_F_WRITE, 0);
    int good = s == 0;
    for (int i = 0; i < 8 * 512 && good; i++) good = data[i] == (u8)((i / 512) * 7 + (i % 512) * 13);
    CHECK(good, "blk read pattern (status %d)", s);

    for (int i = 0; i < 4; i++) fill_msg(data + 512 * i, 8 + i);
    s = request(1, 8, data, 4 * 512, 0, 0);
    printf("blk write status: %d\n", s);
    CHECK(ro ? s == 1 : s == 0, "blk write %s", ro ? "refused" : "accepted");
    memset(data, 0, sizeof data);
    s = request(0, 8, data, 4 * 512, VRING_DESC_F_WRITE, 0);
    u8 want[512];
    good = s == 0;
    for (int i = 0; i < 4 && good && !ro; i++) { fill_msg(want, 8 + i); good = !memcmp(data + 512 * i, want, 512); }
    if (!ro) CHECK(good, "blk read-back of written sectors");
    CHECK(request(4, 0, 0, 0, 0, 0) == 0, "blk flush");
    if (disc) {
        struct { u64 sector; u32 num, flags; } seg = { 16, 8, 0 };
        CHECK(request(11, 0, &seg, 16, 0, 0) == 0, "blk discard");
        s = request(0, 16, data, 8 * 512, VRING_DESC_F_WRITE, 0);
        good = s == 0;
        for (int i = 0; i < 8 * 512 && good; i++) good = data[i] == 0;
        CHECK(good, "blk discarded sectors read as zeros");
    }
    char id[21] = { 0 };
    u32 used = 0;
    s = request(8, 0, id, 20, VRING_DESC_F_WRITE, &used);
    printf("blk id: %s\n", id);
    CHECK(s == 0 && used >= 2, "blk get-id");

    /* Malformed chains. */
    CHECK(request(0, 0, (void *)0x700000000UL, 512, VRING_DESC_F_WRITE, 0) == 1,
          "malformed: buffer outside RAM -> IOERR");
    CHECK(request(0, 0, data, 512, 0, 0) == 1, "malformed: read into a device-readable buffer -> IOERR");
    CHECK(request(1, 0, data, 512, VRING_DESC_F_WRITE, 0) == 1,
          "malformed: write from a device-writable buffer -> IOERR");
    /* A loop: header -> data -> status -> data ... */
    hdr.type = 0; hdr.sector = 0; st = 0xff;
    vq_desc(&dev, 0, 0, (u64)&hdr, 16, VRING_DESC_F_NEXT, 1);
    vq_desc(&dev, 0, 1, (u64)data, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
    vq_desc(&dev, 0, 2, (u64)&st, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
    vq_push(&dev, 0, 0);
    u32 l = 99;
    int done = vq_wait(&dev, 0, 0, &l, 5000);
    CHECK(done && l == 0 && st == 0xff, "malformed: descriptor loop -> used length 0, nothing written");
    /* next index past the table */
    vq_desc(&dev, 0, 1, (u64)data, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 999);
    vq_push(&dev, 0, 0);
    done = vq_wait(&dev, 0, 0, &l, 5000);
    CHECK(done && l == 0, "malformed: next index past the table -> used length 0");
    /* status buffer the device may not write */
    vq_desc(&dev, 0, 1, (u64)data, 512, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 2);
    vq_desc(&dev, 0, 2, (u64)&st, 1, 0, 0);
    st = 0xff;
    vq_push(&dev, 0, 0);
    done = vq_wait(&dev, 0, 0, &l, 5000);
    CHECK(done && l == 0 && st == 0xff, "malformed: device-readable status -> used length 0");

    s = request(0, 1, data, 512, VRING_DESC_F_WRITE, 0);
    good = s == 0;
    for (int i = 0; i < 512 && good; i++) good = data[i] == (u8)(7 + i * 13);
    CHECK(good, "device still works after malformed requests");
    /* Completions that arrived while the guest was not halted wait in the local APIC. */
    sti();
    for (int i = 0; i < 1000 && !dev.irqs; i++) cpu_relax();
    cli();
    CHECK(dev.irqs > 0, "completions interrupted the guest (%d interrupts)", dev.irqs);
    lapic_timer_stop();
    return 0;
}
