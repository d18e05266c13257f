/*
 * Received frames to their streams: a frame is ours (trailer magic and run tag), a learning frame, or
 * foreign; ours is counted on its stream (loss, order, latency, receive clock) when that stream is meant
 * to arrive on this port. Shared by the ring backends' RX threads (main.c) and the dpdk loops (dpdk_loop.c).
 */
#include <stdatomic.h>
#include "rx_demux.h"

void rx_demux_frame(struct engine *e, int port, const uint8_t *f, unsigned len, uint64_t rx_ns) {
  struct port *p = &e->ports[port];
  uint16_t sid;
  uint32_t seq;
  uint64_t ts48;
  atomic_fetch_add_explicit(&p->rx.frames, 1, memory_order_relaxed);
  if (!trailer_parse(f, len, e->tag, &sid, &seq, &ts48)) {
    atomic_fetch_add_explicit(&p->rx.foreign, 1, memory_order_relaxed);
    return;
  }
  if (sid == VSG_LEARN_STREAM) {
    atomic_fetch_add_explicit(&p->rx.learning, 1, memory_order_relaxed);
    return;
  }
  if (sid >= e->nstreams || e->streams[sid].rx_port != port) {
    atomic_fetch_add_explicit(&p->rx.foreign, 1, memory_order_relaxed);
    return;
  }
  int64_t lat = e->latency ? rx_latency(rx_ns, ts48) : -1;
  rx_account(&e->rx[sid], seq, len, lat);
  rx_timeline(&e->rx[sid], rx_ns, lat);
}

/* A burst of RX queue q of a port (dpdk loops). A stream with several lanes or RX queues is counted in
 * the part of (lane, queue), which only this queue's poller writes; rx[] keeps the live frame count for
 * progress. The frames of one target in a row are counted together (rx_account_burst): the shared
 * counters see one atomic add per burst, not several per frame. */
#define RX_BURST_MAX 64
void rx_demux_burst(struct engine *e, int port, unsigned q, const uint8_t *const *f, const uint16_t *len, unsigned n, uint64_t rx_ns) {
  struct port *p = &e->ports[port];
  p->rx.q_frames[q] += n;
  uint32_t seq[RX_BURST_MAX];
  uint16_t lens[RX_BURST_MAX];
  uint64_t ts[RX_BURST_MAX];
  struct rx_stats *cur = NULL;
  int cur_si = 0;
  unsigned k = 0, counted = 0;
  if (n > RX_BURST_MAX) n = RX_BURST_MAX; /* the loop's bursts are 32 */
  for (unsigned i = 0; i <= n; i++) {
    struct rx_stats *tgt = NULL;
    int si = 0, ours = 0;
    uint16_t sid = 0;
    uint32_t s = 0;
    uint64_t t48 = 0;
    if (i < n && (ours = trailer_parse(f[i], len[i], e->tag, &sid, &s, &t48)) && sid != VSG_LEARN_STREAM) {
      si = sid % VSG_MAX_STREAMS;
      int lane = sid / VSG_MAX_STREAMS;
      if (si < e->nstreams && lane < VSG_MAX_QUEUES && e->streams[si].rx_port == port) {
        tgt = e->rx_part[si][lane][q];
        if (!tgt && lane == 0) tgt = &e->rx[si]; /* one lane, one queue: as any port */
      }
    }
    if (k && tgt != cur) { /* the run of `cur` ends */
      uint64_t dup0 = cur->dup;
      rx_account_burst(cur, seq, lens, ts, k, rx_ns, e->latency);
      if (cur != &e->rx[cur_si]) {
        atomic_fetch_add_explicit(&e->rx[cur_si].frames, k, memory_order_relaxed);
        if (cur->dup != dup0) atomic_fetch_add_explicit(&e->rx_dup_live[cur_si], cur->dup - dup0, memory_order_relaxed);
      }
      counted += k;
      k = 0;
    }
    if (i == n) break;
    if (!tgt) {
      if (ours && sid != VSG_LEARN_STREAM) { /* ours, but no stream of this port */
        atomic_fetch_add_explicit(&p->rx.frames, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&p->rx.foreign, 1, memory_order_relaxed);
      } else {
        rx_demux_frame(e, port, f[i], len[i], rx_ns); /* foreign or learning */
      }
      continue;
    }
    cur = tgt;
    cur_si = si;
    seq[k] = s;
    lens[k] = len[i];
    ts[k] = t48;
    k++;
  }
  if (counted) atomic_fetch_add_explicit(&p->rx.frames, counted, memory_order_relaxed);
}
