package io.introducer.client;

import static io.introducer.client.Peers.id;
import static io.introducer.client.Peers.incoming;
import static io.introducer.client.Peers.messages;
import static io.introducer.client.Peers.next;
import static io.introducer.client.Peers.take;
import static io.introducer.client.relay.TestRelay.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.introducer.client.relay.TestRelay;
import io.introducer.client.testing.NatBehavior;
import io.introducer.client.testing.NatSimulator;
import io.introducer.client.testing.SimulatedNat;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Strategy;
import io.introducer.relay.AllocationInfo;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Relaying end to end (PROTOCOL.md section 8): SDK peers behind simulated NATs, a real introducer that hands
 * out TURN credentials, and a real relay verticle.
 */
class RelayConnectionTest {
  private static final long WAIT_MILLIS = 10_000;
  private static TestRelay relay;
  /** Punch window 1 s: AUTO falls back to the relay quickly. */
  private static TestIntroducer quick;
  /** Punch window 10 s: RELAY_FIRST keeps punching long after the relayed path opened. */
  private static TestIntroducer patient;

  private final NatSimulator sim = new NatSimulator(23);
  private Peers peers;

  @BeforeAll
  static void start() throws Exception {
    relay = new TestRelay();
    JsonObject relayConfig = new JsonObject()
        .put("address", "127.0.0.1:" + relay.address().getPort())
        .put("restSecret", TestRelay.REST_SECRET)
        .put("credentialTtlSeconds", 600);
    quick = new TestIntroducer(c -> c.put("punchWindowMillis", 1_000).put("relay", relayConfig));
    patient = new TestIntroducer(c -> c.put("punchWindowMillis", 10_000).put("relay", relayConfig));
  }

