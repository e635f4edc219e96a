/* Minimal virtio-mmio driver (see virtio.h). */
#include "virtio.h"

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEV_FEAT 0x010
#define R_DEV_FEAT_SEL 0x014
#define R_DRV_FEAT 0x020
#define R_DRV_FEAT_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INT_STATUS 0x060
#define R_INT_ACK 0x064
#define R_STATUS 0x070
#define R_DESC_LO 0x080
#define R_DESC_HI 0x084
#define R_AVAIL_LO 0x090
#define R_AVAIL_HI 0x094
#define R_USED_LO 0x0a0
#define R_USED_HI 0x0a4
#define R_CONFIG 0x100

static u32 rd(struct vdev *d, u32 r) { return mmio_read32(d->base + r); }
static void wr(struct vdev *d, u32 r, u32 v) { mmio_write32(d->base + r, v); }

int virtio_find(u32 id, int nth, struct vdev *d) {
    for (int s = 0; s < VIRTIO_SLOTS; s++) {
        u64 b = VIRTIO_MMIO_BASE + (u64)s * VIRTIO_MMIO_SIZE;
        if (mmio_read32(b + R_MAGIC) != 0x74726976 || mmio_read32(b + R_VERSION) != 2) continue;
        if (mmio_read32(b + R_DEVICE_ID) != id) continue;
        if (nth-- > 0) continue;
        memset(d, 0, sizeof *d);
        d->base = b; d->slot = s; d->id = id;
        return 1;
    }
    return 0;
}

u32 virtio_cfg32(struct vdev *d, u32 off) { return rd(d, R_CONFIG + off); }
u8 virtio_cfg8(struct vdev *d, u32 off) { return mmio_read8(d->base + R_CONFIG + off); }

int virtio_init(struct vdev *d, u64 wanted, struct vq *queues, int nq) {
    wr(d, R_STATUS, 0);
    wr(d, R_STATUS, 1);            /* ACKNOWLEDGE */
    wr(d, R_STATUS, 1 | 2);        /* DRIVER */
    wr(d, R_DEV_FEAT_SEL, 0);
    u64 f = rd(d, R_DEV_FEAT);
    wr(d, R_DEV_FEAT_SEL, 1);
    f |= (u64)rd(d, R_DEV_FEAT) << 32;
    u64 use = (f & wanted) | (1UL << 32);
    if (!(f & (1UL << 32))) return 0;
    wr(d, R_DRV_FEAT_SEL, 0); wr(d, R_DRV_FEAT, (u32)use);
    wr(d, R_DRV_FEAT_SEL, 1); wr(d, R_DRV_FEAT, (u32)(use >> 32));
    wr(d, R_STATUS, 1 | 2 | 8);    /* FEATURES_OK */
    if (!(rd(d, R_STATUS) & 8)) return 0;
    d->features = use;
    d->q = queues;
    d->nq = nq;
    for (int i = 0; i < nq; i++) {
        struct vq *q = &queues[i];
        memset(q, 0, sizeof *q);
        wr(d, R_QUEUE_SEL, i);
        if (rd(d, R_QUEUE_NUM_MAX) < QSZ) return 0;
        wr(d, R_QUEUE_NUM, QSZ);
        wr(d, R_DESC_LO, (u32)(u64)q->desc); wr(d, R_DESC_HI, (u32)((u64)q->desc >> 32));
        wr(d, R_AVAIL_LO, (u32)(u64)&q->avail); wr(d, R_AVAIL_HI, (u32)((u64)&q->avail >> 32));
        wr(d, R_USED_LO, (u32)(u64)&q->used); wr(d, R_USED_HI, (u32)((u64)&q->used >> 32));
        wr(d, R_QUEUE_READY, 1);
    }
    wr(d, R_STATUS, 1 | 2 | 8 | 4); /* DRIVER_OK */
    return (rd(d, R_STATUS) & 0x40) == 0;
}

static struct vdev *irq_devs[256];
static void virtio_isr(struct frame *f) {
    struct vdev *d = irq_devs[f->vector];
    if (d) {
        u32 s = rd(d, R_INT_STATUS);
        wr(d, R_INT_ACK, s);
        d->irqs++;
    }
    lapic_eoi();
}
void virtio_use_irq(struct vdev *d, int vector) {
    irq_devs[vector] = d;
    set_handler(vector, virtio_isr);
    ioapic_route(16 + d->slot, vector, 0, lapic_id());
    d->use_irq = 1;
}

void vq_desc(struct vdev *d, int qi, u16 i, u64 addr, u32 len, u16 flags, u16 next) {
    struct vring_desc *x = &d->q[qi].desc[i];
    x->addr = addr; x->len = len; x->flags = flags; x->next = next;
}

void vq_push(struct vdev *d, int qi, u16 head) {
    struct vq *q = &d->q[qi];
    q->avail.ring[q->avail.idx % QSZ] = head;
    mb();
    q->avail.idx++;
    mb();
    wr(d, R_QUEUE_NOTIFY, qi);
}

int vq_wait(struct vdev *d, int qi, u32 *id, u32 *len, u64 ms) {
    struct vq *q = &d->q[qi];
    u64 deadline = rdtsc() + ms * 3000000UL;
    while (*(volatile u16 *)&q->used.idx == q->last_used) {
        if (rdtsc() > deadline) return 0;
        if (d->use_irq) wait_irq(); else cpu_relax();
    }
    mb();
    struct vring_used_elem e = q->used.ring[q->last_used % QSZ];
    q->last_used++;
    if (id) *id = e.id;
    if (len) *len = e.len;
    return 1;
}
