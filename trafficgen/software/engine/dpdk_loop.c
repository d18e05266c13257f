/*
 * The dpdk backend's run-to-completion polling loops: one per core of --cpus (TRAFFICGEN_SOFTWARE_CORES).
 * Every TX stream and every receiving port of the engine is given to one loop (round robin over the
 * cores); a loop sends what is due on each of its streams (paced per stream on the TSC), then drains one
 * burst of each of its RX queues, and goes round again without ever blocking or sleeping. A TX queue
 * that is full keeps the frames for the next round, so receiving goes on while the device is busy (a
 * thread per stream and per port on one core, as the ring backends run, spent its time switching and
 * blocked in the TX queue while the switch's frames waited in the RX ring).
 *
 * Timing: frame i of a stream is due at t0 + i / rate, t0 and the rate in TSC ticks (measured against
 * CLOCK_REALTIME at EAL start); due frames leave together once --tx-burst of them are due or the oldest
 * has waited --tx-burst-wait-us (tx_pace.h). The TX timestamp of a burst is the TSC read just before it
 * is built (so the wait is not latency), the RX timestamp of a burst the TSC read right after
 * rte_eth_rx_burst returned it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "vsg.h"

#ifndef VSG_HAVE_DPDK
int loop_start(struct engine *e) {
  (void)e;
  return -1;
}
void loop_join(void) {}
void loop_print(void) {}
#else

#include <rte_cycles.h>
#include <rte_lcore.h>
#include "dpdk_port.h"
#include "rx_demux.h"
#include "tx_pace.h"

#define LOOP_BURST 64
#define LOOP_MAX_WORKERS 8
#define TX_STUCK_MS 100 /* a TX queue that takes nothing for this long: its frames are dropped, not counted */

enum lane_phase { LANE_LEARN, LANE_TRIAL, LANE_DONE };

/* One sender of a stream: the stream's only one, or (--queues) one per TX queue of its port. Lane k of
 * n sends flows k, k+n, k+2n… (a flow stays on one queue, as RSS keeps it on one RX queue) at rate/n,
 * starting 1/rate after lane k-1, with its own sequence space (trailer id stream + VSG_MAX_STREAMS k). */
struct lane {
  int si;
  int k, n;      /* lane index and lanes of the stream */
  uint16_t txq;  /* the TX queue it alone sends on */
  struct port *port;
  struct frame_tmpl t;
  enum lane_phase phase;
  uint16_t sid;                 /* trailer stream id of the current phase */
  uint64_t t_start, t_end;      /* TSC; t_end 0 = none */
  double tsc_per_frame;         /* 0 = flat out */
  struct tx_pace pace;          /* paced: when and how many due frames go out (tx_pace.h) */
  uint64_t next_due;            /* paced: TSC before which nothing goes out (an integer test per round) */
  uint64_t total, built, sent, bytes, bytes_pub;
  /* The stream's shared counters (atomics, read by the main thread for progress and the end of the trial)
   * are published every PUB_FRAMES frames or PUB_US, and when the lane ends: paced frames go out one or two
   * per push, and four locked updates per push cost more than the frames. */
  uint64_t sent_pub, push_tsc, pub_tsc;
  int first_set;                /* the stream's first_ns was offered (once per phase) */
  uint64_t taken;               /* frames the TX queue took, any phase (the loop's cycles per frame) */
  unsigned size_i, flow;
  struct tx_stats *st;          /* NULL while learning */
  struct rte_mbuf *pend[LOOP_BURST];
  unsigned npend, pend_off;
  uint64_t pend_since;
  uint64_t dropped;
};

struct rxq {
  int port;
  uint16_t port_id, queue;
};

