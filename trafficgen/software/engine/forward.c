/*
 * `vsg-engine forward`: a deliberately imperfect forwarder for tests. It copies the generator's frames
 * (those carrying the trailer magic) from --in to --out and, counting only those frames from 1:
 *   every K-th is dropped        (--drop-every K)
 *   else every D-th is sent twice (--dup-every D)
 *   else every M-th is held back and sent after the next forwarded frame (--reorder-every M)
 * Other frames (kernel chatter) are ignored. Plain AF_PACKET sockets: it is for correctness, not speed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "vsg.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

static volatile sig_atomic_t fwd_stop;
static void on_sig(int s) { fwd_stop = s; }

static int open_sock(const char *arg, int rx) {
  char name[64] = "", ns[64] = "", msg[300];
  const char *at = strchr(arg, '@');
  size_t n = at ? (size_t)(at - arg) : strlen(arg);
  if (n == 0 || n >= IFNAMSIZ) fail("E_USAGE", "bad interface %s", arg);
  memcpy(name, arg, n);
  if (at) snprintf(ns, sizeof ns, "%s", at + 1);
  if (enter_netns(ns, msg, sizeof msg)) fail("E_NETNS", "%s", msg);
  int idx = (int)if_nametoindex(name);
  if (!idx) fail("E_NOIFACE", "interface %s not found%s%s", name, *ns ? " in network namespace " : "", ns);
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) fail(errno == EPERM ? "E_PERM" : "E_IO", "socket(AF_PACKET): %s", strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  if (rx) {
    int sz = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz);
  }
  struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(rx ? ETH_P_ALL : 0), .sll_ifindex = idx};
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) fail("E_IO", "bind %s: %s", name, strerror(errno));
  if (enter_netns("", msg, sizeof msg)) fail("E_NETNS", "%s", msg);
  return fd;
}

static void xmit(int fd, const uint8_t *f, size_t len, unsigned long long *sent) {
  while (send(fd, f, len, 0) < 0) {
    if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
    return;
  }
  (*sent)++;
}

int forward_main(int argc, char **argv) {
  const char *in = NULL, *out = NULL;
  unsigned long k = 0, m = 0, d = 0;
  static const struct option opts[] = {{"in", 1, 0, 'i'},         {"out", 1, 0, 'o'},       {"drop-every", 1, 0, 'k'},
                                       {"reorder-every", 1, 0, 'm'}, {"dup-every", 1, 0, 'd'}, {0, 0, 0, 0}};
  int o;
  optind = 1;
  while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (o) {
    case 'i': in = optarg; break;
    case 'o': out = optarg; break;
    case 'k': k = strtoul(optarg, NULL, 10); break;
    case 'm': m = strtoul(optarg, NULL, 10); break;
    case 'd': d = strtoul(optarg, NULL, 10); break;
    default: fail("E_USAGE", "forward: bad arguments");
    }
  }
  if (!in || !out) fail("E_USAGE", "forward needs --in and --out");
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  struct sigaction sa = {.sa_handler = on_sig};
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  int rfd = open_sock(in, 1), wfd = open_sock(out, 0);
  printf("{\"event\":\"ready\",\"mode\":\"forward\"}\n");
  fflush(stdout);

  static uint8_t buf[VSG_MAX_FRAME + 64], held[VSG_MAX_FRAME + 64];
  size_t held_len = 0;
  unsigned long long ours = 0, ignored = 0, dropped = 0, dups = 0, held_n = 0, sent = 0;
  while (!fwd_stop) {
    struct pollfd p[2] = {{.fd = rfd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    int r = poll(p, 2, 100);
    if (r < 0 && errno != EINTR) break;
    if (p[1].revents & (POLLIN | POLLHUP)) {
      char c[64];
      ssize_t n = read(0, c, sizeof c);
      if (n <= 0 || memmem(c, (size_t)n, "stop", 4)) break;
    }
    if (!(p[0].revents & POLLIN)) continue;
    ssize_t n = recv(rfd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) continue;
    if (n < 14 + VSG_TRAILER_LEN || buf[n - VSG_TRAILER_LEN] != VSG_MAGIC) {
      ignored++;
      continue;
    }
    ours++;
    if (k && ours % k == 0) {
      dropped++;
      continue;
    }
    if (d && ours % d == 0) {
      xmit(wfd, buf, (size_t)n, &sent);
      xmit(wfd, buf, (size_t)n, &sent);
      dups++;
    } else if (m && ours % m == 0 && !held_len) {
      memcpy(held, buf, (size_t)n);
      held_len = (size_t)n;
      held_n++;
      continue;
    } else {
      xmit(wfd, buf, (size_t)n, &sent);
    }
    if (held_len) {
      xmit(wfd, held, held_len, &sent);
      held_len = 0;
    }
  }
  if (held_len) xmit(wfd, held, held_len, &sent);
  printf("{\"event\":\"result\",\"mode\":\"forward\",\"received\":%llu,\"ignored\":%llu,\"dropped\":%llu,\"duplicated\":%llu,\"reordered\":%llu,"
         "\"sent\":%llu}\n",
         ours, ignored, dropped, dups, held_n, sent);
  fflush(stdout);
  return 0;
}
