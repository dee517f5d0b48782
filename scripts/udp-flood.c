/* udp-flood: paced UDP datagrams to one loopback port, for the live capture bench (scripts/bench-live.mjs).
 *
 * usage: udp-flood PORT RATE SECONDS [PAYLOAD_BYTES]
 * Sends RATE datagrams a second of PAYLOAD_BYTES (default 64) to 127.0.0.1:PORT for SECONDS, paced every
 * millisecond with sendmmsg (Node's dgram cannot reach 300 k a second on two cores). Prints one JSON line:
 * how many the kernel accepted, and the achieved rate. The destination is always 127.0.0.1: this tool has
 * no way to send anywhere else. A listener must be bound to PORT (else every datagram draws an ICMP error).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BURST 1024

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: udp-flood PORT RATE SECONDS [PAYLOAD_BYTES]\n");
    return 2;
  }
  int port = atoi(argv[1]);
  double rate = atof(argv[2]);
  double seconds = atof(argv[3]);
  int size = argc > 4 ? atoi(argv[4]) : 64;
  if (port <= 0 || port > 65535 || rate <= 0 || seconds <= 0 || seconds > 600 || size < 0 || size > 1400) {
    fprintf(stderr, "udp-flood: bad arguments\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  struct sockaddr_in to;
  memset(&to, 0, sizeof(to));
  to.sin_family = AF_INET;
  to.sin_port = htons((unsigned short)port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
    perror("connect");
    return 1;
  }
  static char payload[1400];
  memset(payload, 0x42, sizeof(payload));
  static struct iovec iov[BURST];
  static struct mmsghdr msgs[BURST];
  for (int i = 0; i < BURST; i++) {
    iov[i].iov_base = payload;
    iov[i].iov_len = (size_t)size;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long sent = 0, failed = 0;
  double start = now_s();
  double end = start + seconds;
  struct timespec tick = { 0, 1000000 };
  for (;;) {
    double t = now_s();
    if (t >= end) break;
    unsigned long long due = (unsigned long long)((t - start) * rate);
    while (sent + failed < due) {
      unsigned long long want = due - sent - failed;
      int n = sendmmsg(fd, msgs, want > BURST ? BURST : (unsigned)want, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        /* ENOBUFS, ECONNREFUSED: counted as not sent, pacing goes on. */
        failed++;
        continue;
      }
      sent += (unsigned long long)n;
    }
    nanosleep(&tick, NULL);
  }
  double took = now_s() - start;
  printf("{\"sent\":%llu,\"failed\":%llu,\"seconds\":%.3f,\"rate\":%.0f}\n", sent, failed, took, (double)sent / took);
  close(fd);
  return 0;
}
