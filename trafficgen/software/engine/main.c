/*
 * vsg-engine entry point: argument parsing, port setup, TX/RX threads, control protocol, JSON output.
 *
 *   vsg-engine gen --port IF[@NETNS] [--port IF[@NETNS]] --stream k=v,... [--stream ...]
 *                  (--duration S | --frames N) [options]      one trial, result as JSON
 *   vsg-engine check --port IF[@NETNS] ...                      port facts as JSON
 *   vsg-engine forward --in IF[@NETNS] --out IF[@NETNS] [...]   test forwarder (forward.c)
 *
 * stdout carries one JSON object per line ("event": ready | progress | result | error); stdin takes
 * the command "stop" (end the traffic now, drain, report). SIGINT/SIGTERM do the same; stdin EOF
 * (the parent is gone) stops without draining.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "vsg.h"
#include "rx_demux.h"

int forward_main(int argc, char **argv);
extern void (*fail_hook)(void);

static struct engine E;
static volatile sig_atomic_t got_signal;

/* Only a flag: every stop, however requested, goes through the same path that closes the sockets and
 * detaches XDP programs (the parent's death can deliver more than one signal). */
static void on_signal(int sig) { got_signal = sig; }

/* Close every open port inside its own network namespace (AF_XDP detaches its program there). */
static void close_ports(void) {
  char msg[300];
  for (int i = 0; i < E.nports; i++)
    if (E.ports[i].io && E.ports[i].ops) {
      int in_ns = enter_netns(E.ports[i].netns, msg, sizeof msg) == 0;
      E.ports[i].ops->close(E.ports[i].io);
      E.ports[i].io = NULL;
      if (in_ns) enter_netns("", msg, sizeof msg);
    }
}

/* ---------- argument parsing ---------- */

static int known_backend(const char *b) { return !strcmp(b, "auto") || !strcmp(b, "af_packet") || !strcmp(b, "af_xdp") || !strcmp(b, "dpdk"); }

/* IF[@NETNS][#BACKEND]; with backend dpdk (here or --backend) IF is a DPDK devargs string. */
static void parse_port(const char *arg, struct port *p, const char *default_backend) {
  char buf[320];
  snprintf(buf, sizeof buf, "%s", arg);
  char *hash = strrchr(buf, '#');
  if (hash) {
    *hash = 0;
    snprintf(p->backend, sizeof p->backend, "%s", hash + 1);
    if (!known_backend(p->backend)) fail("E_USAGE", "unknown backend %s in --port %s", p->backend, arg);
  }
  char *at = strrchr(buf, '@');
  if (at) {
    *at = 0;
    snprintf(p->netns, sizeof p->netns, "%s", at + 1);
  }
  size_t n = strlen(buf);
  if (!strcmp(*p->backend ? p->backend : default_backend, "dpdk")) {
    if (n == 0 || n >= sizeof p->dev) fail("E_USAGE", "bad DPDK device in --port %s", arg);
    memcpy(p->dev, buf, n + 1);
    snprintf(p->backend, sizeof p->backend, "dpdk");
    dpdk_port_label(p->dev, p->name, sizeof p->name);
    return;
  }
  if (n == 0 || n >= IFNAMSIZ) fail("E_USAGE", "bad interface name in --port %s", arg);
  memcpy(p->name, buf, n + 1);
}

static void parse_ip(const char *v, struct stream_cfg *s, uint8_t *dst, const char *key) {
  int v6 = strchr(v, ':') != NULL;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, v, dst) != 1) fail("E_USAGE", "bad IP address %s=%s", key, v);
  s->ipv6 = v6;
}

/* encap=HEX: outer Ethernet + IPv4 + (UDP + VXLAN/GENEVE | GRE) header bytes, built by the driver. */
static void parse_encap(const char *v, struct stream_cfg *s) {
  size_t n = strlen(v);
  if (n % 2 || n / 2 > VSG_MAX_ENCAP || n / 2 < 14 + 20) fail("E_USAGE", "encap= needs 34..%d bytes of hex (outer Ethernet + IPv4 + tunnel header)", VSG_MAX_ENCAP);
  for (size_t i = 0; i < n / 2; i++) {
    unsigned b;
    if (sscanf(v + 2 * i, "%2x", &b) != 1 || !isxdigit((unsigned char)v[2 * i]) || !isxdigit((unsigned char)v[2 * i + 1])) fail("E_USAGE", "encap= is not hex");
    s->encap[i] = (uint8_t)b;
  }
  s->encap_len = (unsigned)(n / 2);
  if (s->encap[12] != 0x08 || s->encap[13] != 0x00 || (s->encap[14] >> 4) != 4 || (unsigned)(s->encap[14] & 0x0f) * 4 + 14 > s->encap_len)
    fail("E_USAGE", "encap= must start with an Ethernet header of EtherType IPv4 and a complete IPv4 header");
}

