/* net: virtio-net over a tap. Resolves the peer's MAC with ARP, then pings it with ICMP
   echo and waits for the reply. Command line: ip=A.B.C.D (ours, default 10.0.2.15),
   peer=A.B.C.D (default 10.0.2.2). Answers ARP requests for its own address. */
#include "rt/rt.h"
#include "rt/virtio.h"

#define F_MAC (1UL << 5)
#define NRX 8
#define BUFSZ 2048

static struct vq queues[2];
static struct vdev dev;
static u8 rxbuf[NRX][BUFSZ];
static u8 txbuf[BUFSZ];
static u8 mac[6], peer_mac[6];
static u32 my_ip, peer_ip;

static u32 parse_ip(const char *key, u32 dflt) {
    char b[32];
    if (!cmdline_get(key, b, sizeof b)) return dflt;
    u32 v = 0, part = 0; int dots = 0;
    for (char *p = b; ; p++) {
        if (*p >= '0' && *p <= '9') { part = part * 10 + (*p - '0'); continue; }
        v = (v << 8) | (part & 0xff); part = 0;
        if (*p == '.') { dots++; continue; }
        break;
    }
    return dots == 3 ? v : dflt;
}
static void put16(u8 *p, u16 v) { p[0] = v >> 8; p[1] = (u8)v; }
static void put32(u8 *p, u32 v) { put16(p, v >> 16); put16(p + 2, (u16)v); }
static u16 get16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static u32 get32(const u8 *p) { return (u32)get16(p) << 16 | get16(p + 2); }
static u16 csum(const u8 *p, int n) {
    u32 s = 0;
    for (int i = 0; i + 1 < n; i += 2) s += get16(p + i);
    if (n & 1) s += p[n - 1] << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return (u16)~s;
}

static void post_rx(int i) {
    vq_desc(&dev, 0, i, (u64)rxbuf[i], BUFSZ, VRING_DESC_F_WRITE, 0);
    vq_push(&dev, 0, i);
}

static void send(int len) {
    vq_desc(&dev, 1, 0, (u64)txbuf, 12 + len, 0, 0);
    vq_push(&dev, 1, 0);
    if (!vq_wait(&dev, 1, 0, 0, 5000)) printf("net: transmit timed out\n");
}

/* Ethernet frame in txbuf after the 12-byte virtio-net header. */
static u8 *eth(const u8 *dst, u16 type) {
    memset(txbuf, 0, 12);
    u8 *e = txbuf + 12;
    memcpy(e, dst, 6); memcpy(e + 6, mac, 6); put16(e + 12, type);
    return e + 14;
}

static void arp(u16 op, const u8 *tha, u32 tpa) {
    static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    u8 *a = eth(op == 1 ? bcast : tha, 0x0806);
    put16(a, 1); put16(a + 2, 0x0800); a[4] = 6; a[5] = 4; put16(a + 6, op);
    memcpy(a + 8, mac, 6); put32(a + 14, my_ip);
    memcpy(a + 18, op == 1 ? (const u8 *)"\0\0\0\0\0\0" : tha, 6); put32(a + 24, tpa);
    send(14 + 28);
}

static void ping(u16 seq) {
    u8 *ip = eth(peer_mac, 0x0800);
    int plen = 8 + 32;
    memset(ip, 0, 20);
    ip[0] = 0x45; put16(ip + 2, 20 + plen); put16(ip + 4, seq); ip[8] = 64; ip[9] = 1;
    put32(ip + 12, my_ip); put32(ip + 16, peer_ip);
    put16(ip + 10, csum(ip, 20));
    u8 *ic = ip + 20;
    memset(ic, 0, plen);
    ic[0] = 8; put16(ic + 4, 0x7265); put16(ic + 6, seq);
    for (int i = 8; i < plen; i++) ic[i] = (u8)i;
    put16(ic + 2, csum(ic, plen));
    send(14 + 20 + plen);
}

/* Handles one received frame; returns 1 for an ARP reply from the peer, 2 for our echo
   reply. */
static int handle(const u8 *f, u32 len) {
    if (len < 14) return 0;
    u16 type = get16(f + 12);
    const u8 *p = f + 14;
    if (type == 0x0806 && len >= 14 + 28) {
        u16 op = get16(p + 6);
        if (op == 1 && get32(p + 24) == my_ip) arp(2, p + 8, get32(p + 14));
        if (op == 2 && get32(p + 14) == peer_ip) { memcpy(peer_mac, p + 8, 6); return 1; }
    }
    if (type == 0x0800 && len >= 14 + 20 + 8 && p[9] == 1) {
        const u8 *ic = p + (p[0] & 0xf) * 4;
        if (get32(p + 12) == peer_ip && ic[0] == 0 && get16(ic + 4) == 0x7265) return 2;
    }
    return 0;
}

/* Handles received frames for up to `ms` milliseconds; 1 when `what` arrived. */
static int wait_for(int what, u64 ms) {
    u64 deadline = rdtsc() + ms * 3000000UL;
    while (rdtsc() < deadline) {
        u32 id, len;
        if (!vq_wait(&dev, 0, &id, &len, 100)) continue;
        int r = len > 12 && id < NRX ? handle(rxbuf[id] + 12, len - 12) : 0;
        post_rx((int)id);
        if (r == what) return 1;
    }
    return 0;
}

int main(void) {
    my_ip = parse_ip("ip", 0x0a00020f);
    peer_ip = parse_ip("peer", 0x0a000202);
    if (!virtio_find(1, 0, &dev)) { CHECK(0, "virtio-net device found"); return 0; }
    CHECK(virtio_init(&dev, F_MAC, queues, 2), "virtio-net initialised in slot %d", dev.slot);
    for (int i = 0; i < 6; i++) mac[i] = virtio_cfg8(&dev, i);
    printf("net: mac %02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    for (int i = 0; i < NRX; i++) post_rx(i);
    int got = 0;
    for (int attempt = 0; attempt < 5 && !got; attempt++) {
        arp(1, 0, peer_ip);
        got = wait_for(1, 2000);
    }
    CHECK(got, "net: ARP reply from peer (mac %02x:%02x:%02x:%02x:%02x:%02x)",
          peer_mac[0], peer_mac[1], peer_mac[2], peer_mac[3], peer_mac[4], peer_mac[5]);
    if (!got) return 0;
    got = 0;
    for (u16 seq = 1; seq <= 5 && !got; seq++) {
        ping(seq);
        got = wait_for(2, 2000);
    }
    CHECK(got, "net: ping reply from peer");
    return 0;
}
