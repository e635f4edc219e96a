/* rng: reads entropy from virtio-rng twice and checks it is neither zero nor repeated. */
#include "rt/rt.h"
#include "rt/virtio.h"

static struct vq queues[1];
static struct vdev dev;
static u8 a[64], b[64];

static u32 get(u8 *p, u32 n) {
    vq_desc(&dev, 0, 0, (u64)p, n, VRING_DESC_F_WRITE, 0);
    vq_push(&dev, 0, 0);
    u32 len = 0;
    if (!vq_wait(&dev, 0, 0, &len, 10000)) return 0;
    return len;
}

int main(void) {
    if (!virtio_find(4, 0, &dev)) { CHECK(0, "virtio-rng device found"); return 0; }
    CHECK(virtio_init(&dev, 0, queues, 1), "virtio-rng initialised in slot %d", dev.slot);
    u32 na = get(a, sizeof a), nb = get(b, sizeof b);
    int nonzero = 0;
    for (int i = 0; i < 64; i++) nonzero |= a[i];
    CHECK(na == 64 && nb == 64, "rng: got %u and %u bytes", na, nb);
    CHECK(nonzero && memcmp(a, b, 64), "rng: bytes are random");
    printf("rng: %02x%02x%02x%02x...\n", a[0], a[1], a[2], a[3]);
    return 0;
}
