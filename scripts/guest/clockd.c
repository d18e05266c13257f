/*
 * vsperf-clockd: the guest's time responder on a serial port (ttyS1, a QEMU isa-serial whose chardev
 * is a Unix socket on the host). For every line the host sends (a query id), it reads CLOCK_REALTIME
 * at once and answers "T <id> <sec>.<nsec> <resolution ns>\n". The host brackets the query with its own
 * clock (t0 before sending, t1 on the reply): offset = guest - (t0 + t1) / 2, within (t1 - t0) / 2.
 *
 * Why not busybox: busybox's date has no sub-second format, and `adjtimex` (microseconds) costs a
 * fork + exec per query, 35-180 ms under TCG on a loaded host; this answers in one read/write.
 * Why 115200 baud: the 16550 raises a receive interrupt for a short line only after 4 idle character
 * times; at the default 9600 baud that alone adds ~4 ms to every round trip.
 * Built static at setup (gcc, libc6-dev) into the guest image; no other input.
 */
#include <fcntl.h>
#include <stdio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *dev = argc > 1 ? argv[1] : "/dev/ttyS1";
  int fd = open(dev, O_RDWR | O_NOCTTY);
  if (fd < 0) {
    perror(dev);
    return 1;
  }
  struct termios t;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(fd, TCSANOW, &t);
  }
  struct timespec res;
  clock_getres(CLOCK_REALTIME, &res);
  char id[64];
  size_t n = 0;
  char c;
  while (read(fd, &c, 1) == 1) {
    if (c == '\r') continue;
    if (c != '\n') {
      /* ids are printable tokens; anything else (line noise) is dropped */
      if (c > ' ' && c < 127 && n < sizeof id - 1) id[n++] = c;
      continue;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    id[n] = 0;
    n = 0;
    char out[160];
    int k = snprintf(out, sizeof out, "T %s %lld.%09ld %ld\n", id, (long long)now.tv_sec, now.tv_nsec, (long)res.tv_nsec);
    if (k > 0 && write(fd, out, (size_t)k) != k) return 2;
  }
  return 0;
}
