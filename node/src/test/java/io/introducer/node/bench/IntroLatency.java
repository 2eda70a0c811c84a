package io.introducer.node.bench;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Introduction latency: peer A (registered on one node) sends CONNECT for B (registered on the same or another
 * node) and the clock runs until B's socket receives the INTRODUCE, which the node that owns B sends (forwarded
 * over the event bus when that is not A's node). B answers every INTRODUCE at once so nothing is retransmitted.
 * Samples are taken one at a time (closed loop), cross-node and same-node interleaved so that both see the same
 * background noise.
 */
final class IntroLatency implements AutoCloseable {
  static final int TIMEOUT_MILLIS = 3_000;

  /** A raw-UDP peer on its own socket, signing with its peer key; a thread answers INTRODUCE when it is a target. */
  static final class Peer implements AutoCloseable {
    final String id;
    final byte[] key;
    final InetSocketAddress server;
    final DatagramSocket socket;
    final BlockingQueue<Arrival> introduced = new LinkedBlockingQueue<>();
    final LongAdder introduceCopies = new LongAdder();
    final LongAdder wrongSource = new LongAdder();
    private Thread answering;
    private volatile boolean open = true;

    Peer(String id, InetSocketAddress server) {
      this.id = id;
      this.key = Rendezvous.peerKey(RegisterLoad.SECRET, RegisterLoad.APP, id);
      this.server = server;
      try {
        socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        socket.setSoTimeout(TIMEOUT_MILLIS);
      } catch (SocketException e) {
        throw new UncheckedIOException(e);
      }
    }

    StunMessage.Builder request(int method) {
      return StunMessage.builder(method, StunClass.REQUEST)
          .addString(StunAttributes.APP_ID, RegisterLoad.APP)
          .addString(StunAttributes.PEER_ID, id)
          .addU64(StunAttributes.TIMESTAMP, System.currentTimeMillis());
    }

    void send(byte[] datagram, InetSocketAddress to) throws IOException {
      socket.send(new DatagramPacket(datagram, datagram.length, to));
    }

