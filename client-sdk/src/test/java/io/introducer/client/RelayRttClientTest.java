package io.introducer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.client.relay.TestRelay;
import io.introducer.client.transport.UdpTransportFactory;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.RelayRtt;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.rendezvous.RelaySelector;
import io.introducer.rendezvous.Registration;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client measures the relays a REGISTER success lists (RELAY-ADDRESS) with STUN Binding and reports the smoothed
 * RTTs as RELAY-RTT in its next KEEPALIVE (docs/PROTOCOL.md section 8, relay choice); a relay that never answers is
 * left out. A KEEPALIVE success that lists other relays is measured again, no sooner than the minimum interval, and a
 * relay no longer listed stops being reported. Hand-driven introducer and relays on loopback, or the real introducer
 * and relays.
 */
class RelayRttClientTest {
  private static final String APP = "game";
  private static final String PEER = "rtt-peer";
  private static final byte[] PEER_KEY = Rendezvous.peerKey("secret", APP, PEER);
  private static final long SLOW_MILLIS = 60;

  private DatagramSocket introducer;
  private DatagramSocket fast;
  private DatagramSocket slow;
  private DatagramSocket silent;
  private final AtomicInteger fastBindings = new AtomicInteger();
  /** When the fast relay received each Binding request (System.nanoTime). */
  private final List<Long> fastBindingTimes = new CopyOnWriteArrayList<>();
  private final AtomicInteger slowBindings = new AtomicInteger();
  private IntroducerClient client;
  private Thread fastThread;
  private Thread slowThread;

  @BeforeEach
  void sockets() throws Exception {
    introducer = socket();
    fast = socket();
    slow = socket();
    silent = socket();
    fastThread = relay(fast, 0, fastBindings, fastBindingTimes);
    slowThread = relay(slow, SLOW_MILLIS, slowBindings, new CopyOnWriteArrayList<>());
  }

  @AfterEach
  void close() throws Exception {
    if (client != null) {
      client.close();
    }
    introducer.close();
    fast.close();
    slow.close();
    silent.close();
    fastThread.join(5_000);
    slowThread.join(5_000);
  }

  private static DatagramSocket socket() throws Exception {
    DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    s.setSoTimeout(3_000);
    return s;
  }

  private static InetSocketAddress address(DatagramSocket s) {
    return (InetSocketAddress) s.getLocalSocketAddress();
  }

