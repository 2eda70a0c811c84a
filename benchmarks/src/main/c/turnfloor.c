/*
 * turnfloor: the cheapest TURN relay turnutils_uclient accepts, as a measuring stick for the benchmark (not a
 * server: it checks no integrity, keeps allocations forever, lets any peer in and speaks IPv4 only).
 *
 * Its data path is what issue 4 calls the machine's ceiling: per thread one SO_REUSEPORT listening socket read with
 * recvmmsg, ChannelData to peers sent with one sendto per datagram from the allocation's relayed socket (each has its
 * own port, so nothing can be batched across them), datagrams from peers read with recvmmsg on level-triggered epoll,
 * framed as ChannelData in place and sent back to clients with sendmmsg at the end of each epoll round. No copies
 * beyond the kernel's, no allocation per datagram.
 *
 * Control: the first Allocate without credentials gets 401 (REALM, NONCE); requests with USERNAME get success
 * responses carrying MESSAGE-INTEGRITY (long-term key) and FINGERPRINT, which uclient checks.
 *
 *   gcc -O2 -o turnfloor turnfloor.c -lcrypto -lpthread
 *   turnfloor PORT THREADS USER PASSWORD REALM
 * Runs until killed. Prints "READY port=PORT" once every thread listens.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32          /* datagrams per recvmmsg / sendmmsg */
#define SLOT 2048         /* bytes per receive slot: uclient sends 100-byte payloads */
#define TABLE 8192        /* allocations per thread (open addressing, power of two) */
#define CHANNELS 4        /* channel bindings per allocation */
#define MAGIC 0x2112A442u

static int port, threads;
static const char *user, *realm;
static unsigned char key[16]; /* MD5(user:realm:password) */
static uint32_t crc_table[256];

struct binding { uint16_t number; struct sockaddr_in peer; };
struct alloc {
  int used;
  struct sockaddr_in client;
  int fd;
  struct sockaddr_in relayed;
  int nbind;
  struct binding bind[CHANNELS];
};

struct worker {
  int fd, ep;
  struct alloc *table;
  /* replies to clients, sent with one sendmmsg per epoll round */
  struct mmsghdr out[BATCH];
  struct iovec outv[BATCH];
  struct sockaddr_in outaddr[BATCH];
  unsigned char outbuf[BATCH][SLOT + 4];
  int nout;
  /* receive batch */
  struct mmsghdr in[BATCH];
  struct iovec inv[BATCH];
  struct sockaddr_in inaddr[BATCH];
  unsigned char inbuf[BATCH][SLOT];
};

static void die(const char *what) { perror(what); exit(1); }

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc32(const unsigned char *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  while (n--) c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

static unsigned hash(const struct sockaddr_in *a) {
  uint32_t h = a->sin_addr.s_addr * 2654435761u ^ a->sin_port * 40503u;
  return (h ^ (h >> 13)) & (TABLE - 1);
}

static int same(const struct sockaddr_in *a, const struct sockaddr_in *b) {
  return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static struct alloc *find(struct worker *w, const struct sockaddr_in *client, int create) {
  unsigned i = hash(client);
  for (int n = 0; n < TABLE; n++, i = (i + 1) & (TABLE - 1)) {
    struct alloc *a = &w->table[i];
    if (!a->used) {
      if (!create) return NULL;
      memset(a, 0, sizeof *a);
      a->used = 1;
      a->client = *client;
      a->fd = -1;
      return a;
    }
    if (same(&a->client, client)) return a;
  }
  return NULL;
}

/* The listening socket has data.ptr NULL; a relayed socket's is its allocation. */
static int open_relayed(struct worker *w, struct alloc *a) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a->relayed;
  if (bind(fd, (struct sockaddr *)&any, sizeof any) < 0 || getsockname(fd, (struct sockaddr *)&a->relayed, &len) < 0) {
    close(fd);
    return -1;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = a};
  if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
    close(fd);
    return -1;
  }
  a->fd = fd;
  return 0;
}

static unsigned char *put_attr(unsigned char *p, uint16_t type, const void *v, uint16_t len) {
  p[0] = type >> 8; p[1] = type; p[2] = len >> 8; p[3] = len;
  memcpy(p + 4, v, len);
  int pad = (4 - len % 4) % 4;
  memset(p + 4 + len, 0, pad);
  return p + 4 + len + pad;
}

static unsigned char *put_xor(unsigned char *p, uint16_t type, const struct sockaddr_in *a) {
  unsigned char v[8] = {0, 1};
  uint16_t xport = ntohs(a->sin_port) ^ (MAGIC >> 16);
  uint32_t xaddr = ntohl(a->sin_addr.s_addr) ^ MAGIC;
  v[2] = xport >> 8; v[3] = xport;
  v[4] = xaddr >> 24; v[5] = xaddr >> 16; v[6] = xaddr >> 8; v[7] = xaddr;
  return put_attr(p, type, v, 8);
}

