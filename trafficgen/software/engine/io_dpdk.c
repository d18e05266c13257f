/*
 * DPDK backend: a port is a DPDK ethdev (a vdev such as net_virtio_user / net_af_xdp / net_af_packet /
 * net_pcap, or a PCI NIC bound to vfio-pci), --queues RX and TX queues (capped by the device; RSS over
 * addresses and ports when more than one), polled by the loops of dpdk_loop.c
 * when every port is a DPDK device, else by the engine's TX/RX threads (registered with EAL so the
 * mempool caches work). The EAL runs from hugepages in memory
 * only (--in-memory, private --file-prefix): nothing is left in /dev/hugepages or /var/run/dpdk when the
 * process ends, however it ends.
 *
 * TX buffers are mbufs of a per-port pool with the mbuf's index in a dynamic field: an mbuf keeps its
 * bytes between uses, so the sender's "slot" logic (rewrite only sequence and timestamp) works as with
 * the ring backends. Timestamps come from the TSC, mapped to CLOCK_REALTIME once at EAL start; TX and RX
 * use the same mapping, so a latency is a TSC difference (no clock drift between the ends). RX takes one
 * timestamp per rx_burst (up to 32 frames).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vsg.h"

/* ---- device names ---- */

int dpdk_is_pci(const char *dev) {
  unsigned a, b, c, d;
  char tail;
  if (sscanf(dev, "%4x:%2x:%2x.%1x%c", &a, &b, &c, &d, &tail) == 4) return 1;
  return sscanf(dev, "%2x:%2x.%1x%c", &b, &c, &d, &tail) == 3;
}

/* The ethdev name: the devargs up to the first comma (a vdev's name, or the PCI address in full form). */
static void dev_name(const char *dev, char *out, size_t n) {
  size_t len = strcspn(dev, ",");
  if (len >= n) len = n - 1;
  memcpy(out, dev, len);
  out[len] = 0;
  if (dpdk_is_pci(out) && strlen(out) == 7) { /* BB:DD.F → 0000:BB:DD.F */
    char full[32];
    snprintf(full, sizeof full, "0000:%s", out);
    snprintf(out, n, "%s", full);
  }
}

/* Label for the JSON output (port name field, IFNAMSIZ). */
void dpdk_port_label(const char *dev, char *out, size_t n) {
  char name[64];
  dev_name(dev, name, sizeof name);
  snprintf(out, n, "%s", name);
}

#ifndef VSG_HAVE_DPDK
static int dpdk_unavailable(struct port *p, const struct engine *e, char *msg, size_t ml) {
  (void)p;
  (void)e;
  snprintf(msg, ml, "vsg-engine was built without DPDK (install libdpdk-dev: npm run setup, then npm run build)");
  return -EOPNOTSUPP;
}
const struct io_ops dpdk_ops = {.name = "dpdk", .open = dpdk_unavailable};
#else

#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include "dpdk_port.h"

#define DPDK_BURST 32
#define DPDK_POOL_MIN 2048  /* mbufs per pool at least (the TX ring and the caches hold some) */
#define DPDK_DESC 1024      /* wanted RX/TX descriptors of a NIC or kernel-backed vdev */
#define VIRTIO_DESC 32768   /* virtio_user: ask for the whole ring (the PMD caps it to queue_size) */
#define DPDK_MIN_HUGE_MB 64 /* less free hugepage memory than this: fail before the EAL does, with the fix */
#define VHOST_WAIT_S 15     /* virtio_user server mode waits this long for the switch to connect */
#define VHOST_SETTLE_MS 300 /* after the vhost link is up, before the first frame */

static int eal_up, eal_failed, nopen;
int vsg_slot_off = -1;
static uint64_t tsc0, real0;
static double ns_per_tsc;

/* ---- clock ---- */

/* Pair a TSC reading with CLOCK_REALTIME: the closest of a few tries (least preempted). */
static void clock_pair(uint64_t *tsc, uint64_t *real) {
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 9; i++) {
    uint64_t a = rte_rdtsc();
    uint64_t r = now_real();
    uint64_t b = rte_rdtsc();
    if (b - a < best) {
      best = b - a;
      *tsc = a + (b - a) / 2;
      *real = r;
    }
  }
}

