/*
 * vsperf-cmdd: runs commands in the guest for the host (VSPERF's `vnf execute_and_wait`), on a
 * virtio-serial port whose chardev is a Unix socket on the host (vnfs/qemu/guest-command.ts).
 *
 * Protocol, one line each way per message; every payload is base64, so nothing a command prints can
 * be taken for protocol:
 *   host → guest  "P <id>"                          ping
 *                 "R <id> <timeout ms> <base64 cmd>"  run `sh -c cmd`
 *   guest → host  "A <id> vsperf-cmdd 1"             ping answer
 *                 "O <id> <base64 bytes>"            output (stdout and stderr together, as on a console)
 *                 "X <id> <how> <n> <truncated>"     end: how = exit (n = status), signal (n = signal),
 *                                                     timeout (killed at the deadline), error (n = errno,
 *                                                     nothing was run), truncated = 1 when the output
 *                                                     passed MAX_OUTPUT and the command was killed.
 * One command at a time, in its own session (a timeout kills its whole process group; what it started
 * with `&` and setsid keeps running, as in a shell). Output goes to an unlinked temporary file, not a
 * pipe, so a background job that outlives its command never blocks or dies on a closed pipe.
 * Why virtio-serial rather than a third 16550: QEMU's ISA serial ports 0 and 2 share IRQ 4, and a
 * shared ISA line can hide one port's interrupt behind the other's.
 * Built static at setup (gcc, libc6-dev) into the guest image. `vsperf-cmdd -` speaks on stdin/stdout
 * (unit tests on the host).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE 65536
#define MAX_OUTPUT (1024 * 1024)
#define CHUNK 768 /* raw bytes per O line: 1024 base64 characters */

static int in_fd = 0, out_fd = 1, stdio_mode = 0;

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encode(const unsigned char *src, size_t n, char *dst) {
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = src[i] << 16 | (i + 1 < n ? src[i + 1] << 8 : 0) | (i + 2 < n ? src[i + 2] : 0);
    dst[o++] = B64[v >> 18 & 63];
    dst[o++] = B64[v >> 12 & 63];
    dst[o++] = i + 1 < n ? B64[v >> 6 & 63] : '=';
    dst[o++] = i + 2 < n ? B64[v & 63] : '=';
  }
  return o;
}

/* Decoded length, or -1 for anything that is not canonical base64. */
static long b64_decode(const char *src, size_t n, char *dst) {
  if (n % 4) return -1;
  long o = 0;
  for (size_t i = 0; i < n; i += 4) {
    unsigned v = 0;
    int pad = 0;
    for (int k = 0; k < 4; k++) {
      char c = src[i + k];
      const char *p = c ? strchr(B64, c) : NULL;
      if (c == '=' && i + 4 == n && k >= 2) {
        pad++;
        v <<= 6;
        continue;
      }
      if (!p || pad) return -1;
      v = v << 6 | (unsigned)(p - B64);
    }
    dst[o++] = (char)(v >> 16);
    if (pad < 2) dst[o++] = (char)(v >> 8 & 255);
    if (pad < 1) dst[o++] = (char)(v & 255);
  }
  return o;
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Whole line out; a host that stopped reading (gone for 2 s) loses it rather than stalling the guest. */
static void send_line(const char *buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(out_fd, buf + done, n - done);
    if (w > 0) {
      done += (size_t)w;
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EINTR) return;
    struct pollfd p = {out_fd, POLLOUT, 0};
    if (poll(&p, 1, 2000) <= 0 || !(p.revents & POLLOUT)) return;
  }
}

static void send_end(const char *id, const char *how, long n, int truncated) {
  char line[160];
  int k = snprintf(line, sizeof line, "X %s %s %ld %d\n", id, how, n, truncated);
  send_line(line, (size_t)k);
}

/* Send what the command wrote since `*off`; returns bytes sent. */
static long forward_output(const char *id, int rfd, long *off, long limit) {
  static char raw[CHUNK];
  static char line[CHUNK * 2 + 64];
  long sent = 0;
  for (;;) {
    long want = limit - *off < CHUNK ? limit - *off : CHUNK;
    if (want <= 0) return sent;
    ssize_t r = pread(rfd, raw, (size_t)want, *off);
    if (r <= 0) return sent;
    int k = snprintf(line, sizeof line, "O %s ", id);
    size_t m = b64_encode((unsigned char *)raw, (size_t)r, line + k);
    line[k + m] = '\n';
    send_line(line, (size_t)k + m + 1);
    *off += r;
    sent += r;
  }
}

