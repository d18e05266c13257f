/*
 * vsg-engine: the packet engine of vsperf-ts' Software traffic generator.
 *
 * One process drives one port pair (or one port): TX threads put paced Ethernet/IPv4|IPv6/UDP frames
 * on the wire, RX threads count them per stream (loss, reorder, duplicates, foreign frames, latency
 * histogram). I/O backends: AF_PACKET with mmap'd TX/RX rings (io_afpacket.c), AF_XDP (io_afxdp.c) and
 * DPDK ethdevs (io_dpdk.c).
 * Control protocol and output: see README.md next to this file.
 */
#ifndef VSG_H
#define VSG_H

#include <stdatomic.h>
#include <stdint.h>
#include <stddef.h>
#include <netinet/in.h>

#define VSG_VERSION "0.4.0"
#define VSG_MAX_PORTS 2
#define VSG_MAX_STREAMS 4
/* dpdk loops: queues per port (--queues). A stream sends on up to this many TX queues, one sender
 * ("lane") per queue with its own sequence space: trailer stream id = stream + VSG_MAX_STREAMS * lane. */
#define VSG_MAX_QUEUES 4
#define VSG_MAX_IMIX 256
/* dpdk loops: paced frames leave in bursts (tx_pace.h). Defaults measured on OVS-DPDK over vhost-user
 * (docs/generator.md, session 9); a switch polls 32 frames at a time (OVS NETDEV_MAX_BURST). */
#define VSG_TX_BURST_DEFAULT 32
#define VSG_TX_BURST_MAX 32
#define VSG_TX_BURST_WAIT_US_DEFAULT 50
#define VSG_TX_BURST_WAIT_US_MAX 10000
#define VSG_MAX_ENCAP 96  /* outer headers of an encapsulated stream */
/* Largest frame without FCS (16 KiB with it; VSPERF's ovsdpdk_jumbo_p2p_upper_bound sends 9702 B, above
 * the switch's MTU). AF_PACKET on a veth carries it (the TX ring slot is sized per run); AF_XDP refuses a
 * port whose MTU does not fit one UMEM chunk (io_afxdp.c), so it never truncates; a DPDK device gets mbufs
 * that hold the largest frame whole and the MTU for it, or refuses in one line (io_dpdk.c). */
#define VSG_MAX_FRAME 16380

/* ---- trailer: the last 14 bytes of every frame ---- */
#define VSG_TRAILER_LEN 14
#define VSG_MAGIC 0x56 /* 'V'; the second magic byte is the run tag */
#define VSG_LEARN_STREAM 0xffff
struct vsg_trailer {
  uint8_t magic;      /* VSG_MAGIC */
  uint8_t tag;        /* run tag: frames of an earlier run count as foreign */
  uint16_t stream;    /* stream id (big endian); VSG_LEARN_STREAM for learning frames */
  uint32_t seq;       /* sequence number (big endian), wraps */
  uint8_t ts[6];      /* TX timestamp, CLOCK_REALTIME ns modulo 2^48 (big endian) */
} __attribute__((packed));

/* ---- latency histogram: log-linear, 32 linear sub-buckets per power of two, ns ---- */
#define HIST_SUB_BITS 5
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_EXP 48
#define HIST_BUCKETS (HIST_SUB + (HIST_MAX_EXP - HIST_SUB_BITS) * HIST_SUB)
unsigned hist_bucket(uint64_t ns);
uint64_t hist_lower(unsigned bucket);

/* ---- sequence window for duplicate/reorder detection ---- */
#define SEQ_WIN_BITS 24
#define SEQ_WIN (1u << SEQ_WIN_BITS)

enum vary { VARY_NONE, VARY_L2, VARY_L3, VARY_L4 };

struct stream_cfg {
  int tx_port, rx_port;
  uint8_t smac[6], dmac[6];
  int l3, l4;          /* IP header present; UDP header present */
  int ipv6;
  uint8_t sip[16], dip[16];
  uint16_t sport, dport;
  int vlan;            /* 1: 802.1Q tag present */
  uint16_t vlan_tci;
  unsigned flows;      /* multistream: number of flows (>= 1) */
  enum vary vary;
  double rate_fps;     /* 0: as fast as possible */
  /* Overlay: outer Ethernet/IPv4/(UDP+VXLAN|GENEVE | GRE) header put before every frame (decapsulation
     tests). The engine fills in the outer IPv4 total length and checksum and the outer UDP length; frame
     sizes are outer (on-wire) sizes. encap_len 0 = plain frames. */
  uint8_t encap[VSG_MAX_ENCAP];
  unsigned encap_len;
  unsigned nsizes;     /* frame sizes without FCS; more than one = IMIX sequence */
  uint16_t sizes[VSG_MAX_IMIX];
};