struct worker {
  int cpu; /* -1 = not pinned */
  struct lane *lanes[VSG_MAX_STREAMS * VSG_MAX_QUEUES];
  int nlanes;
  struct rxq rxqs[VSG_MAX_PORTS * VSG_MAX_QUEUES];
  int nrxq;
  pthread_t th;
  int started;
  /* From the trial's start: the cycles of rounds on the CPU, of those that moved frames, and of rounds
   * that took longer than ROUND_MAX_US without sleeping (the thread was preempted: off the CPU, neither
   * work nor idle; counting them as busy made a loop on a shared core look saturated). */
  uint64_t cycles, busy_cycles, offcpu_cycles;
  uint64_t frames;              /* from the trial's start: frames sent and received */
  uint64_t cost_cycles, cost_frames; /* rounds that moved frames and were not preempted (< 50 µs): cycles per frame */
  uint64_t nivcsw0, nivcsw;     /* involuntary context switches: at the start, at the last check */
  uint64_t idle_check_at, shared_until, idle_since, sleeps;
};

static struct engine *E;
static struct lane lanes[VSG_MAX_STREAMS * VSG_MAX_QUEUES];
static int nlanes_all;
static _Atomic int lanes_done[VSG_MAX_STREAMS];
static struct worker workers[LOOP_MAX_WORKERS];
static int nworkers;
static uint64_t tsc_hz_measured, mono_tsc0, mono_ns0;
static uint64_t tx_wait_tsc; /* --tx-burst-wait-us in TSC ticks */

static uint64_t lane_max_burst(void) { return E->batch < LOOP_BURST ? E->batch : LOOP_BURST; }

/* The lane's schedule of the current phase (t_start, tsc_per_frame) with the engine's burst settings. */
static void pace_init(struct lane *l) {
  uint64_t max = lane_max_burst();
  l->pace = (struct tx_pace){.t_start = l->t_start, .per = l->tsc_per_frame, .burst = E->tx_burst < max ? E->tx_burst : max, .wait = tx_wait_tsc};
}

static uint64_t tsc_of_mono(uint64_t mono) { return mono_tsc0 + (uint64_t)((double)((int64_t)(mono - mono_ns0)) / dpdk_ns_per_tsc()); }
static uint64_t mono_of_tsc(uint64_t tsc) { return mono_ns0 + (uint64_t)((double)(int64_t)(tsc - mono_tsc0) * dpdk_ns_per_tsc()); }

static void phase_learning(struct lane *l) {
  uint64_t tl = E->t0_mono - (uint64_t)(E->learning_s * 1e9) - 100000000ull;
  l->phase = LANE_LEARN;
  l->sid = VSG_LEARN_STREAM;
  double per = E->learning_fps > 0 ? 1e9 / E->learning_fps / dpdk_ns_per_tsc() : 0;
  l->t_start = tsc_of_mono(tl) + (uint64_t)(per * l->k);
  l->t_end = tsc_of_mono(tl + (uint64_t)(E->learning_s * 1e9));
  l->tsc_per_frame = per * l->n;
  l->total = 0;
  l->st = NULL;
  pace_init(l);
}

/* The trial: as tx_paced in main.c, a stream that fell behind may finish within 2 % of the duration (≤ 200 ms). */
static void phase_trial(struct lane *l) {
  const struct stream_cfg *s = &E->streams[l->si];
  l->phase = LANE_TRIAL;
  l->sid = (uint16_t)(l->si + VSG_MAX_STREAMS * l->k);
  l->st = &E->tx[l->si];
  uint64_t planned = l->st->planned;
  l->total = planned / (uint64_t)l->n + ((uint64_t)l->k < planned % (uint64_t)l->n);
  double per = s->rate_fps > 0 ? 1e9 / s->rate_fps / dpdk_ns_per_tsc() : 0;
  l->t_start = tsc_of_mono(E->t0_mono) + (uint64_t)(per * l->k);
  l->t_end = 0;
  if (E->duration_s > 0) {
    double grace = E->duration_s * 0.02 < 0.2 ? E->duration_s * 0.02 : 0.2;
    l->t_end = tsc_of_mono(E->t0_mono + (uint64_t)((E->duration_s + (l->total ? grace : 0)) * 1e9));
  }
  l->tsc_per_frame = per * l->n;
  pace_init(l);
}

/* The slot keys (what an mbuf holds) name the phase, whose trailer stream id differs: nothing to clear
 * here while the stream's other lanes use the same keys. */