static void set_len(unsigned char *m, size_t len) { m[2] = (len - 20) >> 8; m[3] = len - 20; }

/* A STUN request from a client: answers it on the listening socket (control is rare: one sendto each). */
static void request(struct worker *w, const unsigned char *m, int n, const struct sockaddr_in *from) {
  if (n < 20 || (m[0] & 0xC0) || ntohl(*(uint32_t *)(m + 4)) != MAGIC) return;
  uint16_t type = m[0] << 8 | m[1];
  if (type & 0x0110) return; /* not a request */
  uint16_t method = (type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2);
  int has_user = 0, lifetime = -1, channel = -1;
  struct sockaddr_in peer = {.sin_family = AF_INET};
  int has_peer = 0;
  for (int at = 20; at + 4 <= n;) {
    uint16_t t = m[at] << 8 | m[at + 1], l = m[at + 2] << 8 | m[at + 3];
    const unsigned char *v = m + at + 4;
    if (at + 4 + l > n) return;
    if (t == 0x0006) has_user = 1;
    if (t == 0x000D && l == 4) lifetime = ntohl(*(uint32_t *)v);
    if (t == 0x000C && l == 4) channel = v[0] << 8 | v[1];
    if (t == 0x0012 && l == 8 && v[1] == 1) {
      peer.sin_port = htons((v[2] << 8 | v[3]) ^ (MAGIC >> 16));
      peer.sin_addr.s_addr = htonl(((uint32_t)v[4] << 24 | v[5] << 16 | v[6] << 8 | v[7]) ^ MAGIC);
      has_peer = 1;
    }
    at += 4 + ((l + 3) & ~3);
  }
  unsigned char r[512];
  unsigned char *p = r + 20;
  memcpy(r + 4, m + 4, 16); /* cookie and transaction id */
  if (!has_user) {
    uint16_t err = type | 0x0110;
    r[0] = err >> 8; r[1] = err;
    unsigned char code[16] = {0, 0, 4, 1};
    memcpy(code + 4, "Unauthorized", 12);
    p = put_attr(p, 0x0009, code, 16);
    p = put_attr(p, 0x0014, realm, strlen(realm));
    p = put_attr(p, 0x0015, "floornonce0123456789", 20);
    set_len(r, p - r);
    sendto(w->fd, r, p - r, 0, (const struct sockaddr *)from, sizeof *from);
    return;
  }
  uint16_t ok = type | 0x0100;
  r[0] = ok >> 8; r[1] = ok;
  struct alloc *a = find(w, from, method == 0x003);
  if (method == 0x003) {
    if (a == NULL || (a->fd < 0 && open_relayed(w, a) < 0)) return;
    uint32_t life = htonl(600);
    p = put_xor(p, 0x0016, &a->relayed);
    p = put_xor(p, 0x0020, from);
    p = put_attr(p, 0x000D, &life, 4);
  } else if (method == 0x004) {
    uint32_t life = htonl(lifetime < 0 ? 600 : lifetime);
    p = put_attr(p, 0x000D, &life, 4);
  } else if (method == 0x009 && a != NULL && has_peer && channel >= 0) {
    int i = 0;
    while (i < a->nbind && a->bind[i].number != channel) i++;
    if (i == a->nbind && a->nbind < CHANNELS) a->nbind++;
    if (i < CHANNELS) a->bind[i] = (struct binding){.number = channel, .peer = peer};
  }
  /* MESSAGE-INTEGRITY over the message with its length counting the attribute, then FINGERPRINT. */
  set_len(r, p - r + 24);
  unsigned int maclen = 20;
  unsigned char mac[20];
  HMAC(EVP_sha1(), key, sizeof key, r, p - r, mac, &maclen);
  p = put_attr(p, 0x0008, mac, 20);
  set_len(r, p - r + 8);
  uint32_t fp = htonl(crc32(r, p - r) ^ 0x5354554Eu);
  p = put_attr(p, 0x8028, &fp, 4);
  sendto(w->fd, r, p - r, 0, (const struct sockaddr *)from, sizeof *from);
}

static void flush(struct worker *w) {
  int at = 0;
  while (at < w->nout) {
    int k = sendmmsg(w->fd, w->out + at, w->nout - at, 0);
    if (k <= 0) break; /* a full send buffer drops the rest, as a server would */
    at += k;
  }
  w->nout = 0;
}

