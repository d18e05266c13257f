/*
 * AF_PACKET backend: a TPACKET_V2 TX ring with PACKET_QDISC_BYPASS (frames go straight to the driver)
 * and a TPACKET_V3 RX ring (block based, kernel RX timestamps). TX and RX use separate sockets so the
 * TX socket never receives and the RX socket binds to the one interface only.
 *
 * TX frames up to VSG_LINEAR_MAX bytes go out as one linear skb: the TX socket has PACKET_VNET_HDR, and
 * the virtio_net_hdr in front of each ring frame says "hdr_len = the whole frame", so the kernel copies
 * the frame into the skb head. Without it the kernel copies 14 bytes and attaches the rest of the ring
 * page as a fragment, which a veth then copies again into a freshly allocated page (skb_copy_ubufs) and
 * frees after delivery: at 64 B skb_copy_ubufs alone took 11 % of the TX core. Larger
 * frames keep the fragment (hdr_len 0). Kernels before 4.11 accept PACKET_VNET_HDR but their TX ring
 * ignores it (the header would go out as frame bytes), so there, and where the option is refused, the
 * plain layout is used.
 * The TX ring's frame size is the smallest that holds this port's largest frame (cache footprint).
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "vsg.h"

/* Frames up to this length (without FCS) are copied whole into the skb head (see above). */
#define VSG_LINEAR_MAX 2048

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct io_port {
  int txfd, rxfd;
  /* TX ring */
  uint8_t *txring;
  size_t txmap;
  struct tpacket2_hdr **tx_slot; /* tx_nr slot addresses */
  unsigned tx_frame_size, tx_nr, tx_head, tx_reserved;
  unsigned tx_data;  /* offset of the frame in a ring slot (after the virtio_net_hdr when vnet) */
  int vnet;          /* PACKET_VNET_HDR is on: a virtio_net_hdr precedes each frame */
  uint64_t tx_err;
  /* RX ring */
  uint8_t *rxring;
  size_t rxmap;
  unsigned rx_block_size, rx_block_nr, rx_cur;
  uint64_t rx_drops;
};

static int bind_if(int fd, int ifindex, int proto) {
  struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(proto), .sll_ifindex = ifindex};
  return bind(fd, (struct sockaddr *)&sll, sizeof sll);
}

/* The TX ring honours the virtio_net_hdr from Linux 4.11 on (tpacket_snd gso/csum offload). */
static int tx_ring_vnet_ok(void) {
  struct utsname u;
  int major = 0, minor = 0;
  if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2) return 0;
  return major > 4 || (major == 4 && minor >= 11);
}

