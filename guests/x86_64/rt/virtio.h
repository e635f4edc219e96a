/* A minimal virtio-mmio (version 2) driver for the test guests: device discovery in the
   microvm window, feature negotiation, split virtqueues, synchronous requests. */
#ifndef VIRTIO_H
#define VIRTIO_H
#include "rt.h"

#define VIRTIO_MMIO_BASE 0xfeb00000UL
#define VIRTIO_MMIO_SIZE 0x200
#define VIRTIO_SLOTS 24
#define QSZ 16

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2

struct vring_desc { u64 addr; u32 len; u16 flags; u16 next; };
struct vring_avail { u16 flags, idx, ring[QSZ], used_event; };
struct vring_used_elem { u32 id, len; };
struct vring_used { u16 flags, idx; struct vring_used_elem ring[QSZ]; u16 avail_event; };

struct vq {
    struct vring_desc desc[QSZ] __attribute__((aligned(16)));
    struct vring_avail avail __attribute__((aligned(4)));
    struct vring_used used __attribute__((aligned(4)));
    u16 last_used;
};

struct vdev {
    u64 base;
    int slot;
    u32 id;
    u64 features;       /* negotiated */
    int use_irq;
    volatile int irqs;
    struct vq *q;       /* array of nq queues */
    int nq;
};

/* Finds the nth device with this ID; fills base/slot/id. */
int virtio_find(u32 device_id, int nth, struct vdev *d);
/* Resets, negotiates (wanted & offered) | VERSION_1, sets up nq queues, DRIVER_OK. */
int virtio_init(struct vdev *d, u64 wanted, struct vq *queues, int nq);
/* Routes the transport's GSI (16 + slot) to `vector`; completions then wake wait_irq. */
void virtio_use_irq(struct vdev *d, int vector);
u32 virtio_cfg32(struct vdev *d, u32 off);
u8 virtio_cfg8(struct vdev *d, u32 off);
/* Offers the chain at descriptor `head` on queue q and notifies. */
void vq_push(struct vdev *d, int q, u16 head);
/* Waits up to `ms` milliseconds (TSC-timed, assuming a TSC of at most 3 GHz) for the next
   used element; returns 1 and fills id/len, 0 on timeout. */
int vq_wait(struct vdev *d, int q, u32 *id, u32 *len, u64 ms);
/* Sets descriptor i of queue q. */
void vq_desc(struct vdev *d, int q, u16 i, u64 addr, u32 len, u16 flags, u16 next);
#endif