/* Datagrams from peers on a relayed socket: framed as ChannelData straight into the outgoing batch. */
static void from_peers(struct worker *w, struct alloc *a) {
  int room = BATCH - w->nout;
  if (room < BATCH / 2) {
    flush(w);
    room = BATCH;
  }
  struct mmsghdr hdr[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in src[BATCH];
  for (int i = 0; i < room; i++) {
    iov[i] = (struct iovec){w->outbuf[w->nout + i] + 4, SLOT};
    hdr[i].msg_hdr = (struct msghdr){.msg_name = &src[i], .msg_namelen = sizeof src[i], .msg_iov = &iov[i], .msg_iovlen = 1};
  }
  int base = w->nout;
  int k = recvmmsg(a->fd, hdr, room, MSG_DONTWAIT, NULL);
  for (int i = 0; i < k; i++) {
    int j = 0;
    while (j < a->nbind && !same(&a->bind[j].peer, &src[i])) j++;
    if (j == a->nbind) continue; /* no channel to that peer: the floor sends no Data indications */
    int o = w->nout++;
    unsigned len = hdr[i].msg_len;
    unsigned char *f = w->outbuf[o];
    if (o != base + i) memmove(f + 4, w->outbuf[base + i] + 4, len); /* an earlier datagram was skipped */
    f[0] = a->bind[j].number >> 8; f[1] = a->bind[j].number; f[2] = len >> 8; f[3] = len;
    w->outv[o] = (struct iovec){f, len + 4}; /* no padding over UDP (RFC 8656 12.5) */
    w->outaddr[o] = a->client;
    w->out[o].msg_hdr = (struct msghdr){.msg_name = &w->outaddr[o], .msg_namelen = sizeof w->outaddr[o],
                                        .msg_iov = &w->outv[o], .msg_iovlen = 1};
  }
}

/* Datagrams on the listening socket: ChannelData to peers, requests answered. */
static void from_clients(struct worker *w) {
  int k = recvmmsg(w->fd, w->in, BATCH, MSG_DONTWAIT, NULL);
  for (int i = 0; i < k; i++) {
    unsigned char *m = w->inbuf[i];
    int n = w->in[i].msg_len;
    const struct sockaddr_in *from = &w->inaddr[i];
    if (n >= 4 && m[0] >= 0x40 && m[0] <= 0x7F) {
      uint16_t ch = m[0] << 8 | m[1], len = m[2] << 8 | m[3];
      struct alloc *a = find(w, from, 0);
      if (a == NULL || a->fd < 0 || 4 + len > n) continue;
      for (int j = 0; j < a->nbind; j++) {
        if (a->bind[j].number == ch) {
          sendto(a->fd, m + 4, len, 0, (const struct sockaddr *)&a->bind[j].peer, sizeof a->bind[j].peer);
          break;
        }
      }
    } else {
      request(w, m, n, from);
    }
    w->in[i].msg_hdr.msg_namelen = sizeof w->inaddr[i];
  }
}

static void *run(void *arg) {
  struct worker *w = arg;
  struct epoll_event ev[64];
  for (;;) {
    int n = epoll_wait(w->ep, ev, 64, -1);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      if (ev[i].data.ptr == NULL) from_clients(w);
      else from_peers(w, ev[i].data.ptr);
    }
    flush(w);
  }
  return NULL;
}

static struct worker *start_worker(void) {
  struct worker *w = calloc(1, sizeof *w);
  w->table = calloc(TABLE, sizeof *w->table);
  if (w == NULL || w->table == NULL) die("calloc");
  w->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int one = 1, buf = 4 * 1024 * 1024;
  setsockopt(w->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(w->fd, (struct sockaddr *)&local, sizeof local) < 0) die("bind");
  w->ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->fd, &ev) < 0) die("epoll_ctl");
  for (int i = 0; i < BATCH; i++) {
    w->inv[i] = (struct iovec){w->inbuf[i], SLOT};
    w->in[i].msg_hdr = (struct msghdr){.msg_name = &w->inaddr[i], .msg_namelen = sizeof w->inaddr[i],
                                       .msg_iov = &w->inv[i], .msg_iovlen = 1};
  }
  return w;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: turnfloor PORT THREADS USER PASSWORD REALM\n");
    return 2;
  }
  port = atoi(argv[1]);
  threads = atoi(argv[2]);
  user = argv[3];
  realm = argv[5];
  char material[512];
  int len = snprintf(material, sizeof material, "%s:%s:%s", user, realm, argv[4]);
  unsigned int keylen = sizeof key;
  EVP_Digest(material, len, key, &keylen, EVP_md5(), NULL);
  crc_init();
  pthread_t tid[64];
  struct worker *w[64];
  if (threads < 1 || threads > 64) threads = 1;
  for (int i = 0; i < threads; i++) w[i] = start_worker();
  printf("READY port=%d\n", port);
  fflush(stdout);
  for (int i = 0; i < threads; i++) pthread_create(&tid[i], NULL, run, w[i]);
  for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);
  return 0;
}