static int open_tx(struct io_port *io, const struct port *p, const struct engine *e, char *msg, size_t ml) {
  int v = TPACKET_V2, one = 1;
  io->txfd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: this socket receives nothing */
  if (io->txfd < 0) return snprintf(msg, ml, "socket(AF_PACKET): %s", strerror(errno)), -errno;
  if (setsockopt(io->txfd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) return snprintf(msg, ml, "PACKET_VERSION: %s", strerror(errno)), -errno;
  /* Every frame in flight is charged to the send buffer until the receiver consumed it; a small
   * buffer makes the kernel stop walking the ring (EAGAIN) whenever the receiver lags. */
  int sndbuf = (int)(e->ring_frames * 2048u);
  if (setsockopt(io->txfd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0) setsockopt(io->txfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  if (setsockopt(io->txfd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0)
    return snprintf(msg, ml, "PACKET_QDISC_BYPASS: %s", strerror(errno)), -errno;
  /* Must precede PACKET_TX_RING; optional (EINVAL/ENOPROTOOPT on kernels without it). */
  io->vnet = tx_ring_vnet_ok() && setsockopt(io->txfd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) == 0;
  io->tx_data = (unsigned)(TPACKET2_HDRLEN - sizeof(struct sockaddr_ll)) + (io->vnet ? (unsigned)sizeof(struct virtio_net_hdr) : 0u);
  /* Slot = header + this port's largest frame, rounded up to a cache line. */
  unsigned maxlen = 0, pi = (unsigned)(p - e->ports);
  for (int s = 0; s < e->nstreams; s++)
    if (e->streams[s].tx_port == (int)pi)
      for (unsigned k = 0; k < e->streams[s].nsizes; k++)
        if (e->streams[s].sizes[k] > maxlen) maxlen = e->streams[s].sizes[k];
  if (maxlen == 0) maxlen = (unsigned)p->mtu + 18;
  io->tx_frame_size = (io->tx_data + maxlen + 63u) & ~63u;
  /* 64 KiB blocks (a page multiple, as the kernel wants); a block's tail that holds no whole frame stays unused. */
  unsigned block = 65536;
  while (block < io->tx_frame_size) block <<= 1;
  unsigned per_block = block / io->tx_frame_size;
  unsigned nr = e->ring_frames;
  if (nr < per_block) nr = per_block;
  nr = nr / per_block * per_block;
  struct tpacket_req req = {.tp_block_size = block, .tp_block_nr = nr / per_block, .tp_frame_size = io->tx_frame_size, .tp_frame_nr = nr};
  if (setsockopt(io->txfd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req) < 0) return snprintf(msg, ml, "PACKET_TX_RING: %s", strerror(errno)), -errno;
  io->tx_nr = nr;
  io->txmap = (size_t)block * req.tp_block_nr;
  io->txring = mmap(NULL, io->txmap, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, io->txfd, 0);
  if (io->txring == MAP_FAILED) return io->txring = NULL, snprintf(msg, ml, "mmap TX ring: %s", strerror(errno)), -errno;
  io->tx_slot = malloc(sizeof *io->tx_slot * nr);
  if (!io->tx_slot) return snprintf(msg, ml, "out of memory"), -ENOMEM;
  for (unsigned i = 0; i < nr; i++) io->tx_slot[i] = (struct tpacket2_hdr *)(io->txring + (size_t)(i / per_block) * block + (size_t)(i % per_block) * io->tx_frame_size);
  if (bind_if(io->txfd, p->ifindex, 0) < 0) return snprintf(msg, ml, "bind TX %s: %s", p->name, strerror(errno)), -errno;
  return 0;
}

static int open_rx(struct io_port *io, const struct port *p, const struct engine *e, char *msg, size_t ml) {
  int v = TPACKET_V3, one = 1;
  io->rxfd = socket(AF_PACKET, SOCK_RAW, 0); /* bound to ETH_P_ALL on the interface only after the ring exists */
  if (io->rxfd < 0) return snprintf(msg, ml, "socket(AF_PACKET): %s", strerror(errno)), -errno;
  if (setsockopt(io->rxfd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) return snprintf(msg, ml, "PACKET_VERSION: %s", strerror(errno)), -errno;
  setsockopt(io->rxfd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one); /* kernels >= 4.20; else filtered below */
  /* Many small blocks: the kernel hands a block over when it is full or after tp_retire_blk_tov, so at
   * low rates each block holds only a few frames. 256 x 64 KiB (for 4096 ring frames) buffer about
   * 2.5 s at low rates and ~128k 64-byte frames at high rates while the RX thread is not scheduled. */
  io->rx_block_size = 1u << 16;
  while (io->rx_block_size < (unsigned)p->mtu * 4u) io->rx_block_size <<= 1;
  unsigned nr = e->ring_frames / 16;
  io->rx_block_nr = nr < 64 ? 64 : nr;
  struct tpacket_req3 req = {
      .tp_block_size = io->rx_block_size,
      .tp_block_nr = io->rx_block_nr,
      .tp_frame_size = 2048,
      .tp_frame_nr = io->rx_block_size / 2048 * io->rx_block_nr,
      .tp_retire_blk_tov = 10, /* ms; latency uses kernel timestamps, so this only delays counting */
  };
  if (setsockopt(io->rxfd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) return snprintf(msg, ml, "PACKET_RX_RING: %s", strerror(errno)), -errno;
  io->rxmap = (size_t)io->rx_block_size * io->rx_block_nr;
  io->rxring = mmap(NULL, io->rxmap, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, io->rxfd, 0);
  if (io->rxring == MAP_FAILED) return io->rxring = NULL, snprintf(msg, ml, "mmap RX ring: %s", strerror(errno)), -errno;
  if (bind_if(io->rxfd, p->ifindex, ETH_P_ALL) < 0) return snprintf(msg, ml, "bind RX %s: %s", p->name, strerror(errno)), -errno;
  return 0;
}

static void afp_close(struct io_port *io) {
  if (!io) return;
  if (io->txring) munmap(io->txring, io->txmap);
  if (io->rxring) munmap(io->rxring, io->rxmap);
  free(io->tx_slot);
  if (io->txfd >= 0) close(io->txfd);
  if (io->rxfd >= 0) close(io->rxfd);
  free(io);
}

static int afp_open(struct port *p, const struct engine *e, char *msg, size_t ml) {
  struct io_port *io = calloc(1, sizeof *io);
  if (!io) return -ENOMEM;
  io->txfd = io->rxfd = -1;
  int rc = 0;
  if (p->needs_tx) rc = open_tx(io, p, e, msg, ml);
  if (rc == 0 && p->needs_rx) rc = open_rx(io, p, e, msg, ml);
  if (rc) {
    afp_close(io);
    return rc;
  }
  p->io = io;
  return 0;
}

/* Slot i places after the head (i <= tx_nr). */
static inline unsigned tx_index(const struct io_port *io, unsigned i) {
  unsigned j = io->tx_head + i;
  return j >= io->tx_nr ? j - io->tx_nr : j;
}

static unsigned afp_tx_reserve(struct io_port *io, unsigned n, uint8_t **bufs, uint32_t *slots) {
  unsigned got = 0;
  if (n > io->tx_nr) n = io->tx_nr;
  for (; got < n; got++) {
    unsigned i = tx_index(io, got);
    struct tpacket2_hdr *h = io->tx_slot[i];
    unsigned st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if (st == TP_STATUS_WRONG_FORMAT) { /* the kernel refused a frame: count it, reuse the slot */
      io->tx_err++;
      h->tp_status = TP_STATUS_AVAILABLE;
    } else if (st != TP_STATUS_AVAILABLE) {
      break;
    }
    bufs[got] = (uint8_t *)h + io->tx_data;
    slots[got] = i;
  }
  io->tx_reserved = got;
  if (got == 0) { /* ring full: kick the kernel so completions happen, then let the caller retry */
    sendto(io->txfd, NULL, 0, MSG_DONTWAIT, NULL, 0);
  }
  return got;
}

static void afp_tx_submit(struct io_port *io, unsigned n, const uint16_t *lens) {
  for (unsigned i = 0; i < n; i++) {
    struct tpacket2_hdr *h = io->tx_slot[tx_index(io, i)];
    if (io->vnet) { /* flags and gso_type stay 0 (the ring is zeroed): only hdr_len */
      struct virtio_net_hdr *vh = (struct virtio_net_hdr *)((uint8_t *)h + TPACKET2_HDRLEN - sizeof(struct sockaddr_ll));
      vh->hdr_len = lens[i] <= VSG_LINEAR_MAX ? lens[i] : 0; /* host byte order: packet sockets use legacy virtio endianness */
      h->tp_len = lens[i] + (unsigned)sizeof(struct virtio_net_hdr);
    } else {
      h->tp_len = lens[i];
    }
    __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
  }
  io->tx_head = tx_index(io, n);
  for (int tries = 0; tries < 16 && sendto(io->txfd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0; tries++) {
    if (errno == EAGAIN || errno == EINTR) continue; /* send buffer full: frames stay queued, kicked again later */
    io->tx_err++; /* ENOBUFS: the driver dropped one frame; the rest of the ring is still pending */
    if (errno != ENOBUFS) break;
  }
}

static unsigned afp_tx_pending(struct io_port *io) {
  unsigned n = 0;
  for (unsigned i = 0; i < io->tx_nr; i++) {
    unsigned st = __atomic_load_n(&io->tx_slot[i]->tp_status, __ATOMIC_ACQUIRE);
    if (st == TP_STATUS_SEND_REQUEST || st == TP_STATUS_SENDING) n++;
  }
  return n;
}

static unsigned afp_tx_flush(struct io_port *io, int timeout_ms) {
  uint64_t end = now_mono() + (uint64_t)timeout_ms * 1000000ull;
  unsigned n;
  while ((n = afp_tx_pending(io)) > 0 && now_mono() < end) {
    if (sendto(io->txfd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno == ENOBUFS) io->tx_err++;
    struct pollfd pfd = {.fd = io->txfd, .events = POLLOUT};
    poll(&pfd, 1, 1);
  }
  return n;
}

static int afp_rx_poll(struct io_port *io, int timeout_ms, void (*cb)(void *, const uint8_t *, unsigned, uint64_t), void *ctx) {
  int seen = 0;
  for (;;) {
    struct tpacket_block_desc *bd = (struct tpacket_block_desc *)(io->rxring + (size_t)io->rx_cur * io->rx_block_size);
    if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
      if (seen) return seen;
      struct pollfd pfd = {.fd = io->rxfd, .events = POLLIN | POLLERR};
      int r = poll(&pfd, 1, timeout_ms);
      if (r <= 0) return r < 0 && errno != EINTR ? -errno : 0;
      if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) return 0;
    }
    struct tpacket3_hdr *ph = (struct tpacket3_hdr *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
    for (unsigned i = 0; i < bd->hdr.bh1.num_pkts; i++) {
      const struct sockaddr_ll *sll = (const struct sockaddr_ll *)((uint8_t *)ph + TPACKET_ALIGN(sizeof(struct tpacket3_hdr)));
      if (sll->sll_pkttype != PACKET_OUTGOING) {
        /* A VLAN tag is stripped into metadata; the trailer sits at the end of the frame either way. */
        cb(ctx, (uint8_t *)ph + ph->tp_mac, ph->tp_snaplen, (uint64_t)ph->tp_sec * 1000000000ull + ph->tp_nsec);
        seen++;
      }
      ph = (struct tpacket3_hdr *)((uint8_t *)ph + ph->tp_next_offset);
    }
    __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    io->rx_cur = (io->rx_cur + 1) % io->rx_block_nr;
  }
}

static uint64_t afp_tx_errors(struct io_port *io) { return io->tx_err; }

static unsigned afp_tx_slots(struct io_port *io) { return io->tx_nr; }

static uint64_t afp_rx_drops(struct io_port *io) {
  if (io->rxfd < 0) return 0;
  struct tpacket_stats_v3 st;
  socklen_t len = sizeof st;
  if (getsockopt(io->rxfd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) io->rx_drops += st.tp_drops; /* reading resets them */
  return io->rx_drops;
}

const struct io_ops afpacket_ops = {
    .name = "af_packet",
    .open = afp_open,
    .tx_reserve = afp_tx_reserve,
    .tx_submit = afp_tx_submit,
    .tx_slots = afp_tx_slots,
    .tx_flush = afp_tx_flush,
    .rx_poll = afp_rx_poll,
    .tx_errors = afp_tx_errors,
    .rx_drops = afp_rx_drops,
    .close = afp_close,
};