/* The TSC rate measured against CLOCK_REALTIME over 50 ms (the EAL's nominal rate can be off by
 * 100s of ppm in a VM): timestamps of a DPDK port and of a kernel port then agree within µs. */
static void clock_sync(void) {
  uint64_t t1 = 0, r1 = 0;
  clock_pair(&t1, &r1);
  struct timespec ts = {0, 50000000};
  nanosleep(&ts, NULL);
  clock_pair(&tsc0, &real0);
  ns_per_tsc = tsc0 > t1 ? (double)(real0 - r1) / (double)(tsc0 - t1) : 1e9 / (double)rte_get_tsc_hz();
  if (getenv("VSG_DEBUG")) fprintf(stderr, "vsg-engine: TSC %.0f Hz measured, %llu Hz nominal\n", 1e9 / ns_per_tsc, (unsigned long long)rte_get_tsc_hz());
}

static inline uint64_t tsc_to_real(uint64_t tsc) { return real0 + (uint64_t)((double)(int64_t)(tsc - tsc0) * ns_per_tsc); }

static uint64_t dpdk_clock(void) { return tsc_to_real(rte_rdtsc()); }

uint64_t dpdk_tsc_to_real(uint64_t tsc) { return tsc_to_real(tsc); }

double dpdk_ns_per_tsc(void) { return ns_per_tsc; }

/* The engine's threads are plain pthreads: give each an EAL lcore id so it gets a mempool cache. */
static inline void ensure_registered(void) {
  if (unlikely(rte_lcore_id() == LCORE_ID_ANY)) rte_thread_register();
}

/* ---- preflight: what the EAL would otherwise report in many lines, or not at all ---- */

static long huge_free_mb(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  if (!f) return -1;
  char line[128];
  long free_pages = -1, size_kb = 2048;
  while (fgets(line, sizeof line, f)) {
    sscanf(line, "HugePages_Free: %ld", &free_pages);
    sscanf(line, "Hugepagesize: %ld kB", &size_kb);
  }
  fclose(f);
  return free_pages < 0 ? -1 : free_pages * size_kb / 1024;
}

/* A PCI device must be bound to a driver DPDK can use. */
static void check_pci_driver(const char *addr) {
  char path[256], link[256];
  snprintf(path, sizeof path, "/sys/bus/pci/devices/%s", addr);
  struct stat st;
  if (stat(path, &st) != 0) fail("E_NODEV", "PCI device %s not found (lspci -D lists the addresses; check TRAFFICGEN_PORTS / WHITELIST_NICS)", addr);
  snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/driver", addr);
  ssize_t n = readlink(path, link, sizeof link - 1);
  const char *drv = "no driver";
  if (n > 0) {
    link[n] = 0;
    const char *slash = strrchr(link, '/');
    drv = slash ? slash + 1 : link;
  }
  if (strcmp(drv, "vfio-pci") && strcmp(drv, "uio_pci_generic") && strcmp(drv, "igb_uio"))
    fail("E_NOTBOUND", "PCI device %s is bound to %s, not vfio-pci: dpdk-devbind.py -b vfio-pci %s (the Software generator does this for WHITELIST_NICS ports)", addr,
         drv, addr);
}

/* The EAL's main lcore must be a CPU this process may run on. */
static int main_cpu(const struct engine *e, const cpu_set_t *allowed) {
  if (e->ncpus > 0) {
    for (int i = 0; i < e->ncpus; i++)
      if (e->cpus[i] < 0 || e->cpus[i] >= CPU_SETSIZE || !CPU_ISSET(e->cpus[i], allowed))
        fail("E_LCORE", "CPU %d (--cpus / TRAFFICGEN_SOFTWARE_CORES) is not available to this process: pick CPUs from its affinity (taskset -p %d)", e->cpus[i],
             (int)getpid());
    return e->cpus[0];
  }
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, allowed)) return c;
  return 0;
}