/* --stream tx=0,rx=1,smac=..,dmac=..,sip=..,dip=..,sport=..,dport=..,vlan=ID,prio=P,cfi=C,flows=N,vary=l4,rate=FPS,sizes=60:60:..,l3=1,l4=1 */
static void parse_stream(char *arg, struct stream_cfg *s) {
  memset(s, 0, sizeof *s);
  s->rx_port = 1;
  s->l3 = s->l4 = 1;
  s->flows = 1;
  s->sport = 3000;
  s->dport = 3001;
  s->nsizes = 1;
  s->sizes[0] = 60;
  uint8_t def_sip[4] = {1, 1, 1, 1}, def_dip[4] = {90, 90, 90, 90};
  memcpy(s->sip, def_sip, 4);
  memcpy(s->dip, def_dip, 4);
  unsigned vid = 0, prio = 0, cfi = 0;
  char *save = NULL;
  for (char *kv = strtok_r(arg, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    if (!eq) fail("E_USAGE", "stream option %s is not key=value", kv);
    *eq = 0;
    const char *k = kv, *v = eq + 1;
    if (!strcmp(k, "tx")) s->tx_port = atoi(v);
    else if (!strcmp(k, "rx")) s->rx_port = atoi(v);
    else if (!strcmp(k, "smac")) { if (parse_mac(v, s->smac)) fail("E_USAGE", "bad MAC smac=%s", v); }
    else if (!strcmp(k, "dmac")) { if (parse_mac(v, s->dmac)) fail("E_USAGE", "bad MAC dmac=%s", v); }
    else if (!strcmp(k, "sip")) parse_ip(v, s, s->sip, k);
    else if (!strcmp(k, "dip")) parse_ip(v, s, s->dip, k);
    else if (!strcmp(k, "sport")) s->sport = (uint16_t)atoi(v);
    else if (!strcmp(k, "dport")) s->dport = (uint16_t)atoi(v);
    else if (!strcmp(k, "vlan")) { s->vlan = 1; vid = (unsigned)atoi(v); }
    else if (!strcmp(k, "prio")) prio = (unsigned)atoi(v);
    else if (!strcmp(k, "cfi")) cfi = (unsigned)atoi(v);
    else if (!strcmp(k, "flows")) s->flows = (unsigned)strtoul(v, NULL, 10);
    else if (!strcmp(k, "rate")) s->rate_fps = strtod(v, NULL);
    else if (!strcmp(k, "l3")) s->l3 = atoi(v);
    else if (!strcmp(k, "l4")) s->l4 = atoi(v);
    else if (!strcmp(k, "encap")) parse_encap(v, s);
    else if (!strcmp(k, "vary")) {
      s->vary = !strcasecmp(v, "l2") ? VARY_L2 : !strcasecmp(v, "l3") ? VARY_L3 : !strcasecmp(v, "l4") ? VARY_L4 : VARY_NONE;
    } else if (!strcmp(k, "sizes")) {
      s->nsizes = 0;
      char *save2 = NULL, *copy = strdup(v);
      for (char *t = strtok_r(copy, ":", &save2); t; t = strtok_r(NULL, ":", &save2)) {
        if (s->nsizes >= VSG_MAX_IMIX) fail("E_USAGE", "more than %d IMIX sizes", VSG_MAX_IMIX);
        long n = strtol(t, NULL, 10);
        if (n < 14 || n > VSG_MAX_FRAME) fail("E_USAGE", "frame size %ld out of range (without FCS: 14..%d)", n, VSG_MAX_FRAME);
        s->sizes[s->nsizes++] = (uint16_t)n;
      }
      free(copy);
      if (!s->nsizes) fail("E_USAGE", "empty sizes=");
    } else fail("E_USAGE", "unknown stream option %s", k);
  }
  if (vid > 4095 || prio > 7 || cfi > 1) fail("E_USAGE", "VLAN id/priority/cfi out of range (%u/%u/%u)", vid, prio, cfi);
  s->vlan_tci = (uint16_t)(prio << 13 | cfi << 12 | vid);
  if (s->flows == 0) s->flows = 1;
  if (!s->l3) s->l4 = 0;
  for (unsigned i = 0; i < s->nsizes; i++)
    if (s->sizes[i] < frame_min_len(s))
      fail("E_SIZE", "frame of %u bytes (+4 FCS) cannot hold the headers and the %d-byte trailer: minimum is %u (+4 FCS)", s->sizes[i], VSG_TRAILER_LEN,
           frame_min_len(s));
}

/* ---------- ports ---------- */

static int if_facts(struct port *p, int *up, char *msg, size_t ml) {
  int rc = enter_netns(p->netns, msg, ml);
  if (rc) return rc;
  p->ifindex = (int)if_nametoindex(p->name);
  if (!p->ifindex) {
    snprintf(msg, ml, "interface %s not found%s%s", p->name, *p->netns ? " in network namespace " : "", p->netns);
    enter_netns("", msg + strlen(msg), 0);
    return -ENODEV;
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, IFNAMSIZ, "%.15s", p->name);
  *up = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
  p->mtu = fd >= 0 && ioctl(fd, SIOCGIFMTU, &ifr) == 0 ? ifr.ifr_mtu : 1500;
  if (fd >= 0) close(fd);
  return 0;
}

static void open_ports(void) {
  char msg[300];
  for (int i = 0; i < E.nports; i++) {
    struct port *p = &E.ports[i];
    if (p->dev[0]) continue; /* a DPDK device: the backend checks it */
    int up = 0;
    int rc = if_facts(p, &up, msg, sizeof msg);
    if (rc == -ENODEV) fail("E_NOIFACE", "%s", msg);
    if (rc) fail(rc == -EPERM ? "E_PERM" : "E_NETNS", "%s", msg);
    if (!up) fail("E_IFDOWN", "interface %s%s%s is down (or has no carrier)", p->name, *p->netns ? " in netns " : "", p->netns);
    enter_netns("", msg, sizeof msg);
  }
  for (int i = 0; i < E.nports; i++) {
    struct port *p = &E.ports[i];
    const char *wish = *p->backend ? p->backend : E.backend;
    const struct io_ops *cands[2];
    int nc = 0, rc = 0;
    /* auto: AF_XDP first on send-only ports (the faster sender); AF_PACKET first on ports that receive:
     * its RX ring is cheaper per frame here, keeps up at the rate TX reaches (AF_XDP's RX queue overflowed
     * and delayed frames by milliseconds at saturation) and gives kernel RX timestamps. */
    if (p->dev[0]) cands[nc++] = &dpdk_ops;
    int xdp_first = !strcmp(wish, "af_xdp") || (!strcmp(wish, "auto") && !p->needs_rx);
    if (!p->dev[0]) {
      if (xdp_first && strcmp(wish, "af_packet")) cands[nc++] = &afxdp_ops;
      if (strcmp(wish, "af_xdp")) cands[nc++] = &afpacket_ops;
      if (!xdp_first && strcmp(wish, "af_packet")) cands[nc++] = &afxdp_ops;
    }
    for (int c = 0; c < nc; c++) {
      char m2[64];
      if ((rc = enter_netns(p->netns, msg, sizeof msg)) == 0) {
        rc = cands[c]->open(p, &E, msg, sizeof msg);
        enter_netns("", m2, sizeof m2);
      }
      if (rc == 0) {
        p->ops = cands[c];
        break;
      }
      if (c + 1 < nc) fprintf(stderr, "vsg-engine: %s backend unavailable on %s (%s); using %s\n", cands[c]->name, p->name, msg, cands[c + 1]->name);
    }
    if (rc && cands[nc - 1] == &dpdk_ops) /* device missing / no hugepage memory / anything else DPDK said */
      fail(rc == -ENODEV ? "E_NODEV" : rc == -ENOMEM ? "E_NOHUGE" : rc == -EMSGSIZE ? "E_MTU" : "E_DPDK", "dpdk backend on %s: %s", p->name, msg);
    if (rc)
      fail(rc == -EPERM ? "E_PERM" : "E_BACKEND", "%s backend on %s: %s%s", cands[nc - 1]->name, p->name, msg,
           rc == -EPERM ? " (raw sockets need root or CAP_NET_RAW)" : "");
  }
  /* After opening: a DPDK port learns its MTU from the device. */
  for (int s = 0; s < E.nstreams; s++)
    for (unsigned k = 0; k < E.streams[s].nsizes; k++) {
      const struct stream_cfg *st = &E.streams[s];
      unsigned l3 = st->sizes[k] - 14u - (st->vlan ? 4u : 0u);
      const struct port *tp = &E.ports[st->tx_port];
      if ((int)l3 > tp->mtu) fail("E_MTU", "frame of %u bytes (+4 FCS) needs an MTU of %u but %s has MTU %d", st->sizes[k], l3, tp->name, tp->mtu);
    }
}

/* "af_packet", "af_xdp", or "mixed" when the ports differ. */
static const char *backend_used(void) {
  const char *b = E.ports[0].ops ? E.ports[0].ops->name : "none";
  for (int i = 1; i < E.nports; i++)
    if (E.ports[i].ops && strcmp(E.ports[i].ops->name, b)) return "mixed";
  return b;
}

/* ---------- TX ---------- */

static void pin(int idx) {
  if (E.ncpus <= 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(E.cpus[idx % E.ncpus], &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void wait_until(uint64_t t) {
  uint64_t now = now_mono();
  if (t <= now) return;
  if (t - now > 30000) {
    struct timespec ts = {.tv_sec = (time_t)(t / 1000000000ull), .tv_nsec = (long)(t % 1000000000ull)};
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
  } else {
    while (now_mono() < t) __builtin_ia32_pause();
  }
}

/* Send frames of stream `sid` paced at `rate` (0 = flat out) from t_start until t_end / total.
 * Frame i has flow i % flows and size sizes[i % nsizes]. A TX slot that already holds the frame of the
 * same flow and size (written the previous time round the ring) gets only its sequence number and
 * timestamp rewritten; anything else is built whole. One TX timestamp per batch (see README). */
static void tx_paced(int si, uint16_t sid, double rate, uint64_t t_start, uint64_t t_end, uint64_t total, struct tx_stats *st) {
  const struct stream_cfg *s = &E.streams[si];
  struct io_port *io = E.ports[s->tx_port].io;
  const struct io_ops *ops = E.ports[s->tx_port].ops;
  struct frame_tmpl t;
  tmpl_init(&t, s);
  uint8_t *bufs[256];
  uint32_t slots[256];
  uint16_t lens[256];
  unsigned batch = E.batch > 256 ? 256 : E.batch;
  double ns_per = rate > 0 ? 1e9 / rate : 0;
  uint64_t sent = 0, bytes = 0;
  uint64_t *key = E.tx_slot_key[si];
  memset(key, 0, (size_t)E.tx_nslots[si] * sizeof *key); /* the trailer's stream id differs between learning and trial */
  unsigned size_i = 0, flow = 0;
  wait_until(t_start);
  while (!atomic_load_explicit(&E.stop_tx, memory_order_relaxed)) {
    if (total && sent >= total) break;
    uint64_t now = now_mono();
    if (t_end && now >= t_end) break;
    uint64_t want = batch;
    if (rate > 0) {
      uint64_t due = now > t_start ? (uint64_t)((double)(now - t_start) / ns_per) + 1 : 1;
      if (due <= sent) {
        uint64_t next = t_start + (uint64_t)((double)sent * ns_per);
        wait_until(t_end && next > t_end ? t_end : next);
        continue;
      }
      if (due - sent < want) want = due - sent;
    }
    if (total && want > total - sent) want = total - sent;
    unsigned n = ops->tx_reserve(io, (unsigned)want, bufs, slots);
    if (n == 0) continue; /* ring full: the backend kicked the kernel; retry */
    uint64_t ts = ops->clock ? ops->clock() : now_real();
    for (unsigned i = 0; i < n; i++) {
      uint32_t seq = (uint32_t)(sent + i);
      unsigned len = s->sizes[size_i];
      uint64_t k = (uint64_t)flow << 32 | (uint64_t)len << 16 | 1u;
      if (key[slots[i]] == k) {
        frame_restamp(&t, bufs[i], len, seq, ts);
      } else {
        frame_build(&t, bufs[i], len, flow, sid, E.tag, seq, ts);
        key[slots[i]] = k;
      }
      lens[i] = (uint16_t)len;
      bytes += len;
      if (++size_i == s->nsizes) size_i = 0;
      if (++flow == s->flows) flow = 0;
    }
    ops->tx_submit(io, n, lens);
    sent += n;
    if (st) {
      if (!st->first_ns) st->first_ns = now;
      st->last_ns = now_mono();
      atomic_store_explicit(&st->frames, sent, memory_order_relaxed);
      atomic_store_explicit(&st->bytes, bytes, memory_order_relaxed);
    }
  }
}

static void *tx_thread(void *arg) {
  int si = (int)(intptr_t)arg;
  pin(si);
  if (E.rt_priority > 0) {
    struct sched_param sp = {.sched_priority = E.rt_priority};
    int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
    if (rc) fprintf(stderr, "vsg-engine: SCHED_FIFO %d for TX thread %d: %s (continuing without)\n", E.rt_priority, si, strerror(rc));
  }
  struct tx_stats *st = &E.tx[si];
  uint64_t t0 = E.t0_mono;
  if (E.learning_s > 0) {
    uint64_t tl = t0 - (uint64_t)(E.learning_s * 1e9) - 100000000ull;
    tx_paced(si, VSG_LEARN_STREAM, E.learning_fps, tl, tl + (uint64_t)(E.learning_s * 1e9), 0, NULL);
  }
  /* A thread that was descheduled may still owe frames scheduled inside the window when the window
   * ends: it may send them late within a grace of 2 % of the duration (at most 200 ms). Late frames
   * lower the achieved rate, so a generator that falls behind still shows up as generator-limited. */
  uint64_t t_end = 0;
  if (E.duration_s > 0) {
    double grace = E.duration_s * 0.02 < 0.2 ? E.duration_s * 0.02 : 0.2;
    t_end = t0 + (uint64_t)((E.duration_s + (st->planned ? grace : 0)) * 1e9);
  }
  tx_paced(si, (uint16_t)si, E.streams[si].rate_fps, t0, t_end, st->planned, st);
  /* Frames still queued in the ring never left: wait for them, and do not count what did not go out. */
  const struct port *tp = &E.ports[E.streams[si].tx_port];
  unsigned unsent = tp->ops->tx_flush ? tp->ops->tx_flush(tp->io, 1000) : 0;
  if (unsent) {
    fprintf(stderr, "vsg-engine: %u frames of stream %d were still queued after 1 s; not counted as sent\n", unsent, si);
    uint64_t f = atomic_load(&st->frames);
    atomic_store(&st->frames, f > unsent ? f - unsent : 0);
    st->unsent = unsent;
  }
  __atomic_store_n(&st->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

/* ---------- RX ---------- */

struct rx_ctx {
  int port;
  int ord; /* index among the RX threads, for CPU pinning after the TX threads */
};

/* The ring backends' per-frame callback (rx_poll). */
static void rx_frame(void *ctx, const uint8_t *f, unsigned len, uint64_t rx_ns) {
  rx_demux_frame(&E, ((const struct rx_ctx *)ctx)->port, f, len, rx_ns);
}

static void *rx_thread(void *arg) {
  struct rx_ctx c = {.port = (int)(intptr_t)arg & 0xff, .ord = (int)(intptr_t)arg >> 8};
  pin(E.nstreams + c.ord);
  while (!atomic_load_explicit(&E.stop_rx, memory_order_relaxed)) {
    int r = E.ports[c.port].ops->rx_poll(E.ports[c.port].io, 20, rx_frame, &c);
    if (r < 0 && r != -EINTR) {
      fprintf(stderr, "vsg-engine: receive on %s failed: %s\n", E.ports[c.port].name, strerror(-r));
      return NULL;
    }
  }
  /* Count what is already in the ring before reporting. */
  while (E.ports[c.port].ops->rx_poll(E.ports[c.port].io, 0, rx_frame, &c) > 0) {
  }
  return NULL;
}

/* ---------- output ---------- */

static uint64_t rx_unique(int s) { return atomic_load(&E.rx[s].frames) - E.rx[s].dup - atomic_load(&E.rx_dup_live[s]); }

/* Several lanes / RX queues: their parts into rx[] (after the loops ended), then freed. */
static void merge_parts(void) {
  for (int s = 0; s < E.nstreams; s++) {
    uint64_t gap = 0;
    for (int l = 0; l < VSG_MAX_QUEUES; l++) {
      uint64_t g = rx_parts_max_gap(E.rx_part[s][l], VSG_MAX_QUEUES);
      if (g > gap) gap = g;
    }
    for (int l = 0; l < VSG_MAX_QUEUES; l++)
      for (int q = 0; q < VSG_MAX_QUEUES; q++)
        if (E.rx_part[s][l][q]) E.rx_part[s][l][q]->max_gap = gap;
  }
  for (int s = 0; s < E.nstreams; s++)
    for (int l = 0; l < VSG_MAX_QUEUES; l++)
      for (int q = 0; q < VSG_MAX_QUEUES; q++) {
        struct rx_stats *part = E.rx_part[s][l][q];
        if (!part) continue;
        rx_stats_merge(&E.rx[s], part);
        rx_stats_free(part);
        free(part);
        E.rx_part[s][l][q] = NULL;
      }
  for (int s = 0; s < E.nstreams; s++) atomic_store(&E.rx_dup_live[s], 0);
}

/* ,"queues":N,"txq_frames":[…],"rxq_frames":[…] of a DPDK port with more than one queue. */
static void print_queues(const struct port *p) {
  if (p->nq <= 1) return;
  printf(",\"queues\":%u,\"txq_frames\":[", p->nq);
  for (unsigned q = 0; q < p->nq; q++) printf("%s%llu", q ? "," : "", (unsigned long long)atomic_load(&p->txq_frames[q]));
  printf("],\"rxq_frames\":[");
  for (unsigned q = 0; q < p->nq; q++) printf("%s%llu", q ? "," : "", (unsigned long long)p->rx.q_frames[q]);
  printf("]");
}

static void print_progress(uint64_t t_start) {
  double el = (double)(now_mono() - t_start) / 1e9;
  uint64_t tx = 0, rx = 0;
  for (int s = 0; s < E.nstreams; s++) {
    tx += atomic_load(&E.tx[s].frames);
    rx += atomic_load(&E.rx[s].frames);
  }
  printf("{\"event\":\"progress\",\"elapsed_s\":%.3f,\"tx\":%llu,\"rx\":%llu,\"streams\":[", el < 0 ? 0 : el, (unsigned long long)tx, (unsigned long long)rx);
  for (int s = 0; s < E.nstreams; s++)
    printf("%s{\"tx\":%llu,\"rx\":%llu}", s ? "," : "", (unsigned long long)atomic_load(&E.tx[s].frames), (unsigned long long)atomic_load(&E.rx[s].frames));
  printf("]}\n");
  fflush(stdout);
}

/* The receiver-clock fields of one stream: silences (longest first), delayed frames, 1 ms bins. */
static void print_timeline(const struct rx_timeline *t) {
  unsigned order[VSG_TOP_GAPS];
  for (unsigned i = 0; i < t->ngaps; i++) order[i] = i;
  for (unsigned i = 1; i < t->ngaps; i++) /* insertion sort by length, longest first */
    for (unsigned j = i; j > 0 && t->gaps[order[j]][1] - t->gaps[order[j]][0] > t->gaps[order[j - 1]][1] - t->gaps[order[j - 1]][0]; j--) {
      unsigned x = order[j];
      order[j] = order[j - 1];
      order[j - 1] = x;
    }
  printf(",\"rx_gaps\":[");
  for (unsigned i = 0; i < t->ngaps; i++) printf("%s[%llu,%llu]", i ? "," : "", (unsigned long long)t->gaps[order[i]][0], (unsigned long long)t->gaps[order[i]][1]);
  printf("],\"first_rx_ns\":%llu,\"last_rx_ns\":%llu,\"delayed\":%llu,\"delay_threshold_ns\":%llu", (unsigned long long)t->first_rx_ns,
         (unsigned long long)t->last_rx_ns, (unsigned long long)t->delayed,
         (unsigned long long)atomic_load(&t->delay_threshold_ns));
  if (!t->bin0_ns) return;
  printf(",\"timeline\":{\"t0_ns\":%llu,\"bin_ms\":1,\"rx\":[", (unsigned long long)t->bin0_ns);
  for (unsigned b = 0; b < t->nbins; b++) printf("%s%u", b ? "," : "", t->bin_rx[b]);
  printf("],\"max_lat_us\":[");
  for (unsigned b = 0; b < t->nbins; b++) printf("%s%u", b ? "," : "", t->bin_lat_us[b]);
  printf("]}");
}

static void print_result(double wall_s, const char *stopped_by) {
  merge_parts();
  printf("{\"event\":\"result\",\"version\":\"%s\",\"backend\":\"%s\",\"tag\":%u,\"wall_s\":%.6f,\"stopped_by\":\"%s\",\"ports\":[", VSG_VERSION,
         backend_used(), E.tag, wall_s, stopped_by);
  for (int i = 0; i < E.nports; i++) {
    struct port *p = &E.ports[i];
    printf("%s{\"name\":\"%s\",\"netns\":\"%s\",\"backend\":\"%s\",\"mtu\":%d,\"rx_frames\":%llu,\"foreign\":%llu,\"learning\":%llu,\"tx_errors\":%llu,\"rx_ring_drops\":%llu",
           i ? "," : "", p->name, p->netns, p->ops ? p->ops->name : "none", p->mtu, (unsigned long long)p->rx.frames, (unsigned long long)p->rx.foreign,
           (unsigned long long)p->rx.learning, (unsigned long long)(p->io && p->needs_tx && p->ops->tx_errors ? p->ops->tx_errors(p->io) : 0),
           (unsigned long long)(p->io && p->needs_rx && p->ops->rx_drops ? p->ops->rx_drops(p->io) : 0));
    print_queues(p);
    printf("}");
  }
  printf("],\"streams\":[");
  for (int s = 0; s < E.nstreams; s++) {
    struct stream_cfg *c = &E.streams[s];
    struct tx_stats *t = &E.tx[s];
    struct rx_stats *r = &E.rx[s];
    double ns_per = c->rate_fps > 0 ? 1e9 / c->rate_fps : 0;
    double tx_s = t->frames ? ((double)(t->last_ns - E.t0_mono) + ns_per) / 1e9 : 0;
    if (E.duration_s > 0 && c->rate_fps > 0 && tx_s < E.duration_s && t->frames >= t->planned) tx_s = E.duration_s;
    printf("%s{\"id\":%d,\"tx_port\":%d,\"rx_port\":%d,\"offered_fps\":%.3f,\"planned\":%llu,\"tx_frames\":%llu,\"tx_bytes\":%llu,\"tx_s\":%.6f,"
           "\"achieved_fps\":%.3f,\"rx_frames\":%llu,\"rx_bytes\":%llu,\"duplicated\":%llu,\"reordered\":%llu,\"max_gap\":%llu,"
           "\"tx_full_drops\":%llu,\"lat_samples\":%llu,\"lat_min_ns\":%llu,\"lat_avg_ns\":%.1f,\"lat_max_ns\":%llu,\"hist\":[",
           s ? "," : "", s, c->tx_port, c->rx_port, c->rate_fps, (unsigned long long)t->planned, (unsigned long long)t->frames,
           (unsigned long long)t->bytes, tx_s, tx_s > 0 ? (double)t->frames / tx_s : 0.0, (unsigned long long)r->frames,
           (unsigned long long)r->bytes, (unsigned long long)r->dup, (unsigned long long)r->reordered, (unsigned long long)r->max_gap,
           (unsigned long long)t->full_drops, (unsigned long long)r->lat_n, (unsigned long long)(r->lat_n ? r->lat_min : 0), r->lat_n ? (double)r->lat_sum / (double)r->lat_n : 0.0,
           (unsigned long long)r->lat_max);
    int first = 1;
    for (unsigned b = 0; b < HIST_BUCKETS; b++)
      if (r->hist[b]) {
        printf("%s[%llu,%llu]", first ? "" : ",", (unsigned long long)hist_lower(b), (unsigned long long)r->hist[b]);
        first = 0;
      }
    printf("]");
    print_timeline(&r->tl);
    printf("}");
  }
  printf("]");
  loop_print();
  printf("}\n");
  fflush(stdout);
}

/* ---------- control ---------- */

/* "mark": from now on count the frames later than 10 x each stream's p99 latency so far (delayed frames). */
static void mark_streams(void) {
  for (int s = 0; s < E.nstreams; s++) {
    uint64_t p99 = hist_quantile(&E.rx[s], 0.99);
    if (p99) atomic_store(&E.rx[s].tl.delay_threshold_ns, 10 * p99);
  }
}

/* --hold S: the ports stay open after the result until "release" on stdin (or EOF, a signal, S seconds).
 * A vhost-user switch forgets a port's counters when the device on our end disconnects: the driver
 * reads them in between, for the counter check. The driver passes S and bounds its read below it. */
#define HOLD_MAX_S 600
static long hold_s;
static void hold_ports(void) {
  uint64_t until = now_mono() + (uint64_t)hold_s * 1000000000ull;
  while (!got_signal && now_mono() < until) {
    struct pollfd pfd = {.fd = 0, .events = POLLIN};
    if (poll(&pfd, 1, 50) <= 0) continue;
    if (pfd.revents & POLLNVAL) return;
    char buf[256];
    ssize_t n = read(0, buf, sizeof buf - 1);
    if (n <= 0) return;
    buf[n] = 0;
    if (strstr(buf, "release")) return;
  }
}

/* Returns 1 on "stop", 2 on EOF, 0 otherwise; acts on "mark" itself. */
static int read_control(void) {
  struct pollfd pfd = {.fd = 0, .events = POLLIN};
  if (poll(&pfd, 1, 0) <= 0) return 0;
  if (pfd.revents & POLLNVAL) return 0; /* stdin closed from the start (run by hand with <&-) */
  char buf[256];
  ssize_t n = read(0, buf, sizeof buf - 1);
  if (n == 0) return 2;
  if (n < 0) return 0;
  buf[n] = 0;
  if (strstr(buf, "mark")) mark_streams();
  return strstr(buf, "stop") ? 1 : 0;
}

/* An integer option in lo..hi, else a usage error naming the option, its range (and unit) and the value. */
static long int_option(const char *opt, const char *arg, long lo, long hi, const char *unit) {
  char *end;
  long v = strtol(arg, &end, 10);
  if (!*arg || *end || v < lo || v > hi) fail("E_USAGE", "%s must be %ld..%ld%s, got %s", opt, lo, hi, unit, arg);
  return v;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: vsg-engine gen --port IF[@NETNS] [--port IF[@NETNS]] --stream k=v,... [--stream ...]\n"
          "                      (--duration S | --frames N) [--learning S] [--learning-rate FPS] [--drain S]\n"
          "                      [--backend auto|af_packet|af_xdp|dpdk] [--progress-ms N] [--batch N] [--ring N]\n"
          "                      [--tag N] [--cpus LIST] [--rt-priority N] [--no-latency] [--timeline] [--dpdk-prefix NAME]\n"
          "                      [--tx-drop-full] [--queues N] [--hold S] [--tx-burst N] [--tx-burst-wait-us US]\n"
          "       vsg-engine check --port IF[@NETNS] ...\n"
          "       vsg-engine forward --in IF[@NETNS] --out IF[@NETNS] [--drop-every K] [--reorder-every M] [--dup-every D]\n"
          "       vsg-engine version\n"
          "stream keys: tx rx(-1 = send only) smac dmac sip dip sport dport vlan prio cfi flows vary(l2|l3|l4) rate(fps, 0=max)\n"
          "             sizes(bytes without FCS, ':'-separated = IMIX sequence) l3 l4\n");
}

static int check_main(int argc, char **argv) {
  printf("{\"event\":\"check\",\"ports\":[");
  int n = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--port") || i + 1 >= argc) continue;
    struct port p;
    memset(&p, 0, sizeof p);
    parse_port(argv[++i], &p, "auto");
    if (p.dev[0]) { /* a DPDK device: only the backend can check it (EAL start) */
      printf("%s{\"name\":\"%s\",\"netns\":\"%s\",\"exists\":true,\"up\":true,\"mtu\":0,\"ifindex\":0,\"error\":\"\"}", n++ ? "," : "", p.name, p.netns);
      continue;
    }
    char msg[300] = "";
    int up = 0, rc = if_facts(&p, &up, msg, sizeof msg);
    char m2[64];
    enter_netns("", m2, sizeof m2);
    printf("%s{\"name\":\"%s\",\"netns\":\"%s\",\"exists\":%s,\"up\":%s,\"mtu\":%d,\"ifindex\":%d,\"error\":\"%s\"}", n++ ? "," : "", p.name, p.netns,
           rc == 0 ? "true" : "false", up ? "true" : "false", rc == 0 ? p.mtu : 0, p.ifindex, rc && rc != -ENODEV ? strerror(-rc) : "");
  }
  printf("]}\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "version")) {
    printf("{\"event\":\"version\",\"version\":\"%s\"}\n", VSG_VERSION);
    return 0;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "check")) return check_main(argc - 1, argv + 1);
  if (!strcmp(argv[1], "forward")) return forward_main(argc - 1, argv + 1);
  if (strcmp(argv[1], "gen")) {
    usage(stderr);
    return 2;
  }
  fail_hook = close_ports;
  E.backend = "auto";
  E.drain_s = 1.0;
  E.progress_ms = 250;
  E.batch = 64;
  E.tx_burst = VSG_TX_BURST_DEFAULT;
  E.tx_burst_wait_us = VSG_TX_BURST_WAIT_US_DEFAULT;
  E.ring_frames = 4096;
  E.latency = 1;
  E.learning_fps = 1000;
  E.tag = (uint8_t)(now_real() >> 10);
  static const struct option opts[] = {
      {"port", 1, 0, 'p'},      {"stream", 1, 0, 's'},   {"duration", 1, 0, 'd'}, {"frames", 1, 0, 'n'},      {"learning", 1, 0, 'l'},
      {"learning-rate", 1, 0, 'L'}, {"drain", 1, 0, 'D'}, {"backend", 1, 0, 'b'}, {"progress-ms", 1, 0, 'P'}, {"batch", 1, 0, 'B'},
      {"ring", 1, 0, 'R'},      {"tag", 1, 0, 't'},  {"rt-priority", 1, 0, 'T'},      {"cpus", 1, 0, 'c'},     {"no-latency", 0, 0, 'x'},  {"timeline", 0, 0, 'W'},  {"dpdk-prefix", 1, 0, 'F'},  {"tx-drop-full", 0, 0, 'X'},  {"hold", 1, 0, 'H'},  {"queues", 1, 0, 'Q'},  {"tx-burst", 1, 0, 'K'},  {"tx-burst-wait-us", 1, 0, 'w'},  {"help", 0, 0, 'h'},
      {0, 0, 0, 0}};
  const char *port_args[VSG_MAX_PORTS];
  int o;
  optind = 2;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'p':
      if (E.nports >= VSG_MAX_PORTS) fail("E_USAGE", "at most %d ports per engine", VSG_MAX_PORTS);
      port_args[E.nports++] = optarg; /* parsed after all options: --backend dpdk changes what a port is */
      break;
    case 's':
      if (E.nstreams >= VSG_MAX_STREAMS) fail("E_USAGE", "at most %d streams per engine", VSG_MAX_STREAMS);
      parse_stream(strdup(optarg), &E.streams[E.nstreams++]); /* a copy: /proc/PID/cmdline stays readable */
      break;
    case 'd': E.duration_s = strtod(optarg, NULL); break;
    case 'n': E.frames = strtoull(optarg, NULL, 10); break;
    case 'l': E.learning_s = strtod(optarg, NULL); break;
    case 'L': E.learning_fps = strtod(optarg, NULL); break;
    case 'D': E.drain_s = strtod(optarg, NULL); break;
    case 'b': E.backend = optarg; break;
    case 'P': E.progress_ms = (unsigned)atoi(optarg); break;
    case 'B': E.batch = (unsigned)atoi(optarg); break;
    case 'R': E.ring_frames = (unsigned)atoi(optarg); break;
    case 't': E.tag = (uint8_t)atoi(optarg); break;
    case 'T': E.rt_priority = atoi(optarg); break;
    case 'x': E.latency = 0; break;
    case 'W': E.timeline = 1; break;
    case 'F': E.dpdk_prefix = optarg; break;
    case 'X': E.tx_drop_full = 1; break;
    case 'H': hold_s = int_option("--hold", optarg, 1, HOLD_MAX_S, " seconds"); break;
    case 'K': E.tx_burst = (unsigned)int_option("--tx-burst", optarg, 1, VSG_TX_BURST_MAX, " frames"); break;
    case 'w': {
      char *end;
      double w = strtod(optarg, &end);
      if (*end || !(w >= 0 && w <= VSG_TX_BURST_WAIT_US_MAX)) fail("E_USAGE", "--tx-burst-wait-us must be 0..%d microseconds, got %s", VSG_TX_BURST_WAIT_US_MAX, optarg);
      E.tx_burst_wait_us = w;
      break;
    }
    case 'Q': E.queues = (unsigned)int_option("--queues", optarg, 1, VSG_MAX_QUEUES, ""); break;
    case 'c': {
      char *save = NULL;
      for (char *t = strtok_r(strdup(optarg), ",", &save); t && E.ncpus < 8; t = strtok_r(NULL, ",", &save)) E.cpus[E.ncpus++] = atoi(t);
      break;
    }
    case 'h': usage(stdout); return 0;
    default: usage(stderr); fail("E_USAGE", "bad arguments");
    }
  }
  if (!E.nports) fail("E_USAGE", "no --port given");
  if (!known_backend(E.backend)) fail("E_USAGE", "unknown backend %s", E.backend);
  for (int i = 0; i < E.nports; i++) parse_port(port_args[i], &E.ports[i], E.backend);
  if (E.queues > 1) {
    /* Queues beyond the first are polled only by the dpdk loops (every port a DPDK device). A timeline
     * (continuous traffic, live migration) keeps one queue: its receive silences need one ordered stream. */
    int all_dpdk = !getenv("VSG_DPDK_THREADS");
    for (int i = 0; i < E.nports; i++) all_dpdk &= !strcmp(E.ports[i].backend, "dpdk");
    if (!all_dpdk || E.timeline) {
      fprintf(stderr, "vsg-engine: --queues %u ignored: %s\n", E.queues, E.timeline ? "--timeline needs one queue" : "not every port is a DPDK device");
      E.queues = 1;
    }
  }
  if (!E.nstreams) fail("E_USAGE", "no --stream given");
  if ((E.duration_s > 0) == (E.frames > 0)) fail("E_USAGE", "give exactly one of --duration and --frames");
  if (E.batch == 0) E.batch = 1;
  for (int s = 0; s < E.nstreams; s++) {
    struct stream_cfg *c = &E.streams[s];
    /* rx=-1: send only (benchmarks of the TX path) */
    if (c->tx_port < 0 || c->tx_port >= E.nports || c->rx_port < -1 || c->rx_port >= E.nports) fail("E_USAGE", "stream %d names a port that was not given", s);
    /* One TX thread per stream, and a port's TX ring has one user: one stream per TX port. */
    if (E.ports[c->tx_port].needs_tx) fail("E_USAGE", "stream %d sends on port %d like an earlier stream: one stream per TX port", s, c->tx_port);
    E.ports[c->tx_port].needs_tx = 1;
    if (c->rx_port >= 0) E.ports[c->rx_port].needs_rx = 1;
    if (c->rate_fps < 0) fail("E_USAGE", "negative rate");
    E.tx[s].planned = E.frames ? E.frames : c->rate_fps > 0 ? (uint64_t)llround(c->rate_fps * E.duration_s) : 0;
    if (rx_stats_init(&E.rx[s])) fail("E_NOMEM", "out of memory");
  }
  prctl(PR_SET_PDEATHSIG, SIGTERM); /* the driver died: stop (and detach XDP programs) rather than orphan */
  prctl(PR_SET_TIMERSLACK, 1UL);
  struct sigaction sa = {.sa_handler = on_signal};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  open_ports();
  for (int s = 0; s < E.nstreams; s++) {
    const struct port *tp = &E.ports[E.streams[s].tx_port];
    E.tx_nslots[s] = tp->ops->tx_slots(tp->io);
    E.tx_slot_key[s] = calloc(E.tx_nslots[s] ? E.tx_nslots[s] : 1, sizeof(uint64_t));
    if (!E.tx_slot_key[s]) fail("E_NOMEM", "out of memory");
  }
  printf("{\"event\":\"ready\",\"backend\":\"%s\",\"tag\":%u,\"ports\":[", backend_used(), E.tag);
  for (int i = 0; i < E.nports; i++)
    printf("%s{\"name\":\"%s\",\"mtu\":%d,\"backend\":\"%s\"}", i ? "," : "", E.ports[i].name, E.ports[i].mtu, E.ports[i].ops->name);
  printf("]}\n");
  fflush(stdout);

  uint64_t t_wall0 = now_mono();
  E.t0_mono = t_wall0 + 2000000ull + (E.learning_s > 0 ? (uint64_t)(E.learning_s * 1e9) + 100000000ull : 0);
  if (E.timeline) {
    uint64_t t0_real = now_real() + (E.t0_mono - now_mono());
    for (int s = 0; s < E.nstreams; s++) E.rx[s].tl.bin0_ns = t0_real - t0_real % VSG_BIN_NS;
  }
  pthread_t rxt[VSG_MAX_PORTS], txt[VSG_MAX_STREAMS];
  int rx_started[VSG_MAX_PORTS] = {0};
  /* DPDK ports: one polling loop per core; kernel ports: a thread per stream and per receiving port. */
  int looped = getenv("VSG_DPDK_THREADS") ? -1 : loop_start(&E);
  if (looped != 0) {
    for (int i = 0, ord = 0; i < E.nports; i++)
      if (E.ports[i].needs_rx) rx_started[i] = pthread_create(&rxt[i], NULL, rx_thread, (void *)(intptr_t)(i | (ord++ << 8))) == 0;
    for (int s = 0; s < E.nstreams; s++) pthread_create(&txt[s], NULL, tx_thread, (void *)(intptr_t)s);
  }

  const char *stopped_by = "done";
  uint64_t next_progress = now_mono() + (uint64_t)E.progress_ms * 1000000ull, tx_done_at = 0;
  int eof = 0;
  for (;;) {
    struct timespec ts = {0, 5000000};
    nanosleep(&ts, NULL);
    int ctl = read_control();
    if ((ctl || got_signal) && !atomic_load(&E.stop_tx)) {
      stopped_by = ctl == 1 ? "stop" : ctl == 2 ? "eof" : "signal";
      eof = ctl == 2;
      atomic_store(&E.stop_tx, 1);
    }
    uint64_t now = now_mono();
    if (E.progress_ms && now >= next_progress) {
      print_progress(E.t0_mono);
      next_progress = now + (uint64_t)E.progress_ms * 1000000ull;
    }
    int all_done = 1;
    for (int s = 0; s < E.nstreams; s++) all_done &= __atomic_load_n(&E.tx[s].done, __ATOMIC_ACQUIRE);
    if (!all_done) continue;
    if (!tx_done_at) tx_done_at = now;
    int all_rx = 1;
    for (int s = 0; s < E.nstreams; s++) all_rx &= E.streams[s].rx_port < 0 || rx_unique(s) >= atomic_load(&E.tx[s].frames);
    double drain = eof ? 0 : got_signal ? (E.drain_s < 0.2 ? E.drain_s : 0.2) : E.drain_s;
    if (all_rx || (double)(now - tx_done_at) / 1e9 >= drain) break;
  }
  if (looped != 0)
    for (int s = 0; s < E.nstreams; s++) pthread_join(txt[s], NULL);
  atomic_store(&E.stop_rx, 1);
  if (looped == 0) loop_join();
  for (int i = 0; i < E.nports; i++)
    if (rx_started[i]) pthread_join(rxt[i], NULL);
  print_result((double)(now_mono() - t_wall0) / 1e9, stopped_by);
  if (hold_s && !eof) hold_ports();
  close_ports();
  for (int s = 0; s < E.nstreams; s++) {
    rx_stats_free(&E.rx[s]);
    free(E.tx_slot_key[s]);
  }
  return 0;
}
