/*
 * Received frames to the streams they belong to (rx_demux.c): what the receiving side of every backend
 * calls, the ring backends' RX threads (main.c) frame by frame and the dpdk polling loops (dpdk_loop.c)
 * burst by burst. Its own module so that both depend on it and neither on the other.
 */
#ifndef VSG_RX_DEMUX_H
#define VSG_RX_DEMUX_H

#include <stdint.h>
#include "vsg.h"

/* Count one received frame of port `port` (any thread; the port's RX is polled by one thread). */
void rx_demux_frame(struct engine *e, int port, const uint8_t *f, unsigned len, uint64_t rx_ns);
/* A burst of n frames of RX queue q of the port received at rx_ns (dpdk loops; one poller per queue). */
void rx_demux_burst(struct engine *e, int port, unsigned q, const uint8_t *const *f, const uint16_t *len, unsigned n, uint64_t rx_ns);

#endif