static void eal_init(const struct engine *e) {
  if (eal_up) return;
  if (eal_failed) fail("E_DPDK", "DPDK EAL initialisation failed earlier");
  long mb = huge_free_mb();
  if (mb >= 0 && mb < DPDK_MIN_HUGE_MB)
    fail("E_NOHUGE", "the dpdk backend needs at least %d MiB of free hugepages, %ld MiB are free: echo 512 > /proc/sys/vm/nr_hugepages (npm run setup does it)",
         DPDK_MIN_HUGE_MB, mb);
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  sched_getaffinity(0, sizeof allowed, &allowed);
  static char argbuf[24][96];
  char *argv[24];
  int argc = 0;
#define ARG(...) (snprintf(argbuf[argc], sizeof argbuf[argc], __VA_ARGS__), argv[argc] = argbuf[argc], argc++)
  ARG("vsg-engine");
  ARG("--in-memory");
  /* One file per memseg list: vhost-user shares at most 8 memory regions with the switch. */
  ARG("--single-file-segments");
  if (e->dpdk_prefix) ARG("--file-prefix=%s", e->dpdk_prefix);
  else ARG("--file-prefix=vsg-engine-%d", (int)getpid());
  ARG("--no-telemetry");
  ARG("-l");
  ARG("%d", main_cpu(e, &allowed));
  ARG("--log-level=%s", getenv("VSG_DEBUG") ? "8" : "3"); /* errors only: the engine reports the rest */
  int pci = 0;
  for (int i = 0; i < e->nports && argc < 22; i++) {
    const struct port *p = &e->ports[i];
    if (p->dev[0] && dpdk_is_pci(p->dev)) {
      char name[64];
      dev_name(p->dev, name, sizeof name);
      check_pci_driver(name);
      ARG("-a");
      ARG("%s", p->dev);
      pci++;
    }
  }
  /* Without a NIC, IOVA as VA: a virtio ring's memzones must be IOVA-contiguous, and with physical
   * addresses one over a 2 MiB page (the TX header region of a 16384-entry ring, 2.3 MiB) needs
   * adjacent hugepages (virtio_user rings of 16384/32768 failed to probe 4 times in 5; with VA 5 of 5). */
  if (!pci) {
    ARG("--no-pci");
    ARG("--iova-mode=va");
  }
#undef ARG
  /* The EAL logs to stdout by default, which carries our JSON protocol. */
  rte_openlog_stream(stderr);
  if (rte_eal_init(argc, argv) < 0) {
    eal_failed = 1;
    int err = rte_errno;
    if (err == EALREADY || err == EBUSY) fail("E_LCORE", "DPDK EAL: lcore busy or EAL already running (%s)", rte_strerror(err));
    if (err == ENOMEM)
      fail("E_NOHUGE", "DPDK EAL could not get hugepage memory (%s): echo 512 > /proc/sys/vm/nr_hugepages and check that /dev/hugepages is mounted",
           rte_strerror(err));
    fail("E_DPDK", "DPDK EAL initialisation failed: %s (VSG_DEBUG=1 shows the EAL's log)", rte_strerror(err));
  }
  /* rte_eal_init pinned this thread to the main lcore; the engine's threads (created from it) pin
   * themselves per --cpus, or run anywhere. */
  sched_setaffinity(0, sizeof allowed, &allowed);
  static const struct rte_mbuf_dynfield slot_field = {.name = "vsg_tx_slot", .size = sizeof(struct vsg_mbuf_slot), .align = __alignof__(struct vsg_mbuf_slot)};
  vsg_slot_off = rte_mbuf_dynfield_register(&slot_field);
  if (vsg_slot_off < 0) fail("E_DPDK", "DPDK has no room for the engine's mbuf field: %s", rte_strerror(rte_errno));
  clock_sync();
  eal_up = 1;
}

/* ---- open / close ---- */

static void on_alarm(int sig) { (void)sig; }

