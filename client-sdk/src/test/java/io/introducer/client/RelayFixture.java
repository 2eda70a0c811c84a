package io.introducer.client;

import static io.introducer.client.Peers.id;
import static io.introducer.client.Peers.incoming;
import static io.introducer.client.Peers.take;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.client.relay.TestRelay;
import io.introducer.client.testing.NatBehavior;
import io.introducer.client.testing.NatSimulator;
import io.introducer.client.testing.SimulatedNat;
import io.introducer.rendezvous.Registration;
import io.introducer.rendezvous.RelaySelector;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Relayed sessions for the relay failover and renewal tests: {@link TestRelay}s handed out in order by a
 * {@link TestIntroducer}, and peers behind simulated NATs with tight failover settings (probes through the relay every
 * 250 ms, the relay lost after 1 s of silence). Closed after each test.
 */
final class RelayFixture implements AutoCloseable {
  static final long WAIT_MILLIS = 10_000;

  final NatSimulator sim;
  final List<TestRelay> relays = new ArrayList<>();
  TestIntroducer introducer;
  private Peers peers;

  RelayFixture(long seed) {
    sim = new NatSimulator(seed);
  }

  /** The relays in order: sessions get the first live one; a replacement is the first one the peer did not name. */
  static RelaySelector inOrder(List<TestRelay> relays) {
    return new RelaySelector() {
      @Override
      public Optional<Relay> select(String appId, Registration initiator, Registration responder) {
        return replacement(appId, initiator, responder, Set.of());
      }

      @Override
      public Optional<Relay> replacement(String appId, Registration initiator, Registration responder,
          Set<InetSocketAddress> excluded) {
        return relays.stream().map(TestRelay::address).filter(a -> !excluded.contains(a)).findFirst()
            .map(a -> new Relay(a, TestRelay.REST_SECRET));
      }
    };
  }

  /**
   * Starts {@code relayCount} relays made by {@code newRelay}, then the introducer handing them out in order, with a
   * 2 s punch window and its config further adjusted by {@code tweak} (called once the relays are up).
   */
  void start(int relayCount, Callable<TestRelay> newRelay, UnaryOperator<JsonObject> tweak) throws Exception {
    for (int i = 0; i < relayCount; i++) {
      relays.add(newRelay.call());
    }
    introducer = new TestIntroducer(inOrder(List.copyOf(relays)), c -> tweak.apply(c.put("punchWindowMillis", 2_000)));
    peers = new Peers(introducer);
  }

  /** A peer behind {@code nat}, without NAT discovery, with the tight failover settings. */
  IntroducerClient peer(String peerId, SimulatedNat nat) throws Exception {
    return peers.start(peerId, nat.addHost(), b -> b.natDiscovery(false)
        .relayProbeInterval(Duration.ofMillis(250)).relayProbeTimeout(Duration.ofSeconds(1)));
  }

  /** Two peers and the channel between them, opened by {@code a}; {@code toB}: further channels to {@code b}. */
  record Connected(IntroducerClient a, IntroducerClient b, PeerChannel ab, PeerChannel ba,
      BlockingQueue<PeerChannel> toB) {}

  /** Peers a and b behind symmetric NATs (no direct path) connected RELAY_FIRST: relayed both ends. */
  Connected connect() throws Exception {
    return connect(a -> { });
  }

  /** As {@link #connect()}, {@code beforeConnect} adjusting peer a before it connects. */
  Connected connect(Consumer<IntroducerClient> beforeConnect) throws Exception {
    SimulatedNat natA = sim.addNat(NatBehavior.symmetricRandom());
    SimulatedNat natB = sim.addNat(NatBehavior.symmetricRandom());
    String bId = id("b");
    IntroducerClient a = peer(id("a"), natA);
    IntroducerClient b = peer(bId, natB);
    beforeConnect.accept(a);
    BlockingQueue<PeerChannel> toB = incoming(b);
    PeerChannel ab = a.connect(bId, ConnectOptions.policy(ConnectPolicy.RELAY_FIRST))
        .get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
    PeerChannel ba = take(toB);
    assertThat(ab.path()).isEqualTo(Path.RELAY);
    assertThat(ba.path()).isEqualTo(Path.RELAY);
    return new Connected(a, b, ab, ba, toB);
  }

  @Override
  public void close() throws Exception {
    if (peers != null) {
      peers.close();
    }
    sim.close();
    if (introducer != null) {
      introducer.stop();
    }
    for (TestRelay r : relays) {
      try {
        r.close();
      } catch (Exception e) {
        // closed by the test already
      }
    }
  }

  /** Numbered messages every 20 ms (at most 100 s of them) from one channel to the other, and when each arrived. */
  static final class Stream implements AutoCloseable {
    final AtomicInteger sent = new AtomicInteger();
    private final List<long[]> received = new CopyOnWriteArrayList<>(); // {sequence, nanoTime}, in arrival order
    private final Thread sender;
    private volatile boolean stop;

    Stream(PeerChannel from, PeerChannel to) {
      to.onMessage(b -> received.add(new long[] {ByteBuffer.wrap(b).getInt(), System.nanoTime()}));
      sender = new Thread(() -> {
        for (int i = 0; i < 5_000 && !stop; i++) {
          if (from.isOpen()) {
            from.send(ByteBuffer.allocate(4).putInt(sent.incrementAndGet()).array());
          }
          try {
            Thread.sleep(20);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "relay-test-stream");
      sender.setDaemon(true);
      sender.start();
    }

    /** How many messages arrived. */
    int receivedCount() {
      return received.size();
    }

    /** Whether message {@code sequence} arrived. */
    boolean arrived(int sequence) {
      return received.stream().anyMatch(r -> r[0] == sequence);
    }

    /** Sequence numbers sent from now on; arrival time of the first of them, or -1. */
    long firstArrivalOfOneSentAfter(int sequence) {
      return received.stream().filter(r -> r[0] > sequence).mapToLong(r -> r[1]).min().orElse(-1);
    }

    /** Messages 1..upTo that never arrived. */
    int lostUpTo(int upTo) {
      BitSet arrived = new BitSet();
      received.forEach(r -> arrived.set((int) r[0]));
      int lost = 0;
      for (int i = 1; i <= upTo; i++) {
        if (!arrived.get(i)) {
          lost++;
        }
      }
      return lost;
    }

    /** The longest silence between two arrivals, in ms. */
    long longestGapMillis() {
      List<long[]> a = new ArrayList<>(received);
      long gap = 0;
      for (int i = 1; i < a.size(); i++) {
        gap = Math.max(gap, a.get(i)[1] - a.get(i - 1)[1]);
      }
      return TimeUnit.NANOSECONDS.toMillis(gap);
    }

    @Override
    public void close() throws InterruptedException {
      stop = true;
      sender.join(2_000);
    }
  }
}
