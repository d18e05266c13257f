/*
 * Check of the receive counting (stats.c): rx_account_burst must count exactly what rx_account +
 * rx_timeline count frame by frame. Random bursts of frames with loss, duplicates, reordering, old
 * frames, sequence wrap and shared TX timestamps go through both; every counter, the latency histogram,
 * the sequence window and the 1 ms bins must be equal. Prints one line per mismatch; exit 0 = equal.
 * Built and run by test/unit/trafficgen/software/engine-rx.test.ts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../vsg.h"

static unsigned long long rng = 88172645463325252ull;
static unsigned rnd(unsigned n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng % n);
}

static int bad;
#define SAME(field)                                                                                                   \
  do {                                                                                                                \
    if ((a)->field != (b)->field) {                                                                                   \
      printf("case %d: %s differs: per frame %llu, per burst %llu\n", c, #field, (unsigned long long)(a)->field,     \
             (unsigned long long)(b)->field);                                                                          \
      bad++;                                                                                                          \
    }                                                                                                                 \
  } while (0)

static void compare(int c, const struct rx_stats *a, const struct rx_stats *b) {
  SAME(frames);
  SAME(bytes);
  SAME(dup);
  SAME(reordered);
  SAME(too_old);
  SAME(max_gap);
  SAME(max_seq);
  SAME(lat_min);
  SAME(lat_max);
  SAME(lat_sum);
  SAME(lat_n);
  SAME(tl.first_rx_ns);
  SAME(tl.last_rx_ns);
  SAME(tl.ngaps);
  SAME(tl.delayed);
  SAME(tl.nbins);
  if (memcmp(a->hist, b->hist, sizeof a->hist)) printf("case %d: latency histogram differs\n", c), bad++;
  if (memcmp(a->win, b->win, SEQ_WIN / 8)) printf("case %d: sequence window differs\n", c), bad++;
  if (memcmp(a->tl.gaps, b->tl.gaps, sizeof a->tl.gaps)) printf("case %d: receive silences differ\n", c), bad++;
  if (a->tl.nbins == b->tl.nbins && a->tl.nbins &&
      (memcmp(a->tl.bin_rx, b->tl.bin_rx, a->tl.nbins * sizeof *a->tl.bin_rx) || memcmp(a->tl.bin_lat_us, b->tl.bin_lat_us, a->tl.nbins * sizeof *a->tl.bin_lat_us)))
    printf("case %d: 1 ms bins differ\n", c), bad++;
}

int main(void) {
  int cases = 0;
  for (int c = 0; c < 40; c++) {
    struct rx_stats a, b;
    if (rx_stats_init(&a) || rx_stats_init(&b)) return 2;
    int latency = c % 4 != 3;
    uint64_t t0 = 1700000000000000000ull + (uint64_t)c * 1000003;
    if (c % 2) a.tl.bin0_ns = b.tl.bin0_ns = t0; /* --timeline */
    if (c % 3 == 0) atomic_store(&a.tl.delay_threshold_ns, 40000), atomic_store(&b.tl.delay_threshold_ns, 40000);
    uint32_t next = c % 5 == 0 ? 0xffffff00u : 0; /* some cases cross the 32-bit wrap */
    uint64_t rx = t0, tx_ts = t0;
    for (int burst = 0; burst < 3000; burst++) {
      uint32_t seq[32];
      uint16_t len[32];
      uint64_t ts[32];
      unsigned n = 1 + rnd(32);
      for (unsigned i = 0; i < n; i++) {
        if (rnd(6) == 0) tx_ts += 1 + rnd(30000); /* a new TX burst: frames until then share a timestamp */
        unsigned r = rnd(100);
        if (r < 3) next += 1 + rnd(50);                    /* loss */
        if (r == 3 && next > 5) seq[i] = next - 1 - rnd(5); /* duplicate or late */
        else if (r == 4) seq[i] = next - SEQ_WIN - 10;      /* older than the window */
        else seq[i] = next++;
        len[i] = (uint16_t)(60 + rnd(1400));
        ts[i] = tx_ts & ((1ull << 48) - 1);
      }
      rx += rnd(3) ? 1000 + rnd(20000) : 3000000; /* some receive silences longer than a 1 ms bin */
      if (tx_ts + 100 > rx) rx = tx_ts + 100 + rnd(100000);
      for (unsigned i = 0; i < n; i++) {
        int64_t lat = latency ? rx_latency(rx, ts[i]) : -1;
        rx_account(&a, seq[i], len[i], lat);
        rx_timeline(&a, rx, lat);
      }
      rx_account_burst(&b, seq, len, ts, n, rx, latency);
    }
    compare(c, &a, &b);
    if (!a.dup || !a.reordered || !a.too_old || !a.max_gap || (latency && !a.lat_n)) printf("case %d: the input did not exercise every counter\n", c), bad++;
    rx_stats_free(&a);
    rx_stats_free(&b);
    cases++;
  }
  /* A clock step backwards: latency clamps to 0 both ways. */
  if (rx_latency(1000, 2000) != 0 || rx_latency(5000, 2000) != 3000) printf("rx_latency: wrong\n"), bad++;
  printf("%d cases, %d mismatches\n", cases, bad);
  return bad ? 1 : 0;
}