/* Probe a vdev. virtio_user in server mode blocks in accept() until the switch connects: bounded by SIGALRM. */
static int probe_vdev(const char *dev, char *msg, size_t ml) {
  int server = strstr(dev, "net_virtio_user") == dev && strstr(dev, "server=1") != NULL;
  if (server) {
    const char *path = strstr(dev, "path=");
    if (path) {
      char sock[256];
      size_t len = strcspn(path + 5, ",");
      if (len >= sizeof sock) len = sizeof sock - 1;
      memcpy(sock, path + 5, len);
      sock[len] = 0;
      struct stat st;
      if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(sock); /* a stale socket of a killed engine */
    }
    struct sigaction sa = {.sa_handler = on_alarm}, old;
    sigaction(SIGALRM, &sa, &old);
    alarm(VHOST_WAIT_S);
    int rc = rte_dev_probe(dev);
    alarm(0);
    sigaction(SIGALRM, &old, NULL);
    if (rc < 0)
      return snprintf(msg, ml, "no vhost-user client connected to %s within %d s (is the switch's dpdkvhostuserclient port configured with vhost-server-path=%s?)",
                      path ? path + 5 : dev, VHOST_WAIT_S, path ? path + 5 : "…"),
             -ENODEV;
    return 0;
  }
  int rc = rte_dev_probe(dev);
  if (rc < 0) return snprintf(msg, ml, "DPDK could not probe device %s: %s (VSG_DEBUG=1 shows the driver's reason)", dev, rte_strerror(-rc)), -ENODEV;
  return 0;
}

/* virtio_user's ring size: queue_size= of its devargs, else the PMD's default (256). */
static unsigned virtio_queue_size(const char *dev) {
  const char *q = strstr(dev, "queue_size=");
  long n = q ? strtol(q + 11, NULL, 10) : 256;
  return n > 0 && n <= VIRTIO_DESC ? (unsigned)n : 256;
}

static void mark_index(struct rte_mempool *mp, void *arg, void *obj, unsigned idx) {
  (void)mp;
  (void)arg;
  struct vsg_mbuf_slot *sl = mbuf_slot((struct rte_mbuf *)obj);
  sl->idx = idx;
  sl->key = 0;
}

static void dpdk_close(struct io_port *io) {
  if (!io) return;
  if (io->npend) rte_pktmbuf_free_bulk(io->pend, io->npend);
  if (rte_eth_dev_is_valid_port(io->port_id)) {
    rte_eth_dev_stop(io->port_id);
    struct rte_eth_dev_info info;
    struct rte_device *dev = rte_eth_dev_info_get(io->port_id, &info) == 0 ? info.device : NULL;
    rte_eth_dev_close(io->port_id);
    if (io->hotplugged && dev) rte_dev_remove(dev);
  }
  rte_mempool_free(io->txpool);
  rte_mempool_free(io->rxpool);
  free(io);
  if (--nopen == 0 && eal_up) {
    /* --in-memory leaves only the (empty) runtime directory behind: remove it too. */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", rte_eal_get_runtime_dir());
    rte_eal_cleanup();
    eal_up = 0;
    rmdir(dir);
  }
}

static int fail_open(struct io_port *io, int rc) {
  dpdk_close(io);
  return rc;
}

/* Largest frame (no FCS) any stream sends on or receives from this port. */
static unsigned max_frame(const struct port *p, const struct engine *e) {
  unsigned m = 1514;
  for (int s = 0; s < e->nstreams; s++)
    for (unsigned k = 0; k < e->streams[s].nsizes; k++)
      if (e->streams[s].sizes[k] > m && (&e->ports[e->streams[s].tx_port] == p || (e->streams[s].rx_port >= 0 && &e->ports[e->streams[s].rx_port] == p)))
        m = e->streams[s].sizes[k];
  return m;
}

