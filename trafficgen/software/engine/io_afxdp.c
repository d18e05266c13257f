/*
 * AF_XDP backend (libxdp's xsk API): one XDP socket on queue 0 per port, one UMEM split in two halves:
 * TX frames (free list, recycled from the completion ring) and RX frames (fill ring). The TX thread
 * owns the TX + completion rings, the RX thread the RX + fill rings, so no locks are needed.
 * On veth this runs in copy mode (native or generic XDP, whichever libxdp manages to attach).
 * Frames must fit one UMEM frame (4 KiB minus headroom): jumbo frames need af_packet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "vsg.h"

#ifndef VSG_HAVE_XDP
static int xdp_unavailable(struct port *p, const struct engine *e, char *msg, size_t ml) {
  (void)p;
  (void)e;
  snprintf(msg, ml, "built without libxdp");
  return -EOPNOTSUPP;
}
const struct io_ops afxdp_ops = {.name = "af_xdp", .open = xdp_unavailable};
#else

#include <net/if.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <xdp/libxdp.h>
#include <xdp/xsk.h>

struct io_port {
  struct xsk_umem *umem;
  struct xsk_socket *xsk;
  struct xsk_ring_prod fq, tx;
  struct xsk_ring_cons cq, rx;
  uint8_t *area;
  size_t area_size;
  unsigned frame_size, ring, fd;
  uint64_t *tx_free; /* stack of free TX frame addresses */
  unsigned tx_nfree;
  uint32_t tx_idx;
  uint64_t tx_err;
  int ifindex, prog_loaded;
};

static void xdp_close(struct io_port *io) {
  if (!io) return;
  if (io->xsk) xsk_socket__delete(io->xsk);
  if (io->prog_loaded) {
    /* Without a bpffs libxdp loads a plain program it cannot remove again: detach it ourselves
     * (the caller has entered the port's network namespace). */
    bpf_xdp_detach(io->ifindex, XDP_FLAGS_DRV_MODE, NULL);
    bpf_xdp_detach(io->ifindex, XDP_FLAGS_SKB_MODE, NULL);
  }
  if (io->umem) xsk_umem__delete(io->umem);
  if (io->area) munmap(io->area, io->area_size);
  free(io->tx_free);
  free(io);
}

/* libbpf/libxdp chatter ("No bpffs found", "skipping unrecognized data section") only with VSG_DEBUG=1;
 * failures reach the user through the error codes anyway. */
