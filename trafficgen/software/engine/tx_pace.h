/*
 * Paced sending in bursts, the dpdk loops' decision of how many due frames to hand to a TX queue now
 * (--tx-burst B, --tx-burst-wait-us W). Pure: no clock, no device; test/tx_pace_check.c pins it.
 *
 * Frame i of a lane is due at t_start + i * per (TSC ticks). The frames due and not yet sent go out
 * together once B of them are due, or once the oldest of them has waited W: the schedule of frame i is
 * kept (the average rate is exact), a frame leaves at most W (plus one loop round) after it was due, and
 * at a rate above B / W the frames leave in bursts of B, as a NIC's doorbell, TRex or testpmd txonly send
 * them. A switch's poll loop pays its per-batch work once per burst instead of once per frame: measured
 * on OVS-DPDK over vhost-user, evenly spaced single frames cost its PMD 28-53 % more cycles per packet
 * (docs/generator.md, session 8). B = 1 sends each frame when it is due.
 */
#ifndef VSG_TX_PACE_H
#define VSG_TX_PACE_H

#include <stdint.h>

struct tx_pace {
  uint64_t t_start; /* TSC at which frame 0 is due */
  double per;       /* TSC ticks per frame; <= 0: flat out (everything is always due) */
  uint64_t burst;   /* B >= 1 */
  uint64_t wait;    /* W in TSC ticks */
};

/* TSC at which frame i is due. */
static inline uint64_t tx_pace_due_at(const struct tx_pace *p, uint64_t i) { return p->t_start + (uint64_t)((double)i * p->per); }

/* Frames to send at `now` when frames 0..sent-1 are gone: 0, or all that are due (at most `max`). */
static inline uint64_t tx_pace_take(const struct tx_pace *p, uint64_t now, uint64_t sent, uint64_t max) {
  if (p->per <= 0) return max;
  if (now < p->t_start) return 0;
  uint64_t due = (uint64_t)((double)(now - p->t_start) / p->per) + 1;
  if (due <= sent) return 0;
  uint64_t n = due - sent;
  if (n < p->burst && now < tx_pace_due_at(p, sent) + p->wait) return 0;
  return n < max ? n : max;
}

/* Earliest TSC at which tx_pace_take may return more than 0 (B due, or the oldest due for W): a loop
 * compares one integer per round until then. */
static inline uint64_t tx_pace_next(const struct tx_pace *p, uint64_t sent) {
  if (p->per <= 0) return 0;
  uint64_t oldest = tx_pace_due_at(p, sent) + p->wait;
  uint64_t full = tx_pace_due_at(p, sent + p->burst - 1);
  return full < oldest ? full : oldest;
}

#endif
