/* Small helpers: clocks, MAC parsing, network namespaces, the error exit. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "vsg.h"

uint64_t now_mono(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t now_real(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int parse_mac(const char *s, uint8_t mac[6]) {
  unsigned v[6];
  if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) return -1;
  for (int i = 0; i < 6; i++) mac[i] = (uint8_t)v[i];
  return 0;
}

static int orig_ns = -1;

/* Switch this thread into /run/netns/NAME ("" = the namespace the engine started in). */
int enter_netns(const char *name, char *msg, size_t ml) {
  if (orig_ns < 0) {
    orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (orig_ns < 0) return snprintf(msg, ml, "open /proc/self/ns/net: %s", strerror(errno)), -errno;
  }
  int fd = orig_ns;
  if (name && *name) {
    char path[160];
    snprintf(path, sizeof path, "/run/netns/%s", name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return snprintf(msg, ml, "network namespace %s: %s", name, strerror(errno)), -errno;
  }
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  if (fd != orig_ns) close(fd);
  if (rc < 0) return snprintf(msg, ml, "setns %s: %s", name && *name ? name : "(original)", strerror(err)), -err;
  return 0;
}

void (*fail_hook)(void);

/* Print one error event (stdout, for the driver) and one line (stderr, for humans); exit 2. */
void fail(const char *code, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (fail_hook) fail_hook();
  printf("{\"event\":\"error\",\"code\":\"%s\",\"message\":\"", code);
  for (const char *p = msg; *p; p++) {
    if (*p == '"' || *p == '\\') putchar('\\');
    if ((unsigned char)*p >= 0x20) putchar(*p);
  }
  printf("\"}\n");
  fflush(stdout);
  fprintf(stderr, "vsg-engine: %s: %s\n", code, msg);
  exit(2);
}
