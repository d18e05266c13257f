/* Receive-side counting: sequence window (duplicates, reordering, gaps) and the latency histogram. */
#include <stdlib.h>
#include <string.h>
#include "vsg.h"

/* Values below 32 ns get one bucket each; above, each power of two is split into 32 linear buckets. */
unsigned hist_bucket(uint64_t ns) {
  if (ns < HIST_SUB) return (unsigned)ns;
  unsigned e = 63 - (unsigned)__builtin_clzll(ns); /* >= HIST_SUB_BITS */
  if (e >= HIST_MAX_EXP) return HIST_BUCKETS - 1;
  unsigned sub = (unsigned)(ns >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1);
  return HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB + sub;
}

uint64_t hist_lower(unsigned b) {
  if (b < HIST_SUB) return b;
  unsigned e = (b - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
  unsigned sub = (b - HIST_SUB) % HIST_SUB;
  return (uint64_t)(HIST_SUB + sub) << (e - HIST_SUB_BITS);
}

int rx_stats_init(struct rx_stats *r) {
  memset(r, 0, sizeof *r);
  r->max_seq = -1;
  r->lat_min = UINT64_MAX;
  r->win = calloc(SEQ_WIN / 8, 1);
  return r->win ? 0 : -1;
}

void rx_stats_free(struct rx_stats *r) {
  free(r->win);
  r->win = NULL;
  free(r->tl.bin_rx);
  free(r->tl.bin_lat_us);
  r->tl.bin_rx = r->tl.bin_lat_us = NULL;
}

/* Keep the VSG_TOP_GAPS longest silences: replace the shortest kept one when this one is longer. */
static void keep_gap(struct rx_timeline *t, uint64_t from, uint64_t to) {
  uint64_t len = to - from;
  if (t->ngaps < VSG_TOP_GAPS) {
    t->gaps[t->ngaps][0] = from;
    t->gaps[t->ngaps][1] = to;
    t->ngaps++;
    return;
  }
  /* Most silences (one per RX burst) are shorter than every kept one: one comparison, not a scan. */
  if (len <= t->gap_floor) return;
  unsigned min = 0;
  for (unsigned i = 1; i < VSG_TOP_GAPS; i++)
    if (t->gaps[i][1] - t->gaps[i][0] < t->gaps[min][1] - t->gaps[min][0]) min = i;
  if (len > t->gaps[min][1] - t->gaps[min][0]) {
    t->gaps[min][0] = from;
    t->gaps[min][1] = to;
  }
  uint64_t floor = UINT64_MAX;
  for (unsigned i = 0; i < VSG_TOP_GAPS; i++)
    if (t->gaps[i][1] - t->gaps[i][0] < floor) floor = t->gaps[i][1] - t->gaps[i][0];
  t->gap_floor = floor;
}

static int grow_bins(struct rx_timeline *t, unsigned need) {
  if (need <= t->cap) return 0;
  unsigned cap = t->cap ? t->cap : 4096;
  while (cap < need) cap *= 2;
  if (cap > VSG_MAX_BINS) cap = VSG_MAX_BINS;
  uint32_t *a = realloc(t->bin_rx, cap * sizeof *a);
  if (!a) return -1;
  t->bin_rx = a;
  uint32_t *b = realloc(t->bin_lat_us, cap * sizeof *b);
  if (!b) return -1;
  t->bin_lat_us = b;
  memset(t->bin_rx + t->cap, 0, (cap - t->cap) * sizeof *a);
  memset(t->bin_lat_us + t->cap, 0, (cap - t->cap) * sizeof *b);
  t->cap = cap;
  return 0;
}

/* n frames received at rx_ns with the same latency: as n calls of rx_timeline (after the first, a frame
 * received at the same time opens no silence). */
static void timeline_n(struct rx_stats *r, uint64_t rx_ns, int64_t lat_ns, uint64_t n) {
  struct rx_timeline *t = &r->tl;
  /* Receive times of one RX ring are ordered; a step backwards (clock step) is not a silence. */
  if (!t->first_rx_ns) t->first_rx_ns = rx_ns;
  if (t->last_rx_ns && rx_ns > t->last_rx_ns) keep_gap(t, t->last_rx_ns, rx_ns);
  if (rx_ns > t->last_rx_ns) t->last_rx_ns = rx_ns;
  uint64_t thr = atomic_load_explicit(&t->delay_threshold_ns, memory_order_relaxed);
  if (thr && lat_ns >= 0 && (uint64_t)lat_ns > thr) t->delayed += n;
  if (!t->bin0_ns) return;
  uint64_t b = rx_ns > t->bin0_ns ? (rx_ns - t->bin0_ns) / VSG_BIN_NS : 0;
  if (b >= VSG_MAX_BINS || grow_bins(t, (unsigned)b + 1) < 0) return;
  if (b >= t->nbins) t->nbins = (unsigned)b + 1;
  t->bin_rx[b] += (uint32_t)n;
  if (lat_ns >= 0) {
    uint64_t us = (uint64_t)lat_ns / 1000;
    if (us > UINT32_MAX) us = UINT32_MAX;
    if (us > t->bin_lat_us[b]) t->bin_lat_us[b] = (uint32_t)us;
  }
}

void rx_timeline(struct rx_stats *r, uint64_t rx_ns, int64_t lat_ns) { timeline_n(r, rx_ns, lat_ns, 1); }

uint64_t hist_quantile(const struct rx_stats *r, double q) {
  uint64_t n = 0;
  for (unsigned b = 0; b < HIST_BUCKETS; b++) n += r->hist[b];
  if (!n) return 0;
  uint64_t want = (uint64_t)(q * (double)n), seen = 0;
  for (unsigned b = 0; b < HIST_BUCKETS; b++) {
    seen += r->hist[b];
    if (seen > want) return b + 1 < HIST_BUCKETS ? hist_lower(b + 1) : hist_lower(b);
  }
  return hist_lower(HIST_BUCKETS - 1);
}

static inline int bit_test_set(uint8_t *w, uint64_t i) {
  i &= SEQ_WIN - 1;
  uint8_t m = (uint8_t)(1u << (i & 7));
  int was = (w[i >> 3] & m) != 0;
  w[i >> 3] |= m;
  return was;
}

static void bits_clear(uint8_t *w, uint64_t from, uint64_t to) { /* [from, to) in sequence space */
  if (to - from >= SEQ_WIN) {
    memset(w, 0, SEQ_WIN / 8);
    return;
  }
  for (uint64_t i = from; i < to; i++) w[(i & (SEQ_WIN - 1)) >> 3] &= (uint8_t)~(1u << (i & 7));
}

/*
 * The sequence number of one frame. The 32-bit wire sequence is extended to 64 bits around the highest
 * seen. New highest: counts the gap. Lower than the highest: a duplicate if already seen in the window,
 * else a late (reordered) frame.
 */
static inline void seq_account(struct rx_stats *r, uint32_t seq32) {
  /* The common case, the next frame in order: its bit is the only one to clear and set. */
  if (r->max_seq >= 0 && seq32 == (uint32_t)(r->max_seq + 1)) {
    uint64_t i = (uint64_t)(r->max_seq + 1) & (SEQ_WIN - 1);
    r->win[i >> 3] |= (uint8_t)(1u << (i & 7));
    r->max_seq++;
    return;
  }
  int64_t seq;
  if (r->max_seq < 0) {
    seq = seq32;
  } else {
    seq = (r->max_seq & ~(int64_t)0xffffffff) | seq32;
    if (seq > r->max_seq + 0x80000000LL) seq -= 0x100000000LL;
    else if (seq < r->max_seq - 0x80000000LL) seq += 0x100000000LL;
  }
  if (seq > r->max_seq) {
    uint64_t from = (uint64_t)(r->max_seq + 1);
    uint64_t gap = (uint64_t)(seq - r->max_seq - 1);
    if (r->max_seq >= 0 && gap > r->max_gap) r->max_gap = gap;
    bits_clear(r->win, from, (uint64_t)seq + 1);
    bit_test_set(r->win, (uint64_t)seq);
    r->max_seq = seq;
  } else if (r->max_seq - seq >= SEQ_WIN || seq < 0) {
    r->too_old++;
    r->reordered++;
  } else if (bit_test_set(r->win, (uint64_t)seq)) {
    r->dup++;
  } else {
    r->reordered++;
  }
}

/* n latency samples of the same value. */
static inline void lat_account(struct rx_stats *r, int64_t lat_ns, uint64_t n) {
  if (lat_ns < 0) return;
  uint64_t l = (uint64_t)lat_ns;
  if (l < r->lat_min) r->lat_min = l;
  if (l > r->lat_max) r->lat_max = l;
  r->lat_sum += l * n;
  r->lat_n += n;
  r->hist[hist_bucket(l)] += n;
}

void rx_account(struct rx_stats *r, uint32_t seq32, unsigned len, int64_t lat_ns) {
  seq_account(r, seq32);
  r->bytes += len;
  lat_account(r, lat_ns, 1);
  atomic_fetch_add_explicit(&r->frames, 1, memory_order_relaxed);
}

int64_t rx_latency(uint64_t rx_ns, uint64_t ts48) {
  uint64_t d = ((rx_ns & ((1ull << 48) - 1)) - ts48) & ((1ull << 48) - 1);
  return d >= (1ull << 47) ? 0 : (int64_t)d; /* a clock step backwards: clamp to 0 */
}

/*
 * A burst of n frames of one stream (or one part) received at rx_ns: the same counters as rx_account and
 * rx_timeline frame by frame, but the frames that share a TX timestamp (a TX burst) share one latency,
 * counted once with their number, and the frame counter is published once.
 */
void rx_account_burst(struct rx_stats *r, const uint32_t *seq, const uint16_t *len, const uint64_t *ts48, unsigned n, uint64_t rx_ns, int latency) {
  uint64_t bytes = 0;
  unsigned i = 0;
  while (i < n) {
    unsigned j = i;
    do {
      seq_account(r, seq[j]);
      bytes += len[j];
      j++;
    } while (j < n && ts48[j] == ts48[i]);
    int64_t lat = latency ? rx_latency(rx_ns, ts48[i]) : -1;
    lat_account(r, lat, j - i);
    timeline_n(r, rx_ns, lat, j - i);
    i = j;
  }
  r->bytes += bytes;
  atomic_fetch_add_explicit(&r->frames, n, memory_order_relaxed);
}

void rx_stats_merge(struct rx_stats *dst, const struct rx_stats *src) {
  dst->bytes += src->bytes;
  dst->dup += src->dup;
  dst->reordered += src->reordered;
  dst->too_old += src->too_old;
  if (src->max_gap > dst->max_gap) dst->max_gap = src->max_gap;
  if (src->lat_n) {
    if (src->lat_min < dst->lat_min) dst->lat_min = src->lat_min;
    if (src->lat_max > dst->lat_max) dst->lat_max = src->lat_max;
    dst->lat_sum += src->lat_sum;
    dst->lat_n += src->lat_n;
    for (unsigned b = 0; b < HIST_BUCKETS; b++) dst->hist[b] += src->hist[b];
  }
  const struct rx_timeline *s = &src->tl;
  struct rx_timeline *d = &dst->tl;
  if (s->first_rx_ns && (!d->first_rx_ns || s->first_rx_ns < d->first_rx_ns)) d->first_rx_ns = s->first_rx_ns;
  if (s->last_rx_ns > d->last_rx_ns) d->last_rx_ns = s->last_rx_ns;
  d->delayed += s->delayed;
  if (!d->bin0_ns || !s->nbins || grow_bins(d, s->nbins) < 0) return;
  if (s->nbins > d->nbins) d->nbins = s->nbins;
  for (unsigned b = 0; b < s->nbins; b++) {
    d->bin_rx[b] += s->bin_rx[b];
    if (s->bin_lat_us[b] > d->bin_lat_us[b]) d->bin_lat_us[b] = s->bin_lat_us[b];
  }
}

/*
 * The longest run of missing sequence numbers between received frames of one sender (lane) whose
 * frames were counted in n parts (one per RX queue: RSS spreads its flows). Each part saw a
 * subsequence, so its own gaps include the frames the other queues got; the union of their windows
 * is the lane's window. Exact for the last SEQ_WIN sequence numbers (every trial of up to 2^24 frames
 * per lane); earlier gaps are not seen.
 */
uint64_t rx_parts_max_gap(struct rx_stats *const *parts, unsigned n) {
  int64_t hi = -1;
  for (unsigned i = 0; i < n; i++)
    if (parts[i] && parts[i]->max_seq > hi) hi = parts[i]->max_seq;
  if (hi < 0) return 0;
  int64_t lo = hi - (int64_t)SEQ_WIN + 1 > 0 ? hi - (int64_t)SEQ_WIN + 1 : 0;
  uint64_t best = 0, run = 0;
  int seen = 0;
  for (int64_t seq = lo; seq <= hi; seq++) {
    uint64_t i = (uint64_t)seq & (SEQ_WIN - 1);
    int got = 0;
    for (unsigned p = 0; p < n && !got; p++)
      got = parts[p] && seq <= parts[p]->max_seq && (parts[p]->win[i >> 3] >> (i & 7) & 1);
    if (!got) {
      run++;
      continue;
    }
    if (seen && run > best) best = run;
    seen = 1;
    run = 0;
  }
  return best;
}