static int quiet_bpf(enum libbpf_print_level level, const char *fmt, va_list ap) {
  (void)level;
  return getenv("VSG_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}
static int quiet_xdp(enum libxdp_print_level level, const char *fmt, va_list ap) {
  (void)level;
  return getenv("VSG_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

static unsigned pow2_at_least(unsigned v) {
  unsigned p = 64;
  while (p < v) p <<= 1;
  return p;
}

/* Frames handed to the kernel but not completed yet are capped: at saturation a full 4096-frame TX ring
 * would hold each frame ~20 ms after its timestamp was written. */
#define XDP_TX_INFLIGHT 256
#ifndef XDP_MAX_TX_SKB_BUDGET
#define XDP_MAX_TX_SKB_BUDGET 9 /* linux/if_xdp.h of Linux >= 6.17 */
#endif

static int xdp_open(struct port *p, const struct engine *e, char *msg, size_t ml) {
  libbpf_set_print(quiet_bpf);
  libxdp_set_print(quiet_xdp);
  struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
  setrlimit(RLIMIT_MEMLOCK, &rl); /* UMEM pages are locked; best effort (root has CAP_IPC_LOCK anyway) */
  unsigned need = (unsigned)p->mtu + 18 + XDP_PACKET_HEADROOM;
  if (need > 4096) return snprintf(msg, ml, "MTU %d is too large for one AF_XDP frame (max 3820)", p->mtu), -EMSGSIZE;
  struct io_port *io = calloc(1, sizeof *io);
  if (!io) return -ENOMEM;
  io->frame_size = need <= 2048 ? 2048 : 4096;
  io->ring = pow2_at_least(e->ring_frames);
  unsigned nframes = io->ring * 2; /* first half TX, second half RX */
  io->area_size = (size_t)nframes * io->frame_size;
  io->area = mmap(NULL, io->area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (io->area == MAP_FAILED) {
    io->area = NULL;
    xdp_close(io);
    return snprintf(msg, ml, "mmap UMEM: %s", strerror(errno)), -ENOMEM;
  }
  struct xsk_umem_config ucfg = {.fill_size = io->ring, .comp_size = io->ring, .frame_size = io->frame_size, .frame_headroom = 0, .flags = 0};
  int rc = xsk_umem__create(&io->umem, io->area, io->area_size, &io->fq, &io->cq, &ucfg);
  if (rc) {
    io->umem = NULL;
    xdp_close(io);
    return snprintf(msg, ml, "xsk_umem__create: %s", strerror(-rc)), rc;
  }
  struct xsk_socket_config cfg = {
      .rx_size = io->ring,
      .tx_size = io->ring,
      .libxdp_flags = p->needs_rx ? 0 : XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD, /* TX only: no XDP program needed */
      .xdp_flags = 0,
      .bind_flags = XDP_USE_NEED_WAKEUP,
  };
  /* EBUSY: a socket of a process that just exited (an earlier trial) may still be torn down in the
   * kernel; give it up to a second. */
  for (int tries = 0;; tries++) {
    rc = xsk_socket__create(&io->xsk, p->name, 0, io->umem, &io->rx, &io->tx, &cfg);
    if (rc != -EBUSY || tries >= 20) break;
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
  }
  if (rc) {
    io->xsk = NULL;
    xdp_close(io);
    return snprintf(msg, ml, "xsk_socket__create on %s queue 0: %s", p->name, strerror(-rc)), rc;
  }
  io->fd = (unsigned)xsk_socket__fd(io->xsk);
  /* Copy mode sends at most 32 frames per sendto unless told otherwise (Linux >= 6.17; older kernels
   * refuse the option and keep 32): let one kick send a whole batch. */
  unsigned budget = XDP_TX_INFLIGHT;
  if (budget > io->ring) budget = io->ring;
  setsockopt((int)io->fd, SOL_XDP, XDP_MAX_TX_SKB_BUDGET, &budget, sizeof budget);
  io->ifindex = p->ifindex;
  io->prog_loaded = p->needs_rx;
  io->tx_free = malloc(sizeof(uint64_t) * io->ring);
  for (unsigned i = 0; i < io->ring; i++) io->tx_free[io->tx_nfree++] = (uint64_t)(io->ring - 1 - i) * io->frame_size;
  if (p->needs_rx) { /* hand every RX frame to the kernel */
    uint32_t idx;
    if (xsk_ring_prod__reserve(&io->fq, io->ring, &idx) != io->ring) {
      xdp_close(io);
      return snprintf(msg, ml, "cannot fill the AF_XDP fill ring"), -ENOSPC;
    }
    for (unsigned i = 0; i < io->ring; i++) *xsk_ring_prod__fill_addr(&io->fq, idx + i) = (uint64_t)(io->ring + i) * io->frame_size;
    xsk_ring_prod__submit(&io->fq, io->ring);
  }
  p->io = io;
  return 0;
}

static void kick_tx(struct io_port *io) {
  if (!xsk_ring_prod__needs_wakeup(&io->tx)) return;
  if (sendto((int)io->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN && errno != EBUSY && errno != ENOBUFS && errno != ENETDOWN) io->tx_err++;
}

static void reclaim(struct io_port *io) {
  uint32_t idx;
  unsigned n = xsk_ring_cons__peek(&io->cq, io->ring, &idx);
  for (unsigned i = 0; i < n; i++) io->tx_free[io->tx_nfree++] = *xsk_ring_cons__comp_addr(&io->cq, idx + i);
  if (n) xsk_ring_cons__release(&io->cq, n);
}


static unsigned xdp_tx_reserve(struct io_port *io, unsigned n, uint8_t **bufs, uint32_t *slots) {
  reclaim(io);
  unsigned inflight = io->ring - io->tx_nfree;
  if (inflight >= XDP_TX_INFLIGHT) {
    kick_tx(io);
    reclaim(io);
    inflight = io->ring - io->tx_nfree;
    if (inflight >= XDP_TX_INFLIGHT) return 0;
  }
  if (n > XDP_TX_INFLIGHT - inflight) n = XDP_TX_INFLIGHT - inflight;
  if (io->tx_nfree < n) {
    kick_tx(io);
    reclaim(io);
  }
  if (n > io->tx_nfree) n = io->tx_nfree;
  if (n == 0 || xsk_ring_prod__reserve(&io->tx, n, &io->tx_idx) != n) {
    kick_tx(io);
    return 0;
  }
  for (unsigned i = 0; i < n; i++) {
    uint64_t addr = io->tx_free[--io->tx_nfree];
    xsk_ring_prod__tx_desc(&io->tx, io->tx_idx + i)->addr = addr;
    bufs[i] = xsk_umem__get_data(io->area, addr);
    slots[i] = (uint32_t)(addr / io->frame_size); /* TX frames are the first half of the UMEM */
  }
  return n;
}

static void xdp_tx_submit(struct io_port *io, unsigned n, const uint16_t *lens) {
  for (unsigned i = 0; i < n; i++) xsk_ring_prod__tx_desc(&io->tx, io->tx_idx + i)->len = lens[i];
  xsk_ring_prod__submit(&io->tx, n);
  /* In copy mode the kernel sends only inside our sendto (a bounded number per call): kick until the TX
   * ring is empty so frames leave right after their timestamp was written. */
  for (int tries = 0; tries < 16; tries++) {
    kick_tx(io);
    if (xsk_prod_nb_free(&io->tx, io->ring) >= io->ring) break;
  }
}

static unsigned xdp_tx_flush(struct io_port *io, int timeout_ms) {
  uint64_t end = now_mono() + (uint64_t)timeout_ms * 1000000ull;
  for (;;) {
    reclaim(io);
    unsigned pending = io->ring - io->tx_nfree;
    if (pending == 0 || now_mono() >= end) return pending;
    if (sendto((int)io->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EAGAIN && errno != EBUSY && errno != ENOBUFS) io->tx_err++;
    struct pollfd pfd = {.fd = (int)io->fd, .events = POLLOUT};
    poll(&pfd, 1, 1);
  }
}

static int xdp_rx_poll(struct io_port *io, int timeout_ms, void (*cb)(void *, const uint8_t *, unsigned, uint64_t), void *ctx) {
  uint32_t idx;
  unsigned n = xsk_ring_cons__peek(&io->rx, 64, &idx);
  if (n == 0) {
    struct pollfd pfd = {.fd = (int)io->fd, .events = POLLIN};
    int r = poll(&pfd, 1, timeout_ms);
    if (r <= 0) return r < 0 && errno != EINTR ? -errno : 0;
    n = xsk_ring_cons__peek(&io->rx, 64, &idx);
    if (n == 0) return 0;
  }
  uint64_t now = now_real(); /* AF_XDP has no kernel RX timestamp in copy mode: take it per batch */
  uint32_t fidx;
  while (xsk_ring_prod__reserve(&io->fq, n, &fidx) != n) { /* cannot fail for long: we own exactly these frames */
  }
  for (unsigned i = 0; i < n; i++) {
    const struct xdp_desc *d = xsk_ring_cons__rx_desc(&io->rx, idx + i);
    cb(ctx, xsk_umem__get_data(io->area, d->addr), d->len, now);
    *xsk_ring_prod__fill_addr(&io->fq, fidx + i) = xsk_umem__extract_addr(d->addr);
  }
  xsk_ring_cons__release(&io->rx, n);
  xsk_ring_prod__submit(&io->fq, n);
  return (int)n;
}

static uint64_t xdp_tx_errors(struct io_port *io) { return io->tx_err; }

static unsigned xdp_tx_slots(struct io_port *io) { return io->ring; }

static uint64_t xdp_rx_drops(struct io_port *io) {
  struct xdp_statistics st;
  socklen_t len = sizeof st;
  if (getsockopt((int)io->fd, SOL_XDP, XDP_STATISTICS, &st, &len) != 0) return 0;
  return st.rx_dropped + st.rx_ring_full + st.rx_fill_ring_empty_descs;
}

const struct io_ops afxdp_ops = {
    .name = "af_xdp",
    .open = xdp_open,
    .tx_reserve = xdp_tx_reserve,
    .tx_submit = xdp_tx_submit,
    .tx_slots = xdp_tx_slots,
    .tx_flush = xdp_tx_flush,
    .rx_poll = xdp_rx_poll,
    .tx_errors = xdp_tx_errors,
    .rx_drops = xdp_rx_drops,
    .close = xdp_close,
};
#endif
