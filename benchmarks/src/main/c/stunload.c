/*
 * STUN Binding load generator for the benchmark harness (compiled by it with gcc at run time).
 *
 *   stunload HOST PORT RATE SECONDS [SOCKETS]
 *
 * Sends RATE Binding requests per second (20-byte RFC 8489 requests, no attributes) for SECONDS seconds
 * from SOCKETS connected UDP sockets (default 8, so a server with one SO_REUSEPORT socket per thread gets
 * them spread by the kernel), paced in batches every millisecond with sendmmsg, and reads answers with
 * recvmmsg while it waits for the next tick (poll, no busy loop: the machine is shared with the server).
 * Then it drains for 500 ms and prints one line:
 *
 *   sent=N received=N lost=N rate=R p50_us=X p99_us=Y max_us=Z
 *
 * A reply counts when it is a Binding success response whose transaction id is one we sent and have
 * not seen answered; the round-trip time is measured per request with CLOCK_MONOTONIC. Loopback only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS 64
#define BATCH 64
#define SLOTS (1u << 22) /* outstanding-request table; sequence numbers wrap around it */
#define HIST_US 100000   /* latency histogram: 1 us buckets up to 100 ms */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t *sent_at; /* per slot: send time in ns, 0 = not outstanding */
static uint32_t *sent_seq;
static uint64_t hist[HIST_US + 1];
static uint64_t received, late_or_unknown, max_us;
static uint32_t tag;

static void build(unsigned char *b, uint32_t seq) {
  b[0] = 0x00; b[1] = 0x01; /* Binding request */
  b[2] = 0x00; b[3] = 0x00; /* no attributes */
  b[4] = 0x21; b[5] = 0x12; b[6] = 0xA4; b[7] = 0x42;
  memcpy(b + 8, &tag, 4);
  memcpy(b + 12, &seq, 4);
  memset(b + 16, 0, 4);
}

static void on_reply(const unsigned char *b, int len, uint64_t t) {
  if (len < 20 || b[0] != 0x01 || b[1] != 0x01 || memcmp(b + 8, &tag, 4) != 0) {
    late_or_unknown++;
    return;
  }
  uint32_t seq;
  memcpy(&seq, b + 12, 4);
  uint32_t slot = seq & (SLOTS - 1);
  if (sent_at[slot] == 0 || sent_seq[slot] != seq) {
    late_or_unknown++;
    return;
  }
  uint64_t us = (t - sent_at[slot]) / 1000;
  sent_at[slot] = 0;
  if (us > max_us) {
    max_us = us;
  }
  hist[us > HIST_US ? HIST_US : us]++;
  received++;
}

static void drain(int fd) {
  static unsigned char bufs[BATCH][2048];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  for (;;) {
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = sizeof bufs[i];
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) {
      return;
    }
    uint64_t t = now_ns();
    for (int i = 0; i < n; i++) {
      on_reply(bufs[i], (int)msgs[i].msg_len, t);
    }
    if (n < BATCH) {
      return;
    }
  }
}

static uint64_t percentile(double p) {
  uint64_t want = (uint64_t)(received * p);
  uint64_t acc = 0;
  for (int i = 0; i <= HIST_US; i++) {
    acc += hist[i];
    if (acc > want) {
      return (uint64_t)i;
    }
  }
  return HIST_US;
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s HOST PORT RATE SECONDS [SOCKETS]\n", argv[0]);
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  double rate = atof(argv[3]);
  double seconds = atof(argv[4]);
  int nsock = argc > 5 ? atoi(argv[5]) : 8;
  if (nsock < 1 || nsock > MAX_SOCKETS || rate <= 0 || seconds <= 0 || seconds > 60) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  sent_at = calloc(SLOTS, sizeof *sent_at);
  sent_seq = calloc(SLOTS, sizeof *sent_seq);
  if (!sent_at || !sent_seq) {
    return 1;
  }
  tag = (uint32_t)getpid() ^ (uint32_t)now_ns();

  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &to.sin_addr) != 1) {
    fprintf(stderr, "bad host %s\n", host);
    return 2;
  }
  struct pollfd pfd[MAX_SOCKETS];
  for (int i = 0; i < nsock; i++) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int sz = 4 * 1024 * 1024;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
      perror("socket/connect");
      return 1;
    }
    pfd[i].fd = fd;
    pfd[i].events = POLLIN;
  }

  static unsigned char out[BATCH][20];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  uint64_t start = now_ns();
  uint64_t end = start + (uint64_t)(seconds * 1e9);
  uint64_t sent = 0, send_failed = 0;
  uint32_t seq = 1;
  int next_sock = 0;
  for (;;) {
    uint64_t t = now_ns();
    if (t >= end) {
      break;
    }
    uint64_t due = (uint64_t)((double)(t - start) * rate / 1e9);
    while (sent + send_failed < due) {
      uint64_t want = due - sent - send_failed;
      int n = want > BATCH ? BATCH : (int)want;
      for (int i = 0; i < n; i++) {
        build(out[i], seq);
        uint32_t slot = seq & (SLOTS - 1);
        sent_seq[slot] = seq;
        sent_at[slot] = t;
        seq++;
        iov[i].iov_base = out[i];
        iov[i].iov_len = 20;
        memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
      }
      int fd = pfd[next_sock].fd;
      next_sock = (next_sock + 1) % nsock;
      int k = sendmmsg(fd, msgs, (unsigned)n, 0);
      if (k < 0) {
        k = 0;
      }
      sent += (uint64_t)k;
      for (int i = k; i < n; i++) { /* not sent: not outstanding */
        uint32_t s = seq - (uint32_t)(n - i);
        sent_at[s & (SLOTS - 1)] = 0;
        send_failed++;
      }
    }
    /* Wait for answers until the next millisecond tick. */
    uint64_t next = t + 1000000ull - ((t - start) % 1000000ull);
    int ms = (int)((next - now_ns()) / 1000000ull);
    if (poll(pfd, (nfds_t)nsock, ms < 0 ? 0 : ms) > 0) {
      for (int i = 0; i < nsock; i++) {
        if (pfd[i].revents & POLLIN) {
          drain(pfd[i].fd);
        }
      }
    } else {
      for (int i = 0; i < nsock; i++) {
        drain(pfd[i].fd);
      }
    }
  }
  uint64_t drain_end = now_ns() + 500000000ull;
  while (now_ns() < drain_end) {
    if (poll(pfd, (nfds_t)nsock, 50) > 0) {
      for (int i = 0; i < nsock; i++) {
        drain(pfd[i].fd);
      }
    }
  }
  double secs = (double)(end - start) / 1e9;
  printf("sent=%llu received=%llu lost=%llu send_failed=%llu rate=%.0f p50_us=%llu p99_us=%llu max_us=%llu unknown=%llu\n",
         (unsigned long long)sent, (unsigned long long)received, (unsigned long long)(sent - received),
         (unsigned long long)send_failed, (double)received / secs, (unsigned long long)percentile(0.50),
         (unsigned long long)percentile(0.99), (unsigned long long)max_us,
         (unsigned long long)late_or_unknown);
  return 0;
}