  @AfterAll
  static void stop() throws Exception {
    quick.stop();
    patient.stop();
    relay.close();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (peers != null) {
      peers.close();
    }
    sim.close();
    // Closed clients leave nothing behind on the relay (close() waits for the deletions).
    assertThat(relay.counters().allocationsActive()).as("allocations left on the relay").isZero();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Clients without NAT discovery: the introducer's strategy stays simultaneous, so AUTO relays on timeout. */
  private IntroducerClient start(TestIntroducer introducer, String peerId, SimulatedNat nat,
      java.util.function.UnaryOperator<ClientConfig.Builder> tweak) throws Exception {
    if (peers == null) {
      peers = new Peers(introducer);
    }
    return peers.start(peerId, nat.addHost(), b -> tweak.apply(b.natDiscovery(false)));
  }

  private static CompletableFuture<Path> pathChange(PeerChannel ch) {
    CompletableFuture<Path> f = new CompletableFuture<>();
    ch.onPathChange(f::complete);
    return f;
  }

  private static PeerChannel connect(IntroducerClient from, String to, ConnectPolicy policy) throws Exception {
    return from.connect(to, ConnectOptions.policy(policy)).get(WAIT_MILLIS, TimeUnit.MILLISECONDS);
  }

  private static AllocationInfo onlyAllocation() throws Exception {
    List<AllocationInfo> all = relay.allocations();
    assertThat(all).hasSize(1);
    return all.get(0);
  }

  @Test
  void twoSymmetricNatsConnectThroughTheRelayWhenPunchingFails() throws Exception {
    SimulatedNat natA = sim.addNat(NatBehavior.symmetricRandom());
    SimulatedNat natB = sim.addNat(NatBehavior.symmetricRandom());
    String aId = id("a");
    String bId = id("b");
    IntroducerClient a = start(quick, aId, natA, b -> b);
    IntroducerClient b = start(quick, bId, natB, b2 -> b2);
    BlockingQueue<PeerChannel> toB = incoming(b);
    long relayedBefore = relay.counters().packetsToClient();

    PeerChannel ab = a.connect(bId).get(WAIT_MILLIS, TimeUnit.MILLISECONDS); // AUTO, the default
    PeerChannel ba = take(toB);

    assertThat(ab.path()).isEqualTo(Path.RELAY);
    assertThat(ba.path()).isEqualTo(Path.RELAY);
    // The initiator allocated: B reaches A at A's relayed address, A reaches B through its allocation.
    AllocationInfo allocation = onlyAllocation();
    assertThat(allocation.username()).endsWith(":" + aId);
    assertThat(ba.remoteAddress().getAddress().getHostAddress() + ":" + ba.remoteAddress().getPort())
        .isEqualTo(allocation.relayed());
    assertThat(ab.remoteAddress().getAddress()).isEqualTo(natB.publicAddress());
    assertThat(ab.sessionId()).isEqualTo(ba.sessionId());

    BlockingQueue<String> atA = messages(ab);
    BlockingQueue<String> atB = messages(ba);
    ab.send(utf8("through the relay"));
    assertThat(next(atB)).isEqualTo("through the relay");
    ba.send(utf8("and back"));
    assertThat(next(atA)).isEqualTo("and back");
    assertThat(relay.counters().packetsToClient()).isGreaterThan(relayedBefore);
    assertThat(eventually(WAIT_MILLIS, () -> relay.counters().channelsBound() > 0)).isTrue();

    // The largest datagram a relay can carry, both ways; one byte more is refused on a relayed path.
    BlockingQueue<byte[]> bigAtB = new LinkedBlockingQueue<>();
    ba.onMessage(bigAtB::add);
    BlockingQueue<byte[]> bigAtA = new LinkedBlockingQueue<>();
    ab.onMessage(bigAtA::add);
    ab.send(new byte[65502]);
    assertThat(bigAtB.poll(WAIT_MILLIS, TimeUnit.MILLISECONDS)).hasSize(65502);
    ba.send(new byte[65502]);
    assertThat(bigAtA.poll(WAIT_MILLIS, TimeUnit.MILLISECONDS)).hasSize(65502);
    assertThatThrownBy(() -> ab.send(new byte[65503])).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("relay");
    assertThatThrownBy(() -> ba.send(new byte[65503])).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void relayFirstIsUsableAtOnceThenMovesTheSameChannelToTheDirectPath() throws Exception {
    // The NATs drop everything between the two peers until the test opens the way; the introducer and the
    // relay (both on 127.0.0.1) always get through.
    AtomicBoolean blockDirect = new AtomicBoolean(true);
    InetAddress servers = InetAddress.getByName("127.0.0.1");
    NatBehavior blocking = NatBehavior.portRestrictedCone().toBuilder()
        .dropFirstInbound(Integer.MAX_VALUE, src -> blockDirect.get() && !src.getAddress().equals(servers)).build();
    SimulatedNat natA = sim.addNat(blocking);
    SimulatedNat natB = sim.addNat(blocking);
    String bId = id("b");
    IntroducerClient a = start(patient, id("a"), natA, b -> b);
    IntroducerClient b = start(patient, bId, natB, b2 -> b2);
    BlockingQueue<PeerChannel> toB = incoming(b);

    PeerChannel ab = connect(a, bId, ConnectPolicy.RELAY_FIRST);
    PeerChannel ba = take(toB);

    assertThat(ab.path()).isEqualTo(Path.RELAY);
    assertThat(ba.path()).isEqualTo(Path.RELAY);
    CompletableFuture<Path> abMoved = pathChange(ab);
    CompletableFuture<Path> baMoved = pathChange(ba);
    BlockingQueue<String> atA = messages(ab);
    BlockingQueue<String> atB = messages(ba);
    ab.send(utf8("before the punch"));
    assertThat(next(atB)).isEqualTo("before the punch");
    ba.send(utf8("relayed reply"));
    assertThat(next(atA)).isEqualTo("relayed reply");
    assertThat(abMoved).isNotDone();
    assertThat(natA.stats().droppedByHook() + natB.stats().droppedByHook()).as("punches were blocked").isPositive();

    blockDirect.set(false); // punching, still under way, now gets through

    assertThat(abMoved.get(WAIT_MILLIS, TimeUnit.MILLISECONDS)).isEqualTo(Path.DIRECT);
    assertThat(baMoved.get(WAIT_MILLIS, TimeUnit.MILLISECONDS)).isEqualTo(Path.DIRECT);
    assertThat(ab.path()).isEqualTo(Path.DIRECT);
    assertThat(ba.path()).isEqualTo(Path.DIRECT);
    assertThat(ab.remoteAddress()).isEqualTo(b.publicAddress());
    assertThat(ba.remoteAddress()).isEqualTo(a.publicAddress());
    // The game kept its channels: the same objects, no second incoming channel, messages keep flowing.
    assertThat(a.connect(bId).get(WAIT_MILLIS, TimeUnit.MILLISECONDS)).isSameAs(ab);
    assertThat(toB).isEmpty();
    assertThat(ab.isOpen()).isTrue();
    long relayedBefore = relay.counters().packetsToPeer() + relay.counters().packetsToClient();
    ab.send(utf8("after the punch"));
    assertThat(next(atB)).isEqualTo("after the punch");
    ba.send(utf8("direct reply"));
    assertThat(next(atA)).isEqualTo("direct reply");
    assertThat(relay.counters().packetsToPeer() + relay.counters().packetsToClient()).isEqualTo(relayedBefore);
    // The allocation is released once the grace period for in-flight relayed datagrams is over.
    assertThat(eventually(Relaying.RELEASE_GRACE_MILLIS + WAIT_MILLIS, () -> relay.counters().allocationsActive() == 0))
        .isTrue();
    assertThat(ab.isOpen()).isTrue();
  }

  @Test
  void whenTheIntroducerSaysRelayAutoRelaysAtOnceAndDirectOnlyFailsWithRelayRequired() throws Exception {
    // With NAT discovery the introducer learns both NATs are symmetric with random ports: strategy relay.
    SimulatedNat natA = sim.addNat(NatBehavior.symmetricRandom());
    SimulatedNat natB = sim.addNat(NatBehavior.symmetricRandom());
    String bId = id("b");
    BlockingQueue<Strategy> strategies = new LinkedBlockingQueue<>();
    ClientListener listener = new ClientListener() {
      @Override
      public void introduced(String peer, String session, List<Candidate> candidates, Strategy strategy) {
        strategies.add(strategy);
      }
    };
    IntroducerClient a = start(quick, id("a"), natA, c -> c.natDiscovery(true).listener(listener));
    IntroducerClient b = start(quick, bId, natB, c -> c.natDiscovery(true));
    BlockingQueue<PeerChannel> toB = incoming(b);
    long filteredBefore = natA.stats().filtered() + natB.stats().filtered(); // discovery's probes

    assertThatThrownBy(() -> connect(a, bId, ConnectPolicy.DIRECT_ONLY))
        .isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(ConnectException.class)
        .extracting(e -> ((ConnectException) e).reason()).isEqualTo("relay required");
    assertThat(strategies.poll(WAIT_MILLIS, TimeUnit.MILLISECONDS)).isEqualTo(Strategy.RELAY);

    PeerChannel ab = connect(a, bId, ConnectPolicy.AUTO);

    assertThat(strategies.poll(WAIT_MILLIS, TimeUnit.MILLISECONDS)).isEqualTo(Strategy.RELAY);
    assertThat(ab.path()).isEqualTo(Path.RELAY);
    BlockingQueue<String> atB = messages(take(toB));
    ab.send(utf8("relayed from the start"));
    assertThat(next(atB)).isEqualTo("relayed from the start");
    // Neither connect punched the server-reflexive candidates: no punch reached (and was filtered by) a NAT.
    assertThat(natA.stats().filtered() + natB.stats().filtered()).isEqualTo(filteredBefore);
  }

  @Test
  void directOnlyNeverRelaysAndFailsForAPairThatCannotPunch() throws Exception {
    SimulatedNat natA = sim.addNat(NatBehavior.symmetricRandom());
    SimulatedNat natB = sim.addNat(NatBehavior.symmetricRandom());
    String bId = id("b");
    IntroducerClient a = start(quick, id("a"), natA, b -> b);
    start(quick, bId, natB, b -> b.defaultPolicy(ConnectPolicy.DIRECT_ONLY));
    long allocationsBefore = relay.counters().allocationsCreated();

    assertThatThrownBy(() -> connect(a, bId, ConnectPolicy.DIRECT_ONLY))
        .isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(ConnectException.class)
        .extracting(e -> ((ConnectException) e).reason()).isEqualTo("punch timed out");
    // Past both peers' punch windows and then some: neither allocated.
    Thread.sleep(1_500);
    assertThat(relay.counters().allocationsCreated()).isEqualTo(allocationsBefore);
  }

  @Test
  void anUnreachableRelayFailsTheConnectWithTheReason() throws Exception {
    int deadPort;
    try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
      deadPort = s.getLocalPort(); // nothing listens there once closed
    }
    JsonObject deadRelay = new JsonObject().put("address", "127.0.0.1:" + deadPort)
        .put("restSecret", TestRelay.REST_SECRET).put("credentialTtlSeconds", 600);
    TestIntroducer introducer = new TestIntroducer(c -> c.put("punchWindowMillis", 500).put("relay", deadRelay));
    try {
      SimulatedNat natA = sim.addNat(NatBehavior.symmetricRandom());
      SimulatedNat natB = sim.addNat(NatBehavior.symmetricRandom());
      String bId = id("b");
      IntroducerClient a = start(introducer, id("a"), natA, c -> c.requestTimeout(java.time.Duration.ofSeconds(1)));
      start(introducer, bId, natB, c -> c.requestTimeout(java.time.Duration.ofSeconds(1)));

      assertThatThrownBy(() -> connect(a, bId, ConnectPolicy.AUTO))
          .isInstanceOf(ExecutionException.class)
          .cause().isInstanceOf(ConnectException.class)
          .extracting(e -> ((ConnectException) e).reason()).asString()
          .startsWith("relay failed: relay did not answer");
    } finally {
      peers.close();
      peers = null;
      introducer.stop();
    }
  }

  @Test
  void closingTheChannelReleasesTheAllocationAndTellsThePeerThroughTheRelay() throws Exception {
    SimulatedNat natA = sim.addNat(NatBehavior.symmetricRandom());
    SimulatedNat natB = sim.addNat(NatBehavior.symmetricRandom());
    String bId = id("b");
    IntroducerClient a = start(quick, id("a"), natA, b -> b);
    IntroducerClient b = start(quick, bId, natB, b2 -> b2);
    BlockingQueue<PeerChannel> toB = incoming(b);
    PeerChannel ab = connect(a, bId, ConnectPolicy.AUTO);
    CompletableFuture<String> atB = Peers.closeReason(take(toB));
    assertThat(relay.counters().allocationsActive()).isEqualTo(1);

    ab.close();

    assertThat(atB.get(WAIT_MILLIS, TimeUnit.MILLISECONDS)).isEqualTo("closed by peer");
    assertThat(eventually(WAIT_MILLIS, () -> relay.counters().allocationsActive() == 0)).isTrue();
  }

  @Test
  void closingTheClientReleasesItsAllocation() throws Exception {
    SimulatedNat natA = sim.addNat(NatBehavior.symmetricRandom());
    SimulatedNat natB = sim.addNat(NatBehavior.symmetricRandom());
    String bId = id("b");
    IntroducerClient a = start(quick, id("a"), natA, b -> b);
    IntroducerClient b = start(quick, bId, natB, b2 -> b2);
    BlockingQueue<PeerChannel> toB = incoming(b);
    connect(a, bId, ConnectPolicy.AUTO);
    CompletableFuture<String> atB = Peers.closeReason(take(toB));
    long deletedBefore = relay.counters().allocationsDeleted();

    a.close();

    // close() returns after the relay answered the deletion.
    assertThat(relay.counters().allocationsActive()).isZero();
    assertThat(relay.counters().allocationsDeleted()).isEqualTo(deletedBefore + 1);
    assertThat(atB.get(WAIT_MILLIS, TimeUnit.MILLISECONDS)).isEqualTo("closed by peer");
  }

  @Test
  void relayFirstResponderOpensThroughTheInitiatorsRelayedCandidate() throws Exception {
    // Both peers want the relay at once: only the initiator allocates; the responder punches its candidate.
    SimulatedNat natA = sim.addNat(NatBehavior.symmetricRandom());
    SimulatedNat natB = sim.addNat(NatBehavior.symmetricRandom());
    String aId = id("a");
    String bId = id("b");
    IntroducerClient a = start(patient, aId, natA, b -> b);
    IntroducerClient b = start(patient, bId, natB, b2 -> b2.defaultPolicy(ConnectPolicy.RELAY_FIRST));
    BlockingQueue<PeerChannel> toB = incoming(b);

    PeerChannel ab = connect(a, bId, ConnectPolicy.RELAY_FIRST);
    PeerChannel ba = take(toB);

    assertThat(ab.path()).isEqualTo(Path.RELAY);
    assertThat(ba.path()).isEqualTo(Path.RELAY);
    assertThat(onlyAllocation().username()).endsWith(":" + aId);
    BlockingQueue<String> atA = messages(ab);
    ba.send(utf8("hello initiator"));
    assertThat(next(atA)).isEqualTo("hello initiator");
  }
}