static int dpdk_open(struct port *p, const struct engine *e, char *msg, size_t ml) {
  if (!p->dev[0]) return snprintf(msg, ml, "port %s has no DPDK device (give --port DEVARGS#dpdk)", p->name), -EINVAL;
  eal_init(e);
  struct io_port *io = calloc(1, sizeof *io);
  if (!io) return -ENOMEM;
  nopen++;
  io->port_id = RTE_MAX_ETHPORTS;
  dev_name(p->dev, io->devname, sizeof io->devname);
  uint16_t pid;
  if (!dpdk_is_pci(p->dev)) {
    int rc = probe_vdev(p->dev, msg, ml);
    if (rc < 0) return fail_open(io, rc);
    io->hotplugged = 1;
  }
  if (rte_eth_dev_get_port_by_name(io->devname, &pid) != 0)
    return fail_open(io, (snprintf(msg, ml, "no DPDK port %s after probing %s%s", io->devname, p->dev,
                                   dpdk_is_pci(p->dev) ? " (is it a NIC DPDK has a driver for, bound to vfio-pci?)" : ""),
                          -ENODEV));
  io->port_id = pid;
  struct rte_eth_dev_info info;
  if (rte_eth_dev_info_get(pid, &info) != 0) return fail_open(io, (snprintf(msg, ml, "rte_eth_dev_info_get(%s) failed", io->devname), -EIO));
  unsigned frame = max_frame(p, e);
  unsigned room = frame + 64 > RTE_MBUF_DEFAULT_DATAROOM ? frame + 64 : RTE_MBUF_DEFAULT_DATAROOM;
  char name[RTE_MEMPOOL_NAMESIZE];
  int socket = rte_eth_dev_socket_id(pid) < 0 ? (int)rte_socket_id() : rte_eth_dev_socket_id(pid);
  snprintf(name, sizeof name, "vsg_tx%u", pid);
  /* Queues: --queues, capped by what the device has (net_af_packet: its qpairs=, net_pcap: 1). */
  unsigned nq = e->queues ? e->queues : 1;
  if (nq > info.max_rx_queues) nq = info.max_rx_queues;
  if (nq > info.max_tx_queues) nq = info.max_tx_queues;
  if (nq < 1) nq = 1;
  io->nq = (uint16_t)nq;
  /* virtio_user uses only as many descriptors of its queue_size ring as queue setup asks for: with
   * DPDK_DESC a 4096-entry ring held 1024 frames, all a descheduled engine or PMD could buffer. */
  int virtio = strstr(p->dev, "net_virtio_user") == p->dev;
  uint16_t nrx = virtio ? VIRTIO_DESC : DPDK_DESC, ntx = nrx;
  rte_eth_dev_adjust_nb_rx_tx_desc(pid, &nrx, &ntx);
  unsigned ring = virtio ? virtio_queue_size(p->dev) : nrx;
  /* --ring sizes the pool (2^n - 1 mbufs: the mempool ring's best size); every descriptor of every
   * queue's ring holds an mbuf, besides a burst and the per-lcore caches: twice the rings at least. */
  unsigned pool = DPDK_POOL_MIN;
  while (pool < e->ring_frames * nq || pool < 2 * ring * nq) pool <<= 1;
  pool -= 1;
  io->txpool = rte_pktmbuf_pool_create(name, pool, 256, 0, (uint16_t)(room + RTE_PKTMBUF_HEADROOM), socket);
  snprintf(name, sizeof name, "vsg_rx%u", pid);
  io->rxpool = rte_pktmbuf_pool_create(name, pool, 256, 0, (uint16_t)(room + RTE_PKTMBUF_HEADROOM), socket);
  if (!io->txpool || !io->rxpool)
    return fail_open(io, (snprintf(msg, ml, "cannot allocate %u mbufs from hugepages (%s): raise /proc/sys/vm/nr_hugepages", 2 * pool, rte_strerror(rte_errno)),
                          -ENOMEM));
  rte_mempool_obj_iter(io->txpool, mark_index, NULL);
  struct rte_eth_conf conf;
  memset(&conf, 0, sizeof conf);
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
  if (nq > 1 && info.flow_type_rss_offloads) {
    /* RSS over addresses and ports: the flows of a multistream spread over the RX queues (a NIC). */
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
  }
  int rc = rte_eth_dev_configure(pid, (uint16_t)nq, (uint16_t)nq, &conf);
  if (rc < 0) return fail_open(io, (snprintf(msg, ml, "rte_eth_dev_configure(%s): %s", io->devname, rte_strerror(-rc)), rc));
  if (frame - 14 > 1500 && (rc = rte_eth_dev_set_mtu(pid, (uint16_t)(frame - 14))) < 0)
    return fail_open(io, (snprintf(msg, ml, "%s cannot take MTU %u: %s", io->devname, frame - 14, rte_strerror(-rc)), -EMSGSIZE));
  struct rte_eth_txconf txc = info.default_txconf;
  txc.offloads = conf.txmode.offloads;
  /* virtio reclaims sent mbufs only when fewer than tx_free_thresh descriptors are left (default 32): with
   * a 16384-entry ring every mbuf then came back 16384 frames later, out of the cache. Reclaiming once 64
   * are used keeps a few hundred mbufs (hot) in circulation; the ring still holds 16384 frames. */
  if (virtio && ring > 128) txc.tx_free_thresh = (uint16_t)(ring - 64);
  for (uint16_t q = 0; q < nq; q++)
    if ((rc = rte_eth_rx_queue_setup(pid, q, nrx, (unsigned)socket, NULL, io->rxpool)) < 0 || (rc = rte_eth_tx_queue_setup(pid, q, ntx, (unsigned)socket, &txc)) < 0)
      return fail_open(io, (snprintf(msg, ml, "queue %u setup on %s: %s", q, io->devname, rte_strerror(-rc)), rc));
  if (getenv("VSG_DEBUG")) fprintf(stderr, "vsg-engine: %s: %u queues, %u RX / %u TX descriptors asked for, ring %u, %u mbufs per pool\n", io->devname, nq, nrx, ntx, ring, pool);
  rte_eth_promiscuous_enable(pid); /* frames for other MACs must reach us (a NIC filters otherwise) */
  if ((rc = rte_eth_dev_start(pid)) < 0) return fail_open(io, (snprintf(msg, ml, "rte_eth_dev_start(%s): %s", io->devname, rte_strerror(-rc)), rc));
  /* Wait for the link: a NIC negotiates, a vhost-user link comes up when the switch side is ready. */
  struct rte_eth_link link;
  memset(&link, 0, sizeof link);
  for (int i = 0; i < 100; i++) {
    if (rte_eth_link_get_nowait(pid, &link) == 0 && link.link_status) break;
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
  }
  if (!link.link_status) fprintf(stderr, "vsg-engine: DPDK port %s link still down after 5 s; sending anyway\n", io->devname);
  if (strstr(p->dev, "net_virtio_user") == p->dev) {
    /* The link is up once the switch accepted the rings, but OVS gives the new port to a PMD a moment
     * later (datapath reconfiguration): frames of the first milliseconds were dropped there. */
    struct timespec ts = {0, VHOST_SETTLE_MS * 1000000L};
    nanosleep(&ts, NULL);
  }
  uint16_t mtu = 1500;
  rte_eth_dev_get_mtu(pid, &mtu);
  p->mtu = mtu;
  p->nq = nq;
  p->io = io;
  return 0;
}

