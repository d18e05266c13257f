/*
 * Check of the dpdk loops' burst pacing (tx_pace.h): a loop that polls every few hundred TSC ticks (and
 * sometimes stalls for milliseconds, as a preempted thread does) sends what tx_pace_take allows. Checked:
 * no frame leaves before it is due; none later than the wait plus one poll interval (or than the end of
 * a stall); the number sent never falls behind the schedule by more than a burst and what is due within
 * the wait; bursts of exactly B at a rate above B / W; single frames at a low rate once W has passed;
 * B = 1 sends each frame when due; tx_pace_next is never later than the first time take allows a send.
 * Prints one line per failure and a summary; exit 0 = none. Built and run by
 * test/unit/trafficgen/software/engine-rx.test.ts.
 */
#include <stdio.h>
#include <stdint.h>
#include "../tx_pace.h"

static unsigned long long rng = 88172645463325252ull;
static unsigned rnd(unsigned n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng % n);
}

static int fails, checks;
#define CHECK(cond, ...)                                                                                              \
  do {                                                                                                                \
    checks++;                                                                                                         \
    if (!(cond)) {                                                                                                    \
      fails++;                                                                                                        \
      if (fails < 20) {                                                                                               \
        printf(__VA_ARGS__);                                                                                          \
        printf("\n");                                                                                                 \
      }                                                                                                               \
    }                                                                                                                 \
  } while (0)

struct sim {
  uint64_t frames, sends, min_send, max_send, max_late, stall_late, max_behind;
  int early, next_late;
};

/* Poll from t_start for `frames` frames: every step_lo..step_hi ticks, with a stall of stall ticks
 * every stall_every polls (0 = none). max frames per send as the loop's LOOP_BURST. */
static struct sim run(const struct tx_pace *p, uint64_t frames, unsigned step_lo, unsigned step_hi, uint64_t stall, unsigned stall_every, uint64_t max) {
  struct sim s = {.min_send = UINT64_MAX};
  uint64_t now = p->t_start > 1000 ? p->t_start - 1000 : 0, sent = 0, polls = 0, after_stall = 0;
  while (sent < frames) {
    uint64_t step = step_lo + rnd(step_hi - step_lo + 1);
    if (stall_every && ++polls % stall_every == 0) {
      step = stall;
      after_stall = 1;
    }
    now += step;
    uint64_t next = tx_pace_next(p, sent);
    uint64_t n = tx_pace_take(p, now, sent, max);
    if (n && now < next) s.next_late = 1;
    if (p->per > 0 && now >= p->t_start) {
      uint64_t due = (uint64_t)((double)(now - p->t_start) / p->per) + 1;
      if (due > sent + n && due - sent - n > s.max_behind && !after_stall) s.max_behind = due - sent - n;
    }
    if (!n) continue;
    int last = n >= frames - sent; /* the run's end cuts the last send short: not a burst to judge */
    if (last) n = frames - sent;
    for (uint64_t i = sent; i < sent + n; i++) {
      uint64_t at = tx_pace_due_at(p, i);
      if (now < at) s.early = 1;
      else if (after_stall) {
        if (now - at > s.stall_late) s.stall_late = now - at;
      } else if (now - at > s.max_late)
        s.max_late = now - at;
    }
    if (n < s.min_send && !last) s.min_send = n;
    if (n > s.max_send) s.max_send = n;
    s.sends++;
    sent += n;
    if (n < max) after_stall = 0; /* caught up */
  }
  s.frames = sent;
  return s;
}

