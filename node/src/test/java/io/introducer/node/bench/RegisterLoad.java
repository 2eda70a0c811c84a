package io.introducer.node.bench;

import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Drives REGISTER at a set of nodes from a few non-blocking sockets per node: many simulated peers (peer ids) share
 * each socket, so a peer's registered address is its socket's. Requests are signed like a real peer's (APP-ID,
 * PEER-ID, TIMESTAMP, one HOST CANDIDATE, MESSAGE-INTEGRITY-SHA256 under the peer key, FINGERPRINT).
 *
 * <p>The transaction id carries what the receiver needs to account an answer without any lookup: bytes 0-3 the
 * peer index, byte 4 the phase, 5-7 random, 8-11 the send time in microseconds (so the round-trip time comes
 * back with the answer). Peer {@code i} is sent to node {@code i % N}.
 *
 * <p>A phase is paced open-loop at a given rate (rate steps: the offered load does not slow down when the node
 * does, so overload shows as lost answers) or closed-loop with a per-node window of requests in flight (fills:
 * as fast as the nodes answer, without loss). One sender (the caller's thread), one receiver thread.
 */
final class RegisterLoad implements AutoCloseable {
  static final String APP = "demo";
  static final String SECRET = "demo-secret";
  /** Peer indexes the bit set can mark as registered. */
  static final int MAX_PEERS = 8 << 20;

  private final List<BenchNode> nodes;
  private final int n;
  private final int perNode;
  private final DatagramChannel[][] channels;
  private final Selector selector;
  private final Thread receiver;
  private volatile boolean running = true;
  private final AtomicLongArray registered = new AtomicLongArray(MAX_PEERS / 64);
  private final Phase[] phases = new Phase[256];
  private final int successType;
  private final int errorType;
  private final LongAdder strays = new LongAdder();

  /** Counts and round-trip times of one phase, by node. */
  static final class Phase {
    final int id;
    final String label;
    final AtomicLongArray sent;
    final AtomicLongArray ok;
    final AtomicLongArray err;
    final AtomicLongArray writtenOff;
    final Histogram[] rtt;
    final Map<Integer, LongAdder> errorCodes = new ConcurrentHashMap<>();
    volatile long firstSendNanos;
    volatile long lastSendNanos;
    volatile long lastAnswerNanos;
    long offeredRate;
    boolean senderBehind;

    Phase(int id, String label, int nodes) {
      this.id = id;
      this.label = label;
      sent = new AtomicLongArray(nodes);
      ok = new AtomicLongArray(nodes);
      err = new AtomicLongArray(nodes);
      writtenOff = new AtomicLongArray(nodes);
      rtt = new Histogram[nodes];
      for (int i = 0; i < nodes; i++) {
        rtt[i] = new Histogram();
      }
    }

    long total(AtomicLongArray a) {
      long s = 0;
      for (int i = 0; i < a.length(); i++) {
        s += a.get(i);
      }
      return s;
    }

    long sent() {
      return total(sent);
    }

    long ok() {
      return total(ok);
    }

    long errors() {
      return total(err);
    }

    double okRatio() {
      long s = sent();
      return s == 0 ? 0 : (double) ok() / s;
    }

    double okRatio(int node) {
      long s = sent.get(node);
      return s == 0 ? 0 : (double) ok.get(node) / s;
    }

    /** Seconds from the first send to the last send (open loop) or the last answer (closed loop), at least 1 ms. */
    double seconds(boolean toLastAnswer) {
      long end = toLastAnswer ? Math.max(lastAnswerNanos, lastSendNanos) : lastSendNanos;
      return Math.max(1e-3, (end - firstSendNanos) / 1e9);
    }

    Histogram rttAll() {
      Histogram h = new Histogram();
      for (Histogram x : rtt) {
        h.add(x);
      }
      return h;
    }

    String errorSummary() {
      Map<Integer, Long> m = new TreeMap<>();
      errorCodes.forEach((k, v) -> m.put(k, v.sum()));
      return m.isEmpty() ? "" : m.toString();
    }
  }

  RegisterLoad(List<BenchNode> nodes, int socketsPerNode) throws IOException {
    this.nodes = nodes;
    this.n = nodes.size();
    this.perNode = socketsPerNode;
    this.selector = Selector.open();
    this.channels = new DatagramChannel[n][socketsPerNode];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < socketsPerNode; k++) {
        DatagramChannel ch = DatagramChannel.open();
        ch.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
        ch.setOption(StandardSocketOptions.SO_SNDBUF, 1 << 20);
        ch.bind(new InetSocketAddress("127.0.0.1", 0));
        ch.connect(nodes.get(i).udp());
        ch.configureBlocking(false);
        ch.register(selector, SelectionKey.OP_READ, i);
        channels[i][k] = ch;
      }
    }
    StunMessage probe;
    try {
      probe = StunMessage.decode(StunMessage.builder(StunMethods.REGISTER, StunClass.REQUEST).encode());
    } catch (StunParseException e) {
      throw new IllegalStateException(e);
    }
    successType = typeOf(StunMessage.successFor(probe).encode());
    errorType = typeOf(StunMessage.errorFor(probe, 400, "x").encode());
    receiver = new Thread(this::receiveLoop, "bench-receiver");
    receiver.setDaemon(true);
    receiver.start();
  }

  private static int typeOf(byte[] datagram) {
    return ((datagram[0] & 0xFF) << 8) | (datagram[1] & 0xFF);
  }

  /** "peer-" and the index as 8 digits: 13 characters, about a short player id. */
  static String peerId(int index) {
    String digits = Integer.toString(index);
    return "peer-" + "00000000".substring(Math.min(8, digits.length())) + digits;
  }

  static int nowMicros() {
    return (int) (System.nanoTime() / 1000);
  }

  /** Whether peer {@code index} got a REGISTER success. */
  boolean isRegistered(int index) {
    return (registered.get(index >>> 6) & (1L << (index & 63))) != 0;
  }

  /** Peers that got a REGISTER success in [from, to). */
  int countRegistered(int from, int to) {
    int c = 0;
    for (int i = from; i < to; i++) {
      if (isRegistered(i)) {
        c++;
      }
    }
    return c;
  }

  long strays() {
    return strays.sum();
  }

  /** A signed REGISTER for peer {@code index} in phase {@code phase}, with one HOST candidate. */
  static byte[] register(int index, int phase) {
    byte[] tx = new byte[12];
    putInt(tx, 0, index);
    tx[4] = (byte) phase;
    int r = ThreadLocalRandom.current().nextInt();
    tx[5] = (byte) r;
    tx[6] = (byte) (r >>> 8);
    tx[7] = (byte) (r >>> 16);
    putInt(tx, 8, nowMicros());
    String peer = peerId(index);
    byte[] key = Rendezvous.peerKey(SECRET, APP, peer);
    StunMessage.Builder b = StunMessage.builder(StunMethods.REGISTER, StunClass.REQUEST, tx)
        .addString(StunAttributes.APP_ID, APP)
        .addString(StunAttributes.PEER_ID, peer)
        .addU64(StunAttributes.TIMESTAMP, System.currentTimeMillis());
    b.add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.HOST, hostCandidate(index)).encode(tx));
    return b.integritySha256(key).fingerprint().encode();
  }

  /** A plausible LAN address for peer {@code index}: 10.x.y.z, port 20000-59999. */
  static InetSocketAddress hostCandidate(int index) {
    try {
      return new InetSocketAddress(InetAddress.getByAddress(
          new byte[] {10, (byte) (index >>> 16), (byte) (index >>> 8), (byte) index}), 20_000 + index % 40_000);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  /**
   * Sends REGISTER for the given peer indexes. {@code rate} > 0: paced at that many per second overall (open loop);
   * 0: as fast as the window allows. {@code windowPerNode} > 0: at most that many unanswered requests per node
   * (a window stuck for 500 ms is written off as lost). Ends after the last send and a drain of
   * {@code drainMillis}, or at {@code maxMillis}.
   */
  Phase run(int phaseId, String label, int[] indexes, double rate, int windowPerNode, long drainMillis,
      long maxMillis) {
    Phase p = new Phase(phaseId, label, n);
    p.offeredRate = (long) rate;
    phases[phaseId & 0xFF] = p;
    long t0 = System.nanoTime();
    long deadline = t0 + maxMillis * 1_000_000L;
    p.firstSendNanos = t0;
    long[] stuckSince = new long[n];
    long[] lastAnswered = new long[n];
    int i = 0;
    long behindSince = 0;
    while (i < indexes.length && System.nanoTime() < deadline) {
      long now = System.nanoTime();
      if (rate > 0) {
        long due = Math.min(indexes.length, (long) ((now - t0) * rate / 1e9) + 1);
        if (i >= due) {
          behindSince = 0;
          LockSupport.parkNanos(100_000);
          continue;
        }
        // More than 100 ms of backlog: this sender, not the node, is the limit of this step.
        if (due - i > rate / 10) {
          if (behindSince == 0) {
            behindSince = now;
          } else if (now - behindSince > 300_000_000L) {
            p.senderBehind = true;
          }
        }
      }
      int idx = indexes[i];
      int node = idx % n;
      if (windowPerNode > 0) {
        long answered = p.ok.get(node) + p.err.get(node);
        long inFlight = p.sent.get(node) - answered - p.writtenOff.get(node);
        if (inFlight >= windowPerNode) {
          if (answered != lastAnswered[node]) {
            lastAnswered[node] = answered;
            stuckSince[node] = now;
          } else if (stuckSince[node] == 0) {
            stuckSince[node] = now;
          } else if (now - stuckSince[node] > 500_000_000L) {
            p.writtenOff.addAndGet(node, inFlight); // lost: their answers will not come
            stuckSince[node] = 0;
          }
          LockSupport.parkNanos(50_000);
          continue;
        }
        stuckSince[node] = 0;
      }
      DatagramChannel ch = channels[node][(idx / n) % perNode];
      byte[] datagram = register(idx, phaseId);
      if (send(ch, datagram)) {
        p.sent.incrementAndGet(node);
      }
      i++;
    }
    p.lastSendNanos = System.nanoTime();
    long drainEnd = System.nanoTime() + drainMillis * 1_000_000L;
    while (System.nanoTime() < drainEnd && p.ok() + p.errors() < p.sent()) {
      LockSupport.parkNanos(5_000_000);
    }
    return p;
  }

  /** Writes one datagram; a full send buffer is retried briefly. False when it could not be sent. */
  private static boolean send(DatagramChannel ch, byte[] datagram) {
    ByteBuffer buf = ByteBuffer.wrap(datagram);
    for (int attempt = 0; attempt < 200; attempt++) {
      try {
        if (ch.write(buf) > 0) {
          return true;
        }
      } catch (IOException e) {
        return false; // e.g. ICMP port unreachable: the node is gone
      }
      LockSupport.parkNanos(20_000);
    }
    return false;
  }

  private void receiveLoop() {
    ByteBuffer buf = ByteBuffer.allocateDirect(4096);
    while (running) {
      try {
        if (selector.select(200) == 0) {
          continue;
        }
        for (SelectionKey key : selector.selectedKeys()) {
          DatagramChannel ch = (DatagramChannel) key.channel();
          int node = (Integer) key.attachment();
          for (int reads = 0; reads < 256; reads++) {
            buf.clear();
            int len;
            try {
              len = ch.read(buf);
            } catch (IOException e) {
              break; // ICMP error reported on a connected socket: nothing to read
            }
            if (len <= 0) {
              break;
            }
            account(buf, len, node);
          }
        }
        selector.selectedKeys().clear();
      } catch (IOException | RuntimeException e) {
        if (running) {
          System.err.println("[bench] receiver: " + e);
        }
      }
    }
  }

  private void account(ByteBuffer buf, int len, int node) {
    if (len < StunMessage.HEADER_LENGTH) {
      strays.increment();
      return;
    }
    int type = ((buf.get(0) & 0xFF) << 8) | (buf.get(1) & 0xFF);
    int index = buf.getInt(8);
    Phase p = phases[buf.get(12) & 0xFF];
    if (p == null || (type != successType && type != errorType) || index < 0 || index >= MAX_PEERS) {
      strays.increment();
      return;
    }
    long now = System.nanoTime();
    if (type == successType) {
      p.ok.incrementAndGet(node);
      p.rtt[node].record((int) (now / 1000) - buf.getInt(16));
      long bit = 1L << (index & 63);
      registered.getAndUpdate(index >>> 6, w -> w | bit);
    } else {
      p.err.incrementAndGet(node);
      byte[] copy = new byte[len];
      buf.get(0, copy);
      int code = -1;
      try {
        ErrorCode e = StunMessage.decode(copy).errorCode();
        code = e == null ? -1 : e.code();
      } catch (StunParseException e) {
        // counted as -1
      }
      p.errorCodes.computeIfAbsent(code, c -> new LongAdder()).increment();
    }
    p.lastAnswerNanos = now;
  }

  @Override
  public void close() {
    running = false;
    selector.wakeup();
    try {
      receiver.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (DatagramChannel[] row : channels) {
      for (DatagramChannel ch : row) {
        try {
          ch.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
    }
    try {
      selector.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  /** Log-linear histogram of microseconds (32 sub-buckets per power of two, about 3 % resolution); thread-safe. */
  static final class Histogram {
    private static final int LINEAR = 64;
    private final AtomicLongArray counts = new AtomicLongArray(LINEAR + 32 * 32);

    void record(int micros) {
      counts.incrementAndGet(bucket(Math.max(0, micros)));
    }

    static int bucket(int v) {
      if (v < LINEAR) {
        return v;
      }
      int e = 31 - Integer.numberOfLeadingZeros(v); // >= 6
      int sub = (v >>> (e - 5)) & 31;
      return LINEAR + (e - 6) * 32 + sub;
    }

    static long lowerBound(int b) {
      if (b < LINEAR) {
        return b;
      }
      int e = (b - LINEAR) / 32 + 6;
      int sub = (b - LINEAR) % 32;
      return (32L + sub) << (e - 5);
    }

    void add(Histogram o) {
      for (int i = 0; i < counts.length(); i++) {
        counts.addAndGet(i, o.counts.get(i));
      }
    }

    long count() {
      long c = 0;
      for (int i = 0; i < counts.length(); i++) {
        c += counts.get(i);
      }
      return c;
    }

    /** The q-quantile in microseconds (bucket lower bound), -1 when empty. */
    long quantile(double q) {
      long total = count();
      if (total == 0) {
        return -1;
      }
      long rank = (long) Math.ceil(q * total);
      long seen = 0;
      for (int i = 0; i < counts.length(); i++) {
        seen += counts.get(i);
        if (seen >= rank) {
          return lowerBound(i);
        }
      }
      return lowerBound(counts.length() - 1);
    }
  }

  /** Indexes [from, from + count). */
  static int[] range(int from, int count) {
    int[] a = new int[count];
    for (int i = 0; i < count; i++) {
      a[i] = from + i;
    }
    return a;
  }

  /** The indexes in [from, to) without a REGISTER success yet. */
  int[] missing(int from, int to) {
    List<Integer> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      if (!isRegistered(i)) {
        out.add(i);
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }
}