struct tx_stats {
  _Atomic uint64_t frames, bytes;
  uint64_t first_ns, last_ns; /* CLOCK_MONOTONIC of first and last frame handed to the kernel */
  uint64_t planned;
  uint64_t unsent; /* still queued when the flush gave up */
  uint64_t full_drops; /* --tx-drop-full: frames the full TX queue had no room for (counted as sent) */
  int done;
};

/* Longest receive silences kept per stream (so a window can be chosen afterwards). */
#define VSG_TOP_GAPS 16
/* Receive timeline bins: 1 ms each, at most 3 minutes (the result line stays well under the 4 MiB the driver reads). */
#define VSG_BIN_NS 1000000ull
#define VSG_MAX_BINS 180000u

/*
 * The receiver's clock (backend-independent: every backend hands rx_frame a CLOCK_REALTIME receive time):
 * the longest silences between consecutive frames, per 1 ms bin the frames received and their largest
 * latency, and the frames later than a threshold set by the "mark" command (10 x p99 so far).
 */
struct rx_timeline {
  uint64_t first_rx_ns;             /* receive time of the first frame, 0 before it */
  uint64_t last_rx_ns;              /* receive time of the previous frame, 0 before the first */
  uint64_t gaps[VSG_TOP_GAPS][2];   /* [start, end] receive times (ns) of the longest silences */
  unsigned ngaps;
  uint64_t gap_floor;               /* the shortest kept silence once VSG_TOP_GAPS are kept (0 before) */
  uint64_t bin0_ns;                 /* CLOCK_REALTIME of bin 0; 0 = no bins */
  uint32_t *bin_rx, *bin_lat_us;    /* per bin: frames, largest latency (us) */
  unsigned nbins, cap;
  _Atomic uint64_t delay_threshold_ns; /* 0 = not marked yet */
  uint64_t delayed;                 /* frames with latency above the threshold, after the mark */
};

struct rx_stats {
  _Atomic uint64_t frames; /* all of this stream's frames received, duplicates included */
  uint64_t bytes, dup, reordered, too_old, max_gap;
  int64_t max_seq; /* highest extended seq seen, -1 before the first */
  uint8_t *win;    /* SEQ_WIN bits */
  uint64_t lat_min, lat_max, lat_sum, lat_n;
  uint64_t hist[HIST_BUCKETS];
  struct rx_timeline tl;
};

struct port_rx_stats {
  _Atomic uint64_t frames, foreign, learning;
  uint64_t q_frames[VSG_MAX_QUEUES]; /* dpdk loops: frames per RX queue (each queue has one poller) */
};

struct io_port; /* backend-private */

struct port {
  char name[64]; /* interface (IFNAMSIZ), or a DPDK device's name */
  char netns[64];
  int ifindex, mtu;
  struct io_port *io;
  const struct io_ops *ops; /* the backend this port runs on */
  char backend[16];         /* wish: "auto" | "af_packet" | "af_xdp" | "dpdk" */
  char dev[256];            /* dpdk: the device's devargs (vdev string or PCI address); name is its label */
  int needs_tx, needs_rx;
  unsigned nq;                                /* dpdk: RX and TX queues opened (1 otherwise) */
  _Atomic uint64_t txq_frames[VSG_MAX_QUEUES]; /* dpdk loops: frames sent per TX queue */
  struct port_rx_stats rx;
};

