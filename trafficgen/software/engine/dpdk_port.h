/*
 * What io_dpdk.c (device setup, EAL, clock) and dpdk_loop.c (the polling loops) share: the port behind
 * an io_port handle and the TSC clock. Only built with DPDK.
 */
#ifndef VSG_DPDK_PORT_H
#define VSG_DPDK_PORT_H

#include <stdint.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>

struct io_port {
  uint16_t port_id;
  uint16_t nq;    /* RX and TX queues configured (--queues, capped by the device) */
  int hotplugged; /* a vdev we probed: removed again at close */
  struct rte_mempool *txpool, *rxpool;
  struct rte_mbuf *pend[256];
  unsigned npend;
  uint64_t unsent;
  char devname[RTE_ETH_NAME_MAX_LEN];
};

/* Per TX mbuf, in a dynamic field of the mbuf (its second cache line, which allocating and freeing touch
 * anyway): its index in the pool (the ring backends' slot) and what frame it holds (the loops' slot key,
 * 0 = unknown). With no private area the frame starts on a cache line of its own. */
struct vsg_mbuf_slot {
  uint32_t idx;
  uint32_t pad;
  uint64_t key;
};
extern int vsg_slot_off;
static inline struct vsg_mbuf_slot *mbuf_slot(struct rte_mbuf *m) { return RTE_MBUF_DYNFIELD(m, vsg_slot_off, struct vsg_mbuf_slot *); }

/* TSC → CLOCK_REALTIME ns (mapping taken at EAL start, rate measured against CLOCK_REALTIME). */
uint64_t dpdk_tsc_to_real(uint64_t tsc);
/* ns per TSC tick as measured. */
double dpdk_ns_per_tsc(void);

#endif
