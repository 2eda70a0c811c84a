package io.introducer.rendezvous;

import static io.introducer.rendezvous.Fixtures.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code threads} = 2: the primary socket is bound twice with SO_REUSEPORT on two event loops (native epoll). Sources
 * on many ports spread over both (the kernel hashes the 4-tuple); Bindings are answered on both loops, everything else
 * still reaches the verticle's context, and the per-source limits and the amplification bound hold for a host whose
 * ports are read by different loops. Skipped where Vert.x has no native transport (the introducer then uses one socket).
 */
class MultiLoopTest {
  private static final int SOCKETS = 24;
  private Vertx vertx;
  private final List<DatagramSocket> sockets = new ArrayList<>();

  @BeforeEach
  void start() {
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(4));
    assumeTrue(vertx.isNativeTransportEnabled(), "no native epoll transport: one socket, covered by the other tests");
  }

  @AfterEach
  void stop() throws Exception {
    sockets.forEach(DatagramSocket::close);
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private IntroducerVerticle deploy(JsonObject limits) throws Exception {
    JsonObject config = Fixtures.config().put("threads", 2);
    if (limits != null) {
      config.put("limits", limits.put("exemptLoopback", false));
    }
    return Fixtures.deploy(vertx, config);
  }

  private List<DatagramSocket> socketsAt(String ip, int n) throws Exception {
    List<DatagramSocket> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      DatagramSocket s = new DatagramSocket(new InetSocketAddress(ip, 0));
      s.setSoTimeout(100); // answers are sent as soon as their request is read: a pause means no more
      sockets.add(s);
      out.add(s);
    }
    return out;
  }

  private static void send(DatagramSocket s, byte[] d, int port) throws Exception {
    s.send(new DatagramPacket(d, d.length, InetAddress.getLoopbackAddress(), port));
  }

  /** Answers until none comes for the socket's timeout, at most {@code max}. */
  private static List<byte[]> drain(DatagramSocket s, int max) throws Exception {
    List<byte[]> out = new ArrayList<>();
    byte[] buf = new byte[2048];
    while (out.size() < max) {
      DatagramPacket p = new DatagramPacket(buf, buf.length);
      try {
        s.receive(p);
      } catch (SocketTimeoutException e) {
        break;
      }
      out.add(java.util.Arrays.copyOf(p.getData(), p.getLength()));
    }
    return out;
  }

  private static byte[] binding(boolean fingerprint) {
    StunMessage.Builder b = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST);
    return fingerprint ? b.fingerprint().encode() : b.encode();
  }

  private static void assertBothLoopsRead(IntroducerVerticle introducer, long total) throws Exception {
    long[] lanes = introducer.receivedPerLane().await(5, TimeUnit.SECONDS);
    assertThat(lanes).as("datagrams read per event loop").hasSize(2);
    assertThat(lanes[0]).as("loop 0").isPositive();
    assertThat(lanes[1]).as("loop 1").isPositive();
    assertThat(lanes[0] + lanes[1]).isEqualTo(total);
  }

  @Test
  void bindingsAreAnsweredOnBothLoopsAndTheGeneralPathStillRuns() throws Exception {
    IntroducerVerticle introducer = deploy(null);
    int port = introducer.actualPort();
    int perSocket = 0;
    for (DatagramSocket s : socketsAt("127.0.0.1", SOCKETS)) {
      List<byte[]> sent = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        sent.add(binding(i % 2 == 0)); // the fast path, with and without FINGERPRINT
      }
      // The general path (an attribute the fast path does not take): decoded on the verticle's context.
      sent.add(StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).addString(StunAttributes.SOFTWARE, "t")
          .fingerprint().encode());
      perSocket = sent.size();
      for (byte[] d : sent) {
        send(s, d, port);
      }
      List<byte[]> answers = drain(s, sent.size());
      assertThat(answers).as("answers to %s", s.getLocalSocketAddress()).hasSize(sent.size());
      for (byte[] a : answers) {
        StunMessage m = StunMessage.decode(a);
        assertThat(m.is(StunMethods.BINDING, StunClass.SUCCESS_RESPONSE)).isTrue();
        assertThat(m.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(s.getLocalSocketAddress());
      }
    }
    long total = (long) SOCKETS * perSocket;
    eventually("all counted", () -> introducer.counters().bindings() == total);
    assertThat(introducer.counters().packetsIn()).isEqualTo(total);
    assertBothLoopsRead(introducer, total);
  }

  @Test
  void aHostOnManyPortsGetsOneBurstWhicheverLoopReadsThem() throws Exception {
    int burst = 40;
    IntroducerVerticle introducer = deploy(new JsonObject().put("perSourcePerSecond", 1).put("perSourceBurst", burst)
        .put("amplificationFactor", 0));
    int port = introducer.actualPort();
    List<DatagramSocket> flood = socketsAt("127.0.0.2", SOCKETS);
    long start = System.nanoTime();
    for (int round = 0; round < 5; round++) {
      for (DatagramSocket s : flood) {
        send(s, binding(false), port);
      }
    }
    int sent = 5 * SOCKETS;
    eventually("all read", () -> introducer.counters().packetsIn() == sent);
    int answered = 0;
    for (DatagramSocket s : flood) {
      answered += drain(s, 5).size();
    }
    assertThat(answered).isGreaterThanOrEqualTo(burst).isLessThanOrEqualTo(burst + LimitsTest.refilled(start, 1));
    assertThat(introducer.counters().drops("rate-source")).isEqualTo(sent - answered);
    assertBothLoopsRead(introducer, sent);
  }

  @Test
  void aHostOnManyPortsGetsAtMostThreeTimesItsBytesPlusTheAllowance() throws Exception {
    IntroducerVerticle introducer = deploy(new JsonObject().put("perSourcePerSecond", 0).put("amplificationFactor", 3));
    int port = introducer.actualPort();
    List<DatagramSocket> flood = socketsAt("127.0.0.3", SOCKETS);
    long in = 0;
    int rounds = 10;
    for (int round = 0; round < rounds; round++) {
      for (DatagramSocket s : flood) {
        byte[] d = binding(false);
        send(s, d, port);
        in += d.length;
      }
    }
    int sent = rounds * SOCKETS;
    eventually("all read", () -> introducer.counters().packetsIn() == sent);
    long out = 0;
    for (DatagramSocket s : flood) {
      for (byte[] a : drain(s, rounds)) {
        out += a.length;
      }
    }
    assertThat(out).isLessThanOrEqualTo(3 * in + RateLimits.ALLOWANCE_BYTES).isGreaterThan(3 * in - 200);
    assertThat(introducer.counters().drops("amplification")).isPositive();
    assertBothLoopsRead(introducer, sent);
  }

  @Test
  void theLimiterCountsExactlyUnderConcurrentLoops() throws Exception {
    IntroducerCounters counters = new IntroducerCounters();
    AtomicLong now = new AtomicLong(1_000_000_000L);
    // A frozen clock: no refill, so exactly the burst gets through however the threads interleave.
    RateLimits limits = new RateLimits(new IntroducerConfig.Limits(10, 1000, 100, 0, 1, 0, 1, 0, false), counters,
        now::get);
    InetSocketAddress host = new InetSocketAddress("198.51.100.1", 1);
    AtomicInteger admitted = new AtomicInteger();
    AtomicInteger newSources = new AtomicInteger();
    int threads = 4;
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> all = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int base = t;
      Thread th = new Thread(() -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        for (int i = 0; i < 5_000; i++) {
          if (limits.admit(new InetSocketAddress(host.getAddress(), 1 + i % 1000), 20)) {
            admitted.incrementAndGet();
          }
          // Distinct hosts, more than the table holds: exactly 99 more fit beside the first.
          int n = base * 5_000 + i;
          InetSocketAddress other = new InetSocketAddress("10." + (n >> 16 & 0xFF) + "." + (n >> 8 & 0xFF) + "."
              + (n & 0xFF), 7);
          if (limits.admit(other, 20)) {
            newSources.incrementAndGet();
          }
        }
      });
      th.start();
      all.add(th);
    }
    go.countDown();
    for (Thread th : all) {
      th.join(30_000);
    }
    assertThat(admitted.get()).isEqualTo(1000);
    assertThat(counters.drops("rate-source")).isEqualTo(threads * 5_000L - 1000);
    assertThat(limits.sources()).isEqualTo(100);
    assertThat(newSources.get()).as("each new host admitted once, until the table is full").isEqualTo(99);
  }
}