struct engine {
  struct port ports[VSG_MAX_PORTS];
  int nports;
  struct stream_cfg streams[VSG_MAX_STREAMS];
  struct tx_stats tx[VSG_MAX_STREAMS];
  /* Per stream (one TX stream per port): what each TX slot of its port holds, (flow << 32 | len << 16 | 1),
   * 0 = unknown; tx_paced rewrites only sequence and timestamp in a slot that already holds the frame. */
  uint64_t *tx_slot_key[VSG_MAX_STREAMS];
  unsigned tx_nslots[VSG_MAX_STREAMS];
  struct rx_stats rx[VSG_MAX_STREAMS];
  /* Several lanes or RX queues (dpdk loops, --queues > 1): each (lane, RX queue) pair of a stream is
   * counted apart (one writer each, its own sequence space) and merged into rx[] for the result. */
  struct rx_stats *rx_part[VSG_MAX_STREAMS][VSG_MAX_QUEUES][VSG_MAX_QUEUES];
  int nlanes[VSG_MAX_STREAMS]; /* lanes (TX queues) of each stream; 0/1 = one */
  _Atomic uint64_t rx_dup_live[VSG_MAX_STREAMS]; /* duplicates counted in the parts (drain check) */
  unsigned queues;     /* --queues: wanted queues per DPDK port (default 1) */
  int nstreams;
  double duration_s;   /* > 0: time-bounded */
  uint64_t frames;     /* > 0: count-bounded (per stream) */
  double learning_s, learning_fps;
  double drain_s;
  unsigned progress_ms;
  unsigned batch;
  unsigned ring_frames;
  uint8_t tag;
  int latency;
  int cpus[8], ncpus;
  int rt_priority; /* > 0: TX threads run SCHED_FIFO at this priority (pacing on a busy host) */
  const char *backend; /* default wish for ports without one: "af_packet" | "af_xdp" | "dpdk" | "auto" */
  const char *dpdk_prefix; /* EAL --file-prefix (runtime dir /var/run/dpdk/<prefix>); NULL = vsg-engine-<pid> */
  uint64_t t0_mono;    /* common TX start */
  int timeline;        /* --timeline: keep 1 ms receive bins */
  int tx_drop_full;    /* --tx-drop-full (dpdk loops): a full TX queue drops, as a NIC's wire does */
  unsigned tx_burst;   /* --tx-burst (dpdk loops): paced frames leave once this many are due (tx_pace.h) */
  double tx_burst_wait_us; /* --tx-burst-wait-us: … or once the oldest due frame has waited this long */
  atomic_int stop_tx, stop_rx;
};

/* ---- backends: the same small API for AF_PACKET and AF_XDP ---- */
struct io_ops {
  const char *name;
  /* Open a port for TX and/or RX. Returns 0 or -errno with msg filled. */
  int (*open)(struct port *p, const struct engine *e, char *msg, size_t msglen);
  /* Get up to n free TX buffers; returns how many (0 = ring full). slots[i] is the index (< tx_slots) of
   * the ring slot / UMEM frame behind bufs[i]: a buffer keeps what was written into it, so the sender
   * rewrites only the per-frame fields when a slot comes round again with the same frame. */
  unsigned (*tx_reserve)(struct io_port *io, unsigned n, uint8_t **bufs, uint32_t *slots);
  /* Number of distinct TX buffers (slot indexes run from 0 to this - 1). */
  unsigned (*tx_slots)(struct io_port *io);
  /* Hand the n reserved buffers with their lengths to the kernel and kick it. */
  void (*tx_submit)(struct io_port *io, unsigned n, const uint16_t *lens);
  /* Push out everything submitted; wait up to timeout_ms. Returns frames still not sent. */
  unsigned (*tx_flush)(struct io_port *io, int timeout_ms);
  /* Wait up to timeout_ms for frames; call cb for each. Returns frames seen or -errno. */
  int (*rx_poll)(struct io_port *io, int timeout_ms, void (*cb)(void *ctx, const uint8_t *f, unsigned len, uint64_t rx_ns), void *ctx);
  uint64_t (*tx_errors)(struct io_port *io);
  /* Frames the kernel dropped because the RX ring was full (cumulative). */
  uint64_t (*rx_drops)(struct io_port *io);
  void (*close)(struct io_port *io);
  /* TX timestamp source (CLOCK_REALTIME ns); NULL = clock_gettime. RX timestamps come with each frame. */
  uint64_t (*clock)(void);
};
extern const struct io_ops afpacket_ops;
extern const struct io_ops afxdp_ops;
extern const struct io_ops dpdk_ops;
int dpdk_is_pci(const char *dev);
void dpdk_port_label(const char *dev, char *out, size_t n);