/* ---- TX ---- */

static unsigned dpdk_tx_reserve(struct io_port *io, unsigned n, uint8_t **bufs, uint32_t *slots) {
  ensure_registered();
  if (n > 256) n = 256;
  if (rte_pktmbuf_alloc_bulk(io->txpool, io->pend, n) != 0) {
    rte_eth_tx_done_cleanup(io->port_id, 0, 0); /* mbufs held by the TX ring: ask the driver to free them */
    return 0;
  }
  for (unsigned i = 0; i < n; i++) {
    bufs[i] = rte_pktmbuf_mtod(io->pend[i], uint8_t *);
    slots[i] = mbuf_slot(io->pend[i])->idx;
  }
  io->npend = n;
  return n;
}

static unsigned dpdk_tx_slots(struct io_port *io) { return io->txpool->size; }

static void dpdk_tx_submit(struct io_port *io, unsigned n, const uint16_t *lens) {
  for (unsigned i = 0; i < n; i++) {
    io->pend[i]->data_len = lens[i];
    io->pend[i]->pkt_len = lens[i];
  }
  /* The queue is full only for as long as the device needs to send what it holds: wait up to 100 ms,
   * then free what is left and report it as not sent (tx_flush). */
  unsigned done = 0;
  uint64_t give_up = 0;
  while (done < n) {
    done += rte_eth_tx_burst(io->port_id, 0, io->pend + done, (uint16_t)(n - done));
    if (done >= n) break;
    uint64_t now = rte_rdtsc();
    if (!give_up) give_up = now + rte_get_tsc_hz() / 10;
    else if (now > give_up) {
      rte_pktmbuf_free_bulk(io->pend + done, n - done);
      io->unsent += n - done;
      break;
    }
    sched_yield(); /* the switch needs CPU to empty the queue; on a shared core it may be ours */
  }
  io->npend = 0;
}