int main(void) {
  const double tsc_hz = 2.1e9;
  const uint64_t W = (uint64_t)(50e-6 * tsc_hz); /* 50 µs */
  const unsigned step_lo = 150, step_hi = 600;   /* a polling round: 70-290 ns */

  /* 1 Mfps (per 2100 ticks), B 32: B frames take 67 200 ticks < W, so every send is a burst of 32. */
  {
    struct tx_pace p = {.t_start = 1000000, .per = tsc_hz / 1e6, .burst = 32, .wait = W};
    struct sim s = run(&p, 2000000, step_lo, step_hi, 0, 0, 64);
    CHECK(!s.early, "1 Mfps B32: a frame left before it was due");
    CHECK(s.min_send == 32 && s.max_send == 32, "1 Mfps B32: sends of %llu..%llu frames, want 32 each", (unsigned long long)s.min_send, (unsigned long long)s.max_send);
    CHECK(s.max_late <= (uint64_t)(31 * p.per) + step_hi, "1 Mfps B32: a frame %llu ticks late, want <= 31 frames + one poll", (unsigned long long)s.max_late);
    CHECK(s.max_behind <= 32, "1 Mfps B32: fell %llu frames behind the schedule, want <= 32", (unsigned long long)s.max_behind);
    CHECK(!s.next_late, "1 Mfps B32: tx_pace_next later than a send");
  }
  /* 200 kfps (per 10 500 ticks), B 32: 32 frames take 336 000 ticks > W: the oldest's wait decides, 11 frames a send. */
  {
    struct tx_pace p = {.t_start = 5000, .per = tsc_hz / 2e5, .burst = 32, .wait = W};
    struct sim s = run(&p, 400000, step_lo, step_hi, 0, 0, 64);
    CHECK(!s.early, "200 kfps B32: a frame left before it was due");
    CHECK(s.max_late <= W + step_hi, "200 kfps B32: a frame %llu ticks late, want <= W + one poll (%llu)", (unsigned long long)s.max_late, (unsigned long long)(W + step_hi));
    CHECK(s.min_send >= 10 && s.max_send <= 12, "200 kfps B32: sends of %llu..%llu frames, want 10..12 (W / per + 1)", (unsigned long long)s.min_send, (unsigned long long)s.max_send);
    CHECK(!s.next_late, "200 kfps B32: tx_pace_next later than a send");
  }
  /* 1 kfps (learning rate), B 32: a frame every 1 ms, each alone, W after it was due. */
  {
    struct tx_pace p = {.t_start = 7, .per = tsc_hz / 1e3, .burst = 32, .wait = W};
    struct sim s = run(&p, 3000, 20000, 40000, 0, 0, 64);
    CHECK(!s.early, "1 kfps B32: a frame left before it was due");
    CHECK(s.min_send == 1 && s.max_send == 1, "1 kfps B32: sends of %llu..%llu frames, want single frames", (unsigned long long)s.min_send, (unsigned long long)s.max_send);
    CHECK(s.max_late <= W + 40000, "1 kfps B32: a frame %llu ticks late, want <= W + one poll", (unsigned long long)s.max_late);
  }
  /* B 1: each frame when due (late by at most one poll), whatever W. */
  {
    struct tx_pace p = {.t_start = 123456, .per = tsc_hz / 1.5e6, .burst = 1, .wait = W};
    struct sim s = run(&p, 1500000, step_lo, step_hi, 0, 0, 64);
    CHECK(!s.early, "B1: a frame left before it was due");
    CHECK(s.max_late <= step_hi, "B1: a frame %llu ticks late, want <= one poll", (unsigned long long)s.max_late);
    CHECK(s.max_send <= 2, "B1 at 1.5 Mfps, polls every <= %u ticks: up to %llu frames a send, want <= 2", step_hi, (unsigned long long)s.max_send);
  }
  /* Stalls of 5 ms every 20 000 polls: after a stall the loop sends up to 64 a round until it caught up,
   * never early; the rate over the run is the schedule's. */
  {
    struct tx_pace p = {.t_start = 0, .per = tsc_hz / 8e5, .burst = 16, .wait = W / 2};
    const uint64_t frames = 4000000;
    struct sim s = run(&p, frames, step_lo, step_hi, (uint64_t)(5e-3 * tsc_hz), 20000, 64);
    CHECK(!s.early, "stalls: a frame left before it was due");
    CHECK(s.max_send == 64, "stalls: largest send %llu, want 64 (catching up)", (unsigned long long)s.max_send);
    CHECK(s.max_late <= W / 2 + step_hi + (uint64_t)(15 * p.per), "stalls: outside catch-up a frame %llu ticks late", (unsigned long long)s.max_late);
    CHECK(s.stall_late >= (uint64_t)(4e-3 * tsc_hz), "stalls: the stall did not delay frames (%llu ticks): the check does not stall", (unsigned long long)s.stall_late);
    CHECK(s.frames == frames, "stalls: %llu frames sent of %llu", (unsigned long long)s.frames, (unsigned long long)frames);
  }
  /* The rate over a long run: after T, what was sent is the schedule's count within one burst. */
  for (int c = 0; c < 40; c++) {
    double rate = 1e4 + rnd(3000000);
    struct tx_pace p = {.t_start = rnd(1000000), .per = tsc_hz / rate, .burst = 1 + rnd(32), .wait = (uint64_t)((1 + rnd(200)) * 1e-6 * tsc_hz)};
    uint64_t now = p.t_start, sent = 0, T = p.t_start + (uint64_t)(0.2 * tsc_hz);
    int early = 0;
    while (now < T) {
      now += step_lo + rnd(step_hi - step_lo + 1);
      uint64_t n = tx_pace_take(&p, now, sent, 64);
      if (n && now < tx_pace_due_at(&p, sent + n - 1)) early = 1;
      sent += n;
    }
    uint64_t due = (uint64_t)((double)(now - p.t_start) / p.per) + 1;
    uint64_t within_w = (uint64_t)((double)p.wait / p.per) + 1;
    uint64_t slack = (p.burst - 1 < within_w ? p.burst - 1 : within_w) + 1;
    CHECK(!early, "case %d (%.0f fps, B %llu): a frame left before it was due", c, rate, (unsigned long long)p.burst);
    CHECK(sent <= due && due - sent <= slack, "case %d (%.0f fps, B %llu, W %llu): %llu sent of %llu due, want within %llu", c, rate, (unsigned long long)p.burst,
          (unsigned long long)p.wait, (unsigned long long)sent, (unsigned long long)due, (unsigned long long)slack);
    /* tx_pace_next: nothing before it, something just after (it is the first time B are due or W passed) */
    uint64_t nx = tx_pace_next(&p, sent);
    CHECK(nx <= now || tx_pace_take(&p, nx - 1, sent, 64) == 0, "case %d: tx_pace_take allows a send before tx_pace_next", c);
    CHECK(tx_pace_take(&p, (nx > now ? nx : now) + 2, sent, 64) > 0, "case %d: nothing to send just after tx_pace_next", c);
  }
  /* Flat out: everything, always. More due than max: max. */
  {
    struct tx_pace flat = {.t_start = 100, .per = 0, .burst = 32, .wait = W};
    CHECK(tx_pace_take(&flat, 0, 0, 64) == 64 && tx_pace_take(&flat, 1000, 5, 17) == 17, "flat out: take is not max");
    struct tx_pace p = {.t_start = 0, .per = 1000, .burst = 32, .wait = W};
    CHECK(tx_pace_take(&p, 1000000, 0, 64) == 64, "1001 due: take %llu, want max 64", (unsigned long long)tx_pace_take(&p, 1000000, 0, 64));
    CHECK(tx_pace_take(&p, 30999, 0, 64) == 0 && tx_pace_take(&p, 31000, 0, 64) == 32, "B32 per 1000: want 0 at 30 999 (31 due), 32 at 31 000");
    struct tx_pace q = {.t_start = 0, .per = 10000, .burst = 32, .wait = W};
    CHECK(tx_pace_take(&q, 1000000 + W - 1, 100, 64) == 0 && tx_pace_take(&q, 1000000 + W, 100, 64) == 11,
          "B32 per 10 000, frame 100 due at 1 000 000: want 0 until it waited W, then the 11 due");
  }
  printf("%d checks, %d failures\n", checks, fails);
  return fails ? 1 : 0;
}