static void run(const char *id, long timeout_ms, const char *cmd) {
  char path[] = "/tmp/vsperf-cmd-XXXXXX";
  int wfd = mkstemp(path);
  if (wfd < 0) return send_end(id, "error", errno, 0);
  int rfd = open(path, O_RDONLY);
  unlink(path);
  if (rfd < 0) {
    close(wfd);
    return send_end(id, "error", errno, 0);
  }
  fcntl(wfd, F_SETFL, O_APPEND);
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(wfd);
    close(rfd);
    return send_end(id, "error", e, 0);
  }
  if (pid == 0) {
    setsid();
    int nul = open("/dev/null", O_RDONLY);
    dup2(nul, 0);
    dup2(wfd, 1);
    dup2(wfd, 2);
    for (int fd = 3; fd < 64; fd++) close(fd);
    signal(SIGPIPE, SIG_DFL);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  close(wfd);
  long long deadline = now_ms() + timeout_ms;
  long off = 0;
  int status = 0, timed_out = 0, truncated = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    forward_output(id, rfd, &off, MAX_OUTPUT);
    if (r == pid) break;
    if (off >= MAX_OUTPUT && !truncated) {
      truncated = 1;
      kill(-pid, SIGKILL);
    } else if (!timed_out && now_ms() > deadline) {
      timed_out = 1;
      kill(-pid, SIGKILL);
    }
    struct timespec nap = {0, 20 * 1000 * 1000};
    nanosleep(&nap, NULL);
  }
  forward_output(id, rfd, &off, MAX_OUTPUT);
  close(rfd);
  if (timed_out) send_end(id, "timeout", 0, truncated);
  else if (WIFSIGNALED(status)) send_end(id, "signal", WTERMSIG(status), truncated);
  else send_end(id, "exit", WEXITSTATUS(status), truncated);
}

static int valid_id(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > 32) return 0;
  for (size_t i = 0; i < n; i++)
    if (!(id[i] == '-' || id[i] == '_' || (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z'))) return 0;
  return 1;
}

static void handle(char *line) {
  char *save = NULL;
  char *op = strtok_r(line, " ", &save);
  char *id = strtok_r(NULL, " ", &save);
  if (!op || !id || !valid_id(id)) return; /* line noise */
  if (!strcmp(op, "P") && !strtok_r(NULL, " ", &save)) {
    char out[96];
    int k = snprintf(out, sizeof out, "A %s vsperf-cmdd 1\n", id);
    send_line(out, (size_t)k);
    return;
  }
  if (strcmp(op, "R")) return send_end(id, "error", EINVAL, 0);
  char *t = strtok_r(NULL, " ", &save);
  char *b = strtok_r(NULL, " ", &save);
  char *end = NULL;
  long timeout_ms = t ? strtol(t, &end, 10) : 0;
  if (!b || strtok_r(NULL, " ", &save) || !end || *end || timeout_ms <= 0) return send_end(id, "error", EINVAL, 0);
  static char cmd[MAX_LINE];
  long n = b64_decode(b, strlen(b), cmd);
  if (n <= 0 || memchr(cmd, 0, (size_t)n)) return send_end(id, "error", EINVAL, 0);
  cmd[n] = 0;
  run(id, timeout_ms, cmd);
}

int main(int argc, char **argv) {
  const char *dev = argc > 1 ? argv[1] : "/dev/vport0p1";
  signal(SIGPIPE, SIG_IGN);
  if (!strcmp(dev, "-")) {
    stdio_mode = 1;
  } else {
    int fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
      perror(dev);
      return 1;
    }
    in_fd = out_fd = fd;
  }
  static char line[MAX_LINE];
  size_t n = 0;
  int overlong = 0;
  for (;;) {
    char buf[4096];
    ssize_t r = read(in_fd, buf, sizeof buf);
    if (r == 0 && stdio_mode) return 0;
    if (r <= 0) {
      /* virtio-serial: no host on the socket (EOF / POLLHUP) or nothing to read yet */
      if (r < 0 && errno != EAGAIN && errno != EINTR) return 2;
      struct pollfd p = {in_fd, POLLIN, 0};
      if (poll(&p, 1, 1000) > 0 && !(p.revents & POLLIN)) {
        struct timespec nap = {0, 100 * 1000 * 1000};
        nanosleep(&nap, NULL);
      }
      continue;
    }
    for (ssize_t i = 0; i < r; i++) {
      char c = buf[i];
      if (c == '\r') continue;
      if (c != '\n') {
        if (n < sizeof line - 1) line[n++] = c;
        else overlong = 1;
        continue;
      }
      line[n] = 0;
      if (overlong) {
        /* answer with the id when it is readable, so the host gets an error rather than silence */
        char *sp = strchr(line, ' ');
        char *id = sp ? sp + 1 : NULL;
        char *sp2 = id ? strchr(id, ' ') : NULL;
        if (sp2) *sp2 = 0;
        if (id && valid_id(id)) send_end(id, "error", E2BIG, 0);
      } else {
        handle(line);
      }
      n = 0;
      overlong = 0;
    }
  }
}