/* ---- run-to-completion polling loops (dpdk_loop.c) ---- */
/* Every port a DPDK port: one loop per --cpus core runs all TX streams and RX ports (returns 0); else -1. */
int loop_start(struct engine *e);
void loop_join(void);
/* The loops' busy share, as a JSON member of the result (nothing without loops). */
void loop_print(void);

/* ---- frames (frame.c) ---- */
struct frame_tmpl {
  const struct stream_cfg *s;
  uint8_t hdr[14 + 4 + 40 + 8];
  unsigned l2len, l3off, l4off, hdrlen;
  int udp6; /* IPv6 + UDP: the checksum covers the trailer and is recomputed per frame */
};
void tmpl_init(struct frame_tmpl *t, const struct stream_cfg *s);
/* Write a whole frame of `len` bytes (no FCS) for flow `flow` with the trailer into buf. */
void frame_build(const struct frame_tmpl *t, uint8_t *buf, unsigned len, unsigned flow, uint16_t stream, uint8_t tag, uint32_t seq, uint64_t ts_ns);
/* buf already holds frame_build's frame of this template, length, flow, stream and tag: rewrite only the
 * sequence number and TX timestamp (and the IPv6 UDP checksum, which covers them). */
void frame_restamp(const struct frame_tmpl *t, uint8_t *buf, unsigned len, uint32_t seq, uint64_t ts_ns);
/* buf holds frame_build's frame of this template and length (same tag) for another flow or lane: rewrite
 * the multistream field (and the IPv4 header checksum that covers it), the trailer's stream id, sequence
 * and timestamp; the bytes are then frame_build's. Returns 0 (nothing written) for an encapsulated stream. */
int frame_reflow(const struct frame_tmpl *t, uint8_t *buf, unsigned len, unsigned flow, uint16_t stream, uint32_t seq, uint64_t ts_ns);
/* Minimum frame length (no FCS) that holds the headers and the trailer. */
unsigned frame_min_len(const struct stream_cfg *s);
/* Parse a received frame's trailer. Returns 1 if ours (magic + tag), filling stream/seq/ts. */
int trailer_parse(const uint8_t *f, unsigned len, uint8_t tag, uint16_t *stream, uint32_t *seq, uint64_t *ts48);

/* ---- counting (stats.c) ---- */
int rx_stats_init(struct rx_stats *r);
void rx_stats_free(struct rx_stats *r);
void rx_account(struct rx_stats *r, uint32_t seq, unsigned len, int64_t lat_ns);
/* Latency of a frame stamped ts48 (trailer) and received at rx_ns (CLOCK_REALTIME ns); a clock step backwards is 0. */
int64_t rx_latency(uint64_t rx_ns, uint64_t ts48);
/* n frames of one stream (or part) received at rx_ns, in arrival order: exactly what rx_account and
 * rx_timeline count frame by frame (latency from ts48 when `latency`), at a cost per TX burst, not per frame. */
void rx_account_burst(struct rx_stats *r, const uint32_t *seq, const uint16_t *len, const uint64_t *ts48, unsigned n, uint64_t rx_ns, int latency);
/* The receiver-clock accounting of one frame (any backend): silences, 1 ms bins, delayed frames. */
void rx_timeline(struct rx_stats *r, uint64_t rx_ns, int64_t lat_ns);
/* Latency quantile q (0..1) of the histogram so far (ns), 0 without samples. */
uint64_t hist_quantile(const struct rx_stats *r, double q);
/* Add part `src` (one lane seen on one RX queue) into `dst`: bytes, duplicates, reordered, latency,
 * 1 ms bins exactly; receive silences are not merged; max_gap is rx_parts_max_gap's. Not frames
 * (counted live into dst). */
void rx_stats_merge(struct rx_stats *dst, const struct rx_stats *src);
/* Longest run of lost frames between received ones of one lane counted in n parts (one per RX queue). */
uint64_t rx_parts_max_gap(struct rx_stats *const *parts, unsigned n);

/* ---- util ---- */
uint64_t now_mono(void);
uint64_t now_real(void);
int parse_mac(const char *s, uint8_t mac[6]);
int enter_netns(const char *name, char *msg, size_t msglen); /* "" = back to the original */
void fail(const char *code, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

#endif