  /** A relay that answers Binding requests (plain, as RFC 8656 servers must) after {@code delayMillis}. */
  private static Thread relay(DatagramSocket s, long delayMillis, AtomicInteger count, List<Long> times) {
    Thread t = new Thread(() -> {
      for (int i = 0; i < 1_000 && !s.isClosed(); i++) { // bounded
        try {
          DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
          s.receive(p);
          StunMessage m = StunMessage.decode(Arrays.copyOf(p.getData(), p.getLength()));
          if (!m.is(StunMethods.BINDING, StunClass.REQUEST)) {
            continue;
          }
          times.add(System.nanoTime());
          count.incrementAndGet();
          if (delayMillis > 0) {
            Thread.sleep(delayMillis);
          }
          byte[] answer = StunMessage.successFor(m)
              .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, (InetSocketAddress) p.getSocketAddress())
              .fingerprint().encode();
          s.send(new DatagramPacket(answer, answer.length, p.getSocketAddress()));
        } catch (SocketTimeoutException e) {
          // keep waiting until closed
        } catch (Exception e) {
          return; // closed
        }
      }
    }, "test-relay-" + address(s).getPort());
    t.setDaemon(true);
    t.start();
    return t;
  }

  private record Received(StunMessage message, InetSocketAddress source) {}

  private Received receive(int method) throws Exception {
    for (int i = 0; i < 50; i++) {
      DatagramPacket p = new DatagramPacket(new byte[4096], 4096);
      introducer.receive(p);
      StunMessage m = StunMessage.decode(Arrays.copyOf(p.getData(), p.getLength()));
      if (m.is(method, StunClass.REQUEST)) {
        return new Received(m, (InetSocketAddress) p.getSocketAddress());
      }
    }
    throw new AssertionError("no " + StunMethods.name(method));
  }

  /** Answers a KEEPALIVE with success, listing {@code relays} (RELAY-ADDRESS) when there are any. */
  private void answer(Received ka, InetSocketAddress... relays) throws Exception {
    StunMessage.Builder b = StunMessage.successFor(ka.message())
        .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, ka.source())
        .addU32(StunAttributes.REGISTRATION_LIFETIME, 60);
    for (InetSocketAddress r : relays) {
      b.addXorAddress(StunAttributes.RELAY_ADDRESS, r);
    }
    byte[] ok = b.integritySha256(PEER_KEY).fingerprint().encode();
    introducer.send(new DatagramPacket(ok, ok.length, ka.source()));
  }

  private static List<RelayRtt> rtts(StunMessage m) {
    return m.getAll(StunAttributes.RELAY_RTT).stream().map(v -> RelayRtt.decode(v, m.transactionId())).toList();
  }

  @Test
  void measuresListedRelaysAndReportsRelayRttInTheNextKeepalive() throws Exception {
    ClientConfig config = ClientConfig.builder().server("127.0.0.1", address(introducer).getPort())
        .appId(APP).appSecret("secret").peerId(PEER).bindAddress(new InetSocketAddress("127.0.0.1", 0))
        .natDiscovery(false).transportFactory(new UdpTransportFactory())
        .keepaliveInterval(Duration.ofMillis(1_500)).requestTimeout(Duration.ofSeconds(1)).build();
    CompletableFuture<IntroducerClient> started = IntroducerClient.start(config);
    Received reg = receive(StunMethods.REGISTER);
    assertThat(reg.message().has(StunAttributes.RELAY_RTT)).isFalse(); // nothing measured yet
    byte[] success = StunMessage.successFor(reg.message())
        .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, reg.source())
        .addU32(StunAttributes.REGISTRATION_LIFETIME, 60)
        .addXorAddress(StunAttributes.RELAY_ADDRESS, address(slow))
        .addXorAddress(StunAttributes.RELAY_ADDRESS, address(fast))
        .addXorAddress(StunAttributes.RELAY_ADDRESS, address(silent))
        .integritySha256(PEER_KEY).fingerprint().encode();
    introducer.send(new DatagramPacket(success, success.length, reg.source()));
    client = started.get(5, TimeUnit.SECONDS);

    // Keepalives until one reports (the round ends within ~1.2 s); bounded.
    List<RelayRtt> reported = List.of();
    for (int i = 0; i < 6 && reported.isEmpty(); i++) {
      Received ka = receive(StunMethods.KEEPALIVE);
      assertThat(ka.message().verifyIntegritySha256(PEER_KEY)).isTrue();
      reported = rtts(ka.message());
      byte[] ok = StunMessage.successFor(ka.message())
          .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, ka.source())
          .addU32(StunAttributes.REGISTRATION_LIFETIME, 60)
          .integritySha256(PEER_KEY).fingerprint().encode();
      introducer.send(new DatagramPacket(ok, ok.length, ka.source()));
    }

    // The relays that answered, in the listed order; the silent one is absent, not a huge number.
    assertThat(reported).extracting(RelayRtt::relay).containsExactly(address(slow), address(fast));
    long slowMicros = reported.get(0).rttMicros();
    long fastMicros = reported.get(1).rttMicros();
    assertThat(slowMicros).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toMicros(SLOW_MILLIS));
    assertThat(fastMicros).isPositive().isLessThan(slowMicros);
    // A few samples per relay, not a flood; re-measured no sooner than RelayProbes.REMEASURE_MILLIS.
    assertThat(fastBindings.get()).isBetween(1, RelayProbes.SAMPLES);
    assertThat(slowBindings.get()).isBetween(1, RelayProbes.SAMPLES);

    // The next keepalive reports them again (the introducer keeps the latest), and nothing was re-measured.
    Received again = receive(StunMethods.KEEPALIVE);
    assertThat(rtts(again.message())).isEqualTo(reported);
    assertThat(fastBindings.get()).isLessThanOrEqualTo(RelayProbes.SAMPLES);
  }

  @Test
  void realRelaysAnswerTheProbesAndTheRealIntroducerStoresTheRtts() throws Exception {
    try (TestRelay r1 = new TestRelay(); TestRelay r2 = new TestRelay()) {
      List<RelaySelector.Load> loads = List.of(new RelaySelector.Load(r1.address(), 1, 10),
          new RelaySelector.Load(r2.address(), 2, 10));
      RelaySelector selector = new RelaySelector() {
        @Override
        public Optional<Relay> select(String appId, Registration initiator, Registration responder) {
          return RelaySelector.choose(loads, initiator, responder, Set.of())
              .map(a -> new Relay(a, TestRelay.REST_SECRET));
        }

        @Override
        public List<InetSocketAddress> candidates(String appId) {
          return RelaySelector.leastLoaded(loads);
        }
      };
      TestIntroducer server = new TestIntroducer(selector, c -> c);
      try {
        client = IntroducerClient.start(server.client("measuring", new UdpTransportFactory())
            .bindAddress(new InetSocketAddress("127.0.0.1", 0)).natDiscovery(false)
            .keepaliveInterval(Duration.ofMillis(1_000)).build()).get(10, TimeUnit.SECONDS);

        assertThat(TestRelay.eventually(10_000, () -> server.verticle().registry()
            .get(TestIntroducer.APP, "measuring").map(r -> r.relayRtts().size() == 2).orElse(false))).isTrue();
        List<RelayRtt> stored = server.verticle().registry().get(TestIntroducer.APP, "measuring").orElseThrow()
            .relayRtts();
        assertThat(stored).extracting(RelayRtt::relay).containsExactly(r1.address(), r2.address());
        assertThat(stored).allSatisfy(r -> assertThat(r.rttMicros()).isBetween(1L, 1_000_000L));
      } finally {
        client.close();
        client = null;
        server.stop();
      }
    }
  }

  @Test
  void aKeepaliveListingOtherRelaysIsMeasuredAgainNoSoonerThanTheMinimumInterval() throws Exception {
    long minIntervalMillis = 2_500;
    ClientConfig config = ClientConfig.builder().server("127.0.0.1", address(introducer).getPort())
        .appId(APP).appSecret("secret").peerId(PEER).bindAddress(new InetSocketAddress("127.0.0.1", 0))
        .natDiscovery(false).transportFactory(new UdpTransportFactory())
        .keepaliveInterval(Duration.ofMillis(300)).requestTimeout(Duration.ofSeconds(1))
        .relayMeasureMinInterval(Duration.ofMillis(minIntervalMillis)).build();
    CompletableFuture<IntroducerClient> started = IntroducerClient.start(config);
    Received reg = receive(StunMethods.REGISTER);
    byte[] success = StunMessage.successFor(reg.message())
        .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, reg.source())
        .addU32(StunAttributes.REGISTRATION_LIFETIME, 60)
        .addXorAddress(StunAttributes.RELAY_ADDRESS, address(slow))
        .addXorAddress(StunAttributes.RELAY_ADDRESS, address(fast))
        .integritySha256(PEER_KEY).fingerprint().encode();
    introducer.send(new DatagramPacket(success, success.length, reg.source()));
    client = started.get(5, TimeUnit.SECONDS);

    // The first round: both reported (bounded wait, the round ends within ~1.2 s).
    List<RelayRtt> reported = List.of();
    for (int i = 0; i < 20 && reported.size() < 2; i++) {
      Received ka = receive(StunMethods.KEEPALIVE);
      reported = rtts(ka.message());
      answer(ka);
    }
    assertThat(reported).extracting(RelayRtt::relay).containsExactly(address(slow), address(fast));

    // The introducer now lists the fast relay only (the slow one left the cluster): it is not reported any more,
    // from the very next keepalive on, and the fast one is measured again once the minimum interval has passed.
    Received changed = receive(StunMethods.KEEPALIVE);
    answer(changed, address(fast));
    Received next = receive(StunMethods.KEEPALIVE);
    assertThat(rtts(next.message())).extracting(RelayRtt::relay).containsExactly(address(fast));
    answer(next, address(fast));
    for (int i = 0; i < 40 && fastBindings.get() <= RelayProbes.SAMPLES; i++) {
      answer(receive(StunMethods.KEEPALIVE), address(fast)); // the same list again changes nothing
    }
    assertThat(fastBindings.get()).isGreaterThan(RelayProbes.SAMPLES);
    long gapMillis = TimeUnit.NANOSECONDS.toMillis(fastBindingTimes.get(RelayProbes.SAMPLES) - fastBindingTimes.get(0));
    assertThat(gapMillis).as("second round after the first").isGreaterThanOrEqualTo(minIntervalMillis - 50);
    assertThat(slowBindings.get()).as("the relay no longer listed is not probed").isBetween(1, RelayProbes.SAMPLES);

    // One more round, not a stream of them: the list has not changed since (keepalives answered for 2 s more).
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    Received last = null;
    for (int i = 0; i < 40 && System.nanoTime() < until; i++) {
      last = receive(StunMethods.KEEPALIVE);
      answer(last, address(fast));
    }
    assertThat(fastBindings.get()).isLessThanOrEqualTo(2 * RelayProbes.SAMPLES);
    assertThat(rtts(last.message())).extracting(RelayRtt::relay).containsExactly(address(fast));
  }

  @Test
  void aRelayThatJoinsAfterRegisterIsMeasuredAndOneThatLeavesIsDropped() throws Exception {
    try (TestRelay r1 = new TestRelay(); TestRelay r2 = new TestRelay(); TestRelay r3 = new TestRelay()) {
      // The cluster's relays by load, as ClusterState keeps them; r3 is not there yet.
      List<RelaySelector.Load> loads = new CopyOnWriteArrayList<>(List.of(new RelaySelector.Load(r1.address(), 1, 10),
          new RelaySelector.Load(r2.address(), 2, 10)));
      RelaySelector selector = new RelaySelector() {
        @Override
        public Optional<Relay> select(String appId, Registration initiator, Registration responder) {
          return RelaySelector.choose(loads, initiator, responder, Set.of())
              .map(a -> new Relay(a, TestRelay.REST_SECRET));
        }

        @Override
        public List<InetSocketAddress> candidates(String appId) {
          return RelaySelector.leastLoaded(loads);
        }
      };
      TestIntroducer server = new TestIntroducer(selector, c -> c);
      try {
        client = IntroducerClient.start(server.client("long-lived", new UdpTransportFactory())
            .bindAddress(new InetSocketAddress("127.0.0.1", 0)).natDiscovery(false)
            .keepaliveInterval(Duration.ofMillis(500)).relayMeasureMinInterval(Duration.ofSeconds(1)).build())
            .get(10, TimeUnit.SECONDS);
        assertThat(TestRelay.eventually(10_000, () -> storedRelays(server).equals(Set.of(r1.address(),
            r2.address())))).as("measured at register: %s", storedRelays(server)).isTrue();

        // A relay joins: the next keepalive success lists it, the peer measures it and reports it.
        loads.add(new RelaySelector.Load(r3.address(), 0, 10));
        assertThat(TestRelay.eventually(10_000, () -> storedRelays(server).equals(Set.of(r1.address(),
            r2.address(), r3.address())))).as("joined relay measured: %s", storedRelays(server)).isTrue();
        assertThat(server.verticle().registry().get(TestIntroducer.APP, "long-lived").orElseThrow().relayRtts())
            .allSatisfy(r -> assertThat(r.rttMicros()).isBetween(1L, 1_000_000L));

        // A relay leaves: the peer stops reporting it.
        loads.removeIf(l -> l.address().equals(r1.address()));
        assertThat(TestRelay.eventually(10_000, () -> storedRelays(server).equals(Set.of(r2.address(),
            r3.address())))).as("left relay dropped: %s", storedRelays(server)).isTrue();
      } finally {
        client.close();
        client = null;
        server.stop();
      }
    }
  }

  private static Set<InetSocketAddress> storedRelays(TestIntroducer server) {
    Set<InetSocketAddress> out = new HashSet<>();
    server.verticle().registry().get(TestIntroducer.APP, "long-lived")
        .ifPresent(r -> r.relayRtts().forEach(rtt -> out.add(rtt.relay())));
    return out;
  }
}