static void lane_reset(struct lane *l) {
  l->built = l->sent = l->bytes = l->bytes_pub = 0;
  l->sent_pub = l->push_tsc = l->pub_tsc = 0;
  l->first_set = 0;
  l->size_i = 0;
  l->flow = (unsigned)l->k;
  l->next_due = l->tsc_per_frame > 0 ? tx_pace_next(&l->pace, 0) : l->t_start;
}

/* Largest value wins (lanes of a stream on several loops publish their last TX time). */
static void store_max(uint64_t *p, uint64_t v) {
  uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (v > cur && !__atomic_compare_exchange_n(p, &cur, v, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

#define PUB_FRAMES 256
#define PUB_US 1000
static uint64_t pub_tsc_every;

/* What the lane sent since the last publication, into the stream's and the port's shared counters. */
static void lane_publish(struct lane *l) {
  uint64_t n = l->sent - l->sent_pub;
  if (!l->st || !n) return;
  store_max(&l->st->last_ns, mono_of_tsc(l->push_tsc));
  atomic_fetch_add_explicit(&l->st->frames, n, memory_order_relaxed);
  atomic_fetch_add_explicit(&l->st->bytes, l->bytes - l->bytes_pub, memory_order_relaxed); /* bytes built: differs by < one burst until the end */
  l->bytes_pub = l->bytes;
  atomic_fetch_add_explicit(&l->port->txq_frames[l->txq], n, memory_order_relaxed);
  l->sent_pub = l->sent;
  l->pub_tsc = l->push_tsc;
}

/* Hand what is pending to the TX queue; returns 1 if the queue took something. */
static int lane_push(struct lane *l, uint64_t now) {
  unsigned left = l->npend - l->pend_off;
  uint16_t n = rte_eth_tx_burst(l->port->io->port_id, l->txq, l->pend + l->pend_off, (uint16_t)left);
  l->taken += n;
  l->pend_off += n;
  if (n < left && E->tx_drop_full) {
    /* A NIC's wire never waits: what the receiver has no room for is its loss. A vhost-user "phy" port
     * would instead hold the sender back and show the switch's limit as the generator's. */
    rte_pktmbuf_free_bulk(l->pend + l->pend_off, left - n);
    if (l->st) __atomic_fetch_add(&l->st->full_drops, left - n, __ATOMIC_RELAXED);
    n = (uint16_t)left;
    l->npend = l->pend_off = 0;
  } else if (l->pend_off == l->npend) {
    l->npend = l->pend_off = 0;
  } else if (n) {
    l->pend_since = now;
  } else if (now - l->pend_since > tsc_hz_measured / 1000 * TX_STUCK_MS) {
    rte_pktmbuf_free_bulk(l->pend + l->pend_off, l->npend - l->pend_off);
    l->dropped += l->npend - l->pend_off;
    l->npend = l->pend_off = 0;
  }
  if (n && l->st) {
    l->sent += n;
    l->push_tsc = now;
    if (l->sent - l->sent_pub >= PUB_FRAMES || now - l->pub_tsc >= pub_tsc_every) lane_publish(l);
  }
  return n > 0;
}

/* Build the frames to send now (tx_pace_take: all that are due once a burst is due or the oldest has
 * waited; at most one burst of LOOP_BURST) into fresh mbufs. */
static unsigned lane_build(struct lane *l, uint64_t now) {
  const struct stream_cfg *s = &E->streams[l->si];
  uint64_t want = lane_max_burst();
  if (l->tsc_per_frame > 0) {
    if (now < l->next_due) return 0;
    want = tx_pace_take(&l->pace, now, l->built, want);
    if (!want) return 0;
  }
  if (l->st && l->st->planned && want > l->total - l->built) want = l->total - l->built;
  struct io_port *io = l->port->io;
  if (rte_pktmbuf_alloc_bulk(io->txpool, l->pend, (unsigned)want) != 0) {
    rte_eth_tx_done_cleanup(io->port_id, l->txq, 0); /* mbufs held by the TX ring: ask the driver to free them */
    return 0;
  }
  uint64_t ts = dpdk_tsc_to_real(now);
  uint64_t phase_bit = l->phase == LANE_TRIAL ? 2u : 0u;
  for (unsigned i = 0; i < want; i++) {
    struct rte_mbuf *m = l->pend[i];
    uint8_t *buf = rte_pktmbuf_mtod(m, uint8_t *);
    struct vsg_mbuf_slot *sl = mbuf_slot(m);
    unsigned len = s->sizes[l->size_i];
    uint64_t k = (uint64_t)l->flow << 32 | (uint64_t)len << 16 | phase_bit | 1u;
    uint32_t seq = (uint32_t)(l->built + i);
    /* An mbuf comes back from the pool's cache in no particular order, so mostly with another flow of
     * the same length: rewrite the flow's field, not the frame. */
    if (sl->key == k) {
      frame_restamp(&l->t, buf, len, seq, ts);
    } else if ((uint32_t)sl->key == (uint32_t)k && frame_reflow(&l->t, buf, len, l->flow, l->sid, seq, ts)) {
      sl->key = k;
    } else {
      frame_build(&l->t, buf, len, l->flow, l->sid, E->tag, seq, ts);
      sl->key = k;
    }
    m->data_len = (uint16_t)len;
    m->pkt_len = len;
    l->bytes += len;
    if (++l->size_i == s->nsizes) l->size_i = 0;
    l->flow += (unsigned)l->n;
    if (l->flow >= s->flows) l->flow = (unsigned)l->k;
  }
  l->built += want;
  if (l->tsc_per_frame > 0) l->next_due = tx_pace_next(&l->pace, l->built);
  l->npend = (unsigned)want;
  l->pend_off = 0;
  l->pend_since = now;
  if (l->st && !l->first_set) {
    uint64_t zero = 0;
    __atomic_compare_exchange_n(&l->st->first_ns, &zero, mono_of_tsc(now), 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    l->first_set = 1;
  }
  return (unsigned)want;
}

static void lane_finish(struct lane *l) {
  lane_publish(l);
  if (l->phase == LANE_LEARN && !atomic_load_explicit(&E->stop_tx, memory_order_relaxed)) {
    phase_trial(l);
    lane_reset(l);
    return;
  }
  if (l->phase == LANE_TRIAL && l->dropped) {
    fprintf(stderr, "vsg-engine: %llu frames of stream %d were not taken by the TX queue within %d ms; not counted as sent\n", (unsigned long long)l->dropped, l->si,
            TX_STUCK_MS);
    __atomic_fetch_add(&l->st->unsent, l->dropped, __ATOMIC_RELAXED);
  }
  l->phase = LANE_DONE;
  /* The stream is done when its last lane is (also when stopped while learning). */
  if (atomic_fetch_add(&lanes_done[l->si], 1) + 1 == l->n) __atomic_store_n(&E->tx[l->si].done, 1, __ATOMIC_RELEASE);
}

/* One round for one stream: push what is pending, else build and push what is due. Returns 1 if busy. */
static int lane_step(struct lane *l, uint64_t now) {
  if (l->phase == LANE_DONE) return 0;
  if (l->npend) return lane_push(l, now);
  int stop = atomic_load_explicit(&E->stop_tx, memory_order_relaxed);
  int counted = l->st && l->st->planned; /* a frame count (a lane's share may be 0), else unbounded */
  if (stop || (counted && l->built >= l->total) || (l->t_end && now >= l->t_end)) {
    lane_finish(l);
    return 1;
  }
  if (now < l->t_start) return 0;
  if (!lane_build(l, now)) return 0;
  lane_push(l, now);
  return 1;
}

/* Drain up to RX_BURSTS full bursts: frames the loop leaves in a full RX ring are dropped by the switch,
 * out of our sight, while a TX stream that falls behind shows in its achieved rate. */
#define RX_BURST 32
#define RX_BURSTS 4
static unsigned rx_step(const struct rxq *q) {
  struct rte_mbuf *m[RX_BURST];
  const uint8_t *f[RX_BURST];
  uint16_t len[RX_BURST];
  int k = 0;
  unsigned got = 0;
  uint16_t n;
  do {
    n = rte_eth_rx_burst(q->port_id, q->queue, m, RX_BURST);
    if (!n) break;
    uint64_t ts = dpdk_tsc_to_real(rte_rdtsc());
    /* The switch wrote these frames from its own core: ask for all their trailers' cache lines at once
     * rather than miss on each in turn. */
    for (uint16_t i = 0; i < n; i++) {
      f[i] = rte_pktmbuf_mtod(m[i], const uint8_t *);
      len[i] = m[i]->data_len;
      rte_prefetch0(f[i] + len[i] - VSG_TRAILER_LEN);
    }
    rx_demux_burst(E, q->port, q->queue, f, len, n, ts);
    rte_pktmbuf_free_bulk(m, n);
    got += n;
  } while (++k < RX_BURSTS && n == RX_BURST);
  return got;
}

/* TSC of the next frame due on any of the loop's streams (UINT64_MAX: none paced). */
static uint64_t next_due(const struct worker *w, uint64_t now) {
  uint64_t next = UINT64_MAX;
  for (int i = 0; i < w->nlanes; i++) {
    const struct lane *l = w->lanes[i];
    if (l->phase == LANE_DONE) continue;
    if (l->npend || l->tsc_per_frame <= 0) return now; /* frames waiting, or flat out */
    if (l->next_due < next) next = l->next_due;
  }
  return next;
}

/* Idle policy. A loop on a core of its own spins: the lowest delay for a frame in the RX ring. A loop the
 * kernel preempts shares its core, and there a spinning thread waits behind every other runnable task
 * when frames arrive (measured at load 15: ms of RX delay), while one that slept is run promptly when it
 * wakes; so a loop that was preempted in the last second sleeps idle_ns once it has been idle that long
 * with nothing due sooner. Preempted = involuntary context switches of the thread (getrusage), checked
 * every 50 ms. VSG_LOOP_IDLE_US=N: sleep N µs when idle (0: always spin). */
struct idle_policy {
  long ns;
  uint64_t tsc;
  int always; /* VSG_LOOP_IDLE_US given: sleep when idle whether preempted or not */
};

static struct idle_policy idle_policy(void) {
  const char *v = getenv("VSG_LOOP_IDLE_US");
  struct idle_policy p = {.ns = v ? atol(v) * 1000 : 20000, .always = v != NULL};
  p.tsc = (uint64_t)((double)p.ns / dpdk_ns_per_tsc());
  return p;
}

static void idle_check(struct worker *w, uint64_t now) {
  if (now < w->idle_check_at) return;
  w->idle_check_at = now + tsc_hz_measured / 20;
  struct rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) != 0) return;
  if ((uint64_t)ru.ru_nivcsw > w->nivcsw) w->shared_until = now + tsc_hz_measured;
  w->nivcsw = (uint64_t)ru.ru_nivcsw;
}

/* Returns 1 if it slept. */
static int idle_wait(struct worker *w, uint64_t now, const struct idle_policy *ip) {
  if (!w->idle_since) w->idle_since = now;
  if (ip->tsc && (ip->always || now < w->shared_until) && now - w->idle_since > ip->tsc && next_due(w, now) > now + 2 * ip->tsc) {
    struct timespec ts = {0, ip->ns};
    nanosleep(&ts, NULL);
    w->sleeps++;
    return 1;
  }
  rte_pause();
  return 0;
}

/* A round longer than this that did not sleep was preempted (a full round of 4 x 32 RX and 2 x 64 TX
 * frames takes ~25 µs at 250 cycles per frame). */
#define ROUND_MAX_US 100
static void *worker_main(void *arg) {
  struct worker *w = arg;
  if (w->cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(w->cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  if (E->rt_priority > 0) {
    struct sched_param sp = {.sched_priority = E->rt_priority};
    int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    if (rc) fprintf(stderr, "vsg-engine: SCHED_FIFO %d for the loop on CPU %d: %s (continuing without)\n", E->rt_priority, w->cpu, strerror(rc));
  }
  rte_thread_register(); /* an lcore id: the mempool caches */
  uint64_t t0 = tsc_of_mono(E->t0_mono), prev = 0, prev_moved = 0;
  const uint64_t round_max = (uint64_t)(ROUND_MAX_US * 1e3 / dpdk_ns_per_tsc());
  int prev_busy = 0, prev_slept = 0;
  const struct idle_policy ip = idle_policy();
  struct rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) == 0) w->nivcsw0 = w->nivcsw = (uint64_t)ru.ru_nivcsw;
  for (;;) {
    uint64_t now = rte_rdtsc();
    if (prev && now > t0) {
      if (now - prev >= round_max && !prev_slept) {
        w->offcpu_cycles += now - prev;
      } else {
        w->cycles += now - prev;
        if (prev_busy) w->busy_cycles += now - prev;
      }
      if (prev_moved && now - prev < round_max) {
        w->cost_cycles += now - prev;
        w->cost_frames += prev_moved;
      }
    }
    prev = now;
    int busy = 0, active = 0;
    unsigned moved = 0;
    for (int i = 0; i < w->nlanes; i++) {
      struct lane *l = w->lanes[i];
      uint64_t taken0 = l->taken;
      busy |= lane_step(l, now);
      moved += (unsigned)(l->taken - taken0);
      active |= l->phase != LANE_DONE;
    }
    for (int i = 0; i < w->nrxq; i++) moved += rx_step(&w->rxqs[i]);
    busy |= moved > 0;
    if (now > t0) w->frames += moved;
    prev_moved = moved;
    if (!active && atomic_load_explicit(&E->stop_rx, memory_order_relaxed)) break;
    prev_busy = busy;
    idle_check(w, now);
    if (busy) w->idle_since = 0;
    prev_slept = busy ? 0 : idle_wait(w, now, &ip);
  }
  for (int i = 0; i < w->nrxq; i++) /* what is already in the rings counts */
    while (rx_step(&w->rxqs[i]) > 0) {
    }
  if (getrusage(RUSAGE_THREAD, &ru) == 0) w->nivcsw = (uint64_t)ru.ru_nivcsw;
  rte_thread_unregister();
  return NULL;
}

/* Lanes of each stream: one per TX queue of its port (at most one per flow). Each lane seen on each RX
 * queue of the receiving port gets its own counters when there is more than one of either. */
static void make_lanes(void) {
  nlanes_all = 0;
  for (int s = 0; s < E->nstreams; s++) {
    const struct stream_cfg *c = &E->streams[s];
    struct port *tp = &E->ports[c->tx_port];
    int n = tp->nq > 1 ? (int)tp->nq : 1;
    if ((unsigned)n > c->flows) n = (int)c->flows;
    E->nlanes[s] = n;
    atomic_store(&lanes_done[s], 0);
    for (int k = 0; k < n; k++) {
      struct lane *l = &lanes[nlanes_all++];
      memset(l, 0, sizeof *l);
      l->si = s;
      l->k = k;
      l->n = n;
      l->txq = (uint16_t)k;
      l->port = tp;
      tmpl_init(&l->t, c);
      if (E->learning_s > 0) phase_learning(l);
      else phase_trial(l);
      lane_reset(l);
    }
    unsigned rq = c->rx_port >= 0 && E->ports[c->rx_port].nq > 1 ? E->ports[c->rx_port].nq : 1;
    if (c->rx_port < 0 || (n == 1 && rq == 1)) continue;
    for (int k = 0; k < n; k++)
      for (unsigned q = 0; q < rq; q++) {
        struct rx_stats *r = malloc(sizeof *r);
        if (!r || rx_stats_init(r)) fail("E_NOMEM", "out of memory for the counters of stream %d", s);
        r->tl.bin0_ns = E->rx[s].tl.bin0_ns;
        E->rx_part[s][k][q] = r;
      }
  }
}

/* Work items round robin over the cores: TX lanes first, then the RX queues. */
static void assign(void) {
  int ncores = E->ncpus > 0 ? E->ncpus : 1;
  int items = nlanes_all;
  for (int i = 0; i < E->nports; i++) items += E->ports[i].needs_rx ? (int)(E->ports[i].nq > 1 ? E->ports[i].nq : 1) : 0;
  nworkers = items < ncores ? items : ncores;
  if (nworkers > LOOP_MAX_WORKERS) nworkers = LOOP_MAX_WORKERS;
  for (int w = 0; w < nworkers; w++) workers[w].cpu = E->ncpus > 0 ? E->cpus[w] : -1;
  int k = 0;
  for (int i = 0; i < nlanes_all; i++, k++) {
    struct worker *w = &workers[k % nworkers];
    w->lanes[w->nlanes++] = &lanes[i];
  }
  for (int p = 0; p < E->nports; p++) {
    if (!E->ports[p].needs_rx) continue;
    unsigned nq = E->ports[p].nq > 1 ? E->ports[p].nq : 1;
    for (unsigned q = 0; q < nq; q++) {
      struct worker *w = &workers[k++ % nworkers];
      w->rxqs[w->nrxq++] = (struct rxq){.port = p, .port_id = E->ports[p].io->port_id, .queue = (uint16_t)q};
    }
  }
}

/* Every port a DPDK port: start the loops (returns 0), else -1 (the engine runs its threads). */
int loop_start(struct engine *e) {
  for (int i = 0; i < e->nports; i++)
    if (e->ports[i].ops != &dpdk_ops) return -1;
  E = e;
  tsc_hz_measured = (uint64_t)(1e9 / dpdk_ns_per_tsc());
  pub_tsc_every = tsc_hz_measured / 1000000 * PUB_US;
  tx_wait_tsc = (uint64_t)(E->tx_burst_wait_us * 1e3 / dpdk_ns_per_tsc());
  mono_tsc0 = rte_rdtsc();
  mono_ns0 = now_mono();
  make_lanes();
  assign();
  for (int w = 0; w < nworkers; w++) {
    if (pthread_create(&workers[w].th, NULL, worker_main, &workers[w]) != 0) fail("E_DPDK", "cannot start the polling loop for CPU %d", workers[w].cpu);
    workers[w].started = 1;
    char name[16];
    snprintf(name, sizeof name, "vsg-poll-%d", w); /* the host-conditions probe knows these spin by design */
    pthread_setname_np(workers[w].th, name);
  }
  if (getenv("VSG_DEBUG"))
    for (int w = 0; w < nworkers; w++) fprintf(stderr, "vsg-engine: loop on CPU %d: %d TX lanes, %d RX queues\n", workers[w].cpu, workers[w].nlanes, workers[w].nrxq);
  return 0;
}

void loop_join(void) {
  for (int w = 0; w < nworkers; w++)
    if (workers[w].started) pthread_join(workers[w].th, NULL);
}

/* ,"loops":[{"cpu","busy_pct",…}…]: per loop, the share of its time on the CPU spent in rounds that moved
 * frames (a polling loop is always 100 % busy for the kernel; this says how much of it was work), the
 * share it was off the CPU (preempted rounds), and its cycles per frame. */
void loop_print(void) {
  if (!nworkers) return;
  printf(",\"loops\":[");
  for (int w = 0; w < nworkers; w++)
    printf("%s{\"cpu\":%d,\"busy_pct\":%.1f,\"frames\":%llu,\"busy_cycles_per_frame\":%.0f,\"cycles_per_frame\":%.0f,\"offcpu_pct\":%.1f,\"preempted\":%llu,\"idle_sleeps\":%llu}", w ? "," : "",
           workers[w].cpu, workers[w].cycles ? 100.0 * (double)workers[w].busy_cycles / (double)workers[w].cycles : 0.0,
           (unsigned long long)workers[w].frames, workers[w].frames ? (double)workers[w].busy_cycles / (double)workers[w].frames : 0.0,
           workers[w].cost_frames ? (double)workers[w].cost_cycles / (double)workers[w].cost_frames : 0.0,
           workers[w].cycles + workers[w].offcpu_cycles ? 100.0 * (double)workers[w].offcpu_cycles / (double)(workers[w].cycles + workers[w].offcpu_cycles) : 0.0,
           (unsigned long long)(workers[w].nivcsw - workers[w].nivcsw0), (unsigned long long)workers[w].sleeps);
  printf("]");
}
#endif