static unsigned dpdk_tx_flush(struct io_port *io, int timeout_ms) {
  (void)timeout_ms;
  unsigned u = (unsigned)io->unsent;
  io->unsent = 0;
  return u;
}

/* ---- RX ---- */

static int dpdk_rx_poll(struct io_port *io, int timeout_ms, void (*cb)(void *, const uint8_t *, unsigned, uint64_t), void *ctx) {
  ensure_registered();
  struct rte_mbuf *m[DPDK_BURST];
  uint64_t hz = rte_get_tsc_hz(), start = rte_rdtsc(), end = start + hz / 1000 * (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
  /* An empty poll sleeps 20 µs: the engine's TX and RX threads often share one core (the other runs the
   * switch's PMD), and an RX thread spinning there starves the sender (measured: ms of queueing, loss).
   * A busy port is drained burst after burst without sleeping. VSG_RX_SPIN_US > 0 polls that long first. */
  static int64_t spin_us = -1;
  if (spin_us < 0) spin_us = getenv("VSG_RX_SPIN_US") ? atoll(getenv("VSG_RX_SPIN_US")) : 0;
  uint64_t spin_until = start + hz / 1000000 * (uint64_t)spin_us;
  for (;;) {
    uint16_t n = rte_eth_rx_burst(io->port_id, 0, m, DPDK_BURST);
    if (n) {
      uint64_t ts = tsc_to_real(rte_rdtsc());
      for (uint16_t i = 0; i < n; i++) cb(ctx, rte_pktmbuf_mtod(m[i], const uint8_t *), m[i]->data_len, ts);
      rte_pktmbuf_free_bulk(m, n);
      return n;
    }
    uint64_t now = rte_rdtsc();
    if (timeout_ms <= 0 || now >= end) return 0;
    if (now < spin_until) {
      rte_pause();
      continue;
    }
    struct timespec ts = {0, 20000};
    nanosleep(&ts, NULL);
  }
}

static uint64_t dpdk_tx_errors(struct io_port *io) {
  struct rte_eth_stats st;
  return rte_eth_stats_get(io->port_id, &st) == 0 ? st.oerrors : 0;
}

static uint64_t dpdk_rx_drops(struct io_port *io) {
  struct rte_eth_stats st;
  return rte_eth_stats_get(io->port_id, &st) == 0 ? st.imissed + st.rx_nombuf : 0;
}

const struct io_ops dpdk_ops = {
    .name = "dpdk",
    .open = dpdk_open,
    .tx_reserve = dpdk_tx_reserve,
    .tx_submit = dpdk_tx_submit,
    .tx_slots = dpdk_tx_slots,
    .tx_flush = dpdk_tx_flush,
    .rx_poll = dpdk_rx_poll,
    .tx_errors = dpdk_tx_errors,
    .rx_drops = dpdk_rx_drops,
    .close = dpdk_close,
    .clock = dpdk_clock,
};
#endif