    /** The answer to {@code tx} within the timeout (other datagrams are skipped), or null. */
    StunMessage await(byte[] tx) throws IOException {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MILLIS);
      byte[] buf = new byte[2048];
      while (System.nanoTime() < deadline) {
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
          socket.receive(p);
        } catch (SocketTimeoutException e) {
          return null;
        }
        try {
          StunMessage m = StunMessage.decode(Arrays.copyOf(buf, p.getLength()));
          if (Arrays.equals(m.transactionId(), tx)) {
            return m;
          }
        } catch (StunParseException e) {
          // not ours
        }
      }
      return null;
    }

    /** REGISTER (with one HOST candidate); throws when not answered with success. */
    void register() throws IOException {
      for (int attempt = 0; attempt < 3; attempt++) {
        StunMessage.Builder b = request(StunMethods.REGISTER);
        b.add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.HOST,
            (InetSocketAddress) socket.getLocalSocketAddress()).encode(b.transactionId()));
        send(b.integritySha256(key).fingerprint().encode(), server);
        StunMessage m = await(b.transactionId());
        if (m != null && m.messageClass() == StunClass.SUCCESS_RESPONSE) {
          return;
        }
      }
      throw new IOException(id + " could not register with " + server);
    }

    /**
     * From now on a thread reads this socket: each INTRODUCE is answered (signed success with its SESSION-ID), and
     * the first copy of each transaction is queued with its arrival time. Only for target peers.
     */
    void answerIntroductions(InetSocketAddress expectedSource) {
      answering = new Thread(() -> {
        byte[] buf = new byte[2048];
        List<String> seen = new ArrayList<>();
        while (open) {
          DatagramPacket p = new DatagramPacket(buf, buf.length);
          try {
            socket.receive(p);
          } catch (SocketTimeoutException e) {
            continue;
          } catch (IOException e) {
            return; // closed
          }
          long at = System.nanoTime();
          StunMessage m;
          try {
            m = StunMessage.decode(Arrays.copyOf(buf, p.getLength()));
          } catch (StunParseException e) {
            continue;
          }
          if (!m.is(StunMethods.INTRODUCE, StunClass.REQUEST)) {
            continue;
          }
          byte[] session = m.get(StunAttributes.SESSION_ID);
          if (session == null) {
            continue;
          }
          try {
            send(StunMessage.successFor(m).add(StunAttributes.SESSION_ID, session)
                .integritySha256(key).fingerprint().encode(), (InetSocketAddress) p.getSocketAddress());
          } catch (IOException e) {
            return;
          }
          String tx = HexFormat.of().formatHex(m.transactionId());
          if (seen.contains(tx)) {
            introduceCopies.increment(); // a retransmission: our answer was late or lost
            continue;
          }
          seen.add(tx);
          if (seen.size() > 64) {
            seen.remove(0);
          }
          if (!p.getSocketAddress().equals(expectedSource)) {
            wrongSource.increment();
          }
          introduced.add(new Arrival(at, HexFormat.of().formatHex(session)));
        }
      }, "bench-introduce-" + id);
      answering.setDaemon(true);
      answering.start();
    }

    @Override
    public void close() {
      open = false;
      socket.close();
      if (answering != null) {
        try {
          answering.join(TIMEOUT_MILLIS + 1000L);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /** An INTRODUCE's first copy: when it arrived and for which session. */
  record Arrival(long nanos, String session) {}

  /** A pair: the initiator and the target, and on which nodes they registered. */
  record Pair(Peer a, Peer b, boolean crossNode) {}

  /** Latencies of one kind, in microseconds. */
  static final class Samples {
    final List<Long> introduce = new ArrayList<>();
    final List<Long> connect = new ArrayList<>();
    int lost;

    long quantile(List<Long> values, double q) {
      if (values.isEmpty()) {
        return -1;
      }
      long[] a = values.stream().mapToLong(Long::longValue).sorted().toArray();
      return a[Math.min(a.length - 1, (int) Math.ceil(q * a.length) - 1)];
    }
  }

  private final List<Pair> pairs = new ArrayList<>();
  final Samples cross = new Samples();
  final Samples same = new Samples();

  /**
   * {@code pairsPerKind} same-node pairs on node 1 and, with two nodes or more, as many cross-node pairs (A on node
   * 1, B on node 2), registered and ready.
   */
  IntroLatency(List<BenchNode> nodes, int pairsPerKind, String idPrefix) throws IOException {
    BenchNode first = nodes.get(0);
    for (int k = 0; k < pairsPerKind; k++) {
      pairs.add(pair(idPrefix + "-same-" + k, first, first, false));
      if (nodes.size() > 1) {
        pairs.add(pair(idPrefix + "-cross-" + k, first, nodes.get(1), true));
      }
    }
  }

  private static Pair pair(String name, BenchNode aNode, BenchNode bNode, boolean cross) throws IOException {
    Peer a = new Peer(name + "-a", aNode.udp());
    Peer b = new Peer(name + "-b", bNode.udp());
    a.register();
    b.register();
    b.answerIntroductions(bNode.udp());
    return new Pair(a, b, cross);
  }

  /** {@code warmup} unrecorded introductions, then {@code samplesPerKind} of each kind, interleaved. */
  void run(int warmup, int samplesPerKind) throws IOException, InterruptedException {
    int kinds = pairs.stream().anyMatch(Pair::crossNode) ? 2 : 1;
    int total = warmup + samplesPerKind * kinds;
    for (int s = 0; s < total; s++) {
      Pair p = pairs.get(s % pairs.size());
      sample(p, s < warmup ? null : (p.crossNode() ? cross : same));
    }
  }

  private void sample(Pair p, Samples into) throws IOException, InterruptedException {
    p.b().introduced.clear();
    StunMessage.Builder connect = p.a().request(StunMethods.CONNECT)
        .addString(StunAttributes.TARGET_PEER_ID, p.b().id);
    byte[] tx = connect.transactionId();
    byte[] datagram = connect.integritySha256(p.a().key).fingerprint().encode();
    long t0 = System.nanoTime();
    p.a().send(datagram, p.a().server);
    StunMessage answer = p.a().await(tx);
    long tConnect = System.nanoTime();
    if (answer == null || answer.messageClass() != StunClass.SUCCESS_RESPONSE) {
      if (into != null) {
        into.lost++;
      }
      if (answer != null) {
        System.err.println("[bench] CONNECT " + p.a().id + " -> " + p.b().id + " answered " + answer.errorCode());
      }
      return;
    }
    String session = HexFormat.of().formatHex(answer.get(StunAttributes.SESSION_ID));
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MILLIS);
    while (System.nanoTime() < deadline) {
      Arrival at = p.b().introduced.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (at == null) {
        break;
      }
      if (at.session().equals(session)) {
        if (into != null) {
          into.introduce.add((at.nanos() - t0) / 1000);
          into.connect.add((tConnect - t0) / 1000);
        }
        return;
      }
    }
    if (into != null) {
      into.lost++;
    }
  }

  long retransmittedIntroductions() {
    return pairs.stream().mapToLong(p -> p.b().introduceCopies.sum()).sum();
  }

  long introductionsFromWrongNode() {
    return pairs.stream().mapToLong(p -> p.b().wrongSource.sum()).sum();
  }

  @Override
  public void close() {
    for (Pair p : pairs) {
      p.a().close();
      p.b().close();
    }
  }
}
