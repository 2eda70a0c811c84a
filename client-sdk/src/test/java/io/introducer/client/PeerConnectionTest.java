package io.introducer.client;

import static io.introducer.client.Peers.connect;
import static io.introducer.client.Peers.id;
import static io.introducer.client.Peers.incoming;
import static io.introducer.client.Peers.messages;
import static io.introducer.client.Peers.next;
import static io.introducer.client.Peers.take;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.introducer.client.testing.NatBehavior;
import io.introducer.client.testing.NatSimulator;
import io.introducer.client.testing.SimulatedHost;
import io.introducer.client.testing.SimulatedNat;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Two SDK peers, behind simulated NATs, introduced by a real introducer verticle. */
class PeerConnectionTest {
  private static TestIntroducer introducer;
  private final NatSimulator sim = new NatSimulator(11);
  private final Peers peers = new Peers(introducer); // @BeforeAll has run when test instances are made

  @BeforeAll
  static void startIntroducer() throws Exception {
    introducer = new TestIntroducer();
  }

  @AfterAll
  static void stopIntroducer() throws Exception {
    introducer.stop();
  }

  @AfterEach
  void tearDown() {
    peers.close();
    sim.close();
  }

  private static NatBehavior delayed(long millis) {
    return NatBehavior.portRestrictedCone().toBuilder().delay(Duration.ofMillis(millis)).build();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @ParameterizedTest(name = "NAT delays a={0} ms, b={1} ms")
  @CsvSource({"0, 0", "40, 0", "0, 40", "80, 10"})
  void dataSentTheMomentWeConnectReachesAPeerStillCompletingItsPunch(long delayA, long delayB) throws Exception {
    SimulatedNat natA = sim.addNat(delayed(delayA));
    SimulatedNat natB = sim.addNat(delayed(delayB));
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), natA.addHost());
    IntroducerClient b = peers.start(bId, natB.addHost());
    BlockingQueue<PeerChannel> toB = incoming(b);

    PeerChannel ab = connect(a, bId);
    ab.send(utf8("first"));
    PeerChannel ba = take(toB);
    assertThat(next(messages(ba))).isEqualTo("first");
  }

  @Test
  void peersBehindPortRestrictedConesConnectDirectlyAndExchangeMessagesBothWays() throws Exception {
    SimulatedNat natA = sim.addNat(NatBehavior.portRestrictedCone());
    SimulatedNat natB = sim.addNat(NatBehavior.portRestrictedCone());
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), natA.addHost());
    IntroducerClient b = peers.start(bId, natB.addHost());
    assertThat(a.publicAddress().getAddress()).isEqualTo(natA.publicAddress());
    BlockingQueue<PeerChannel> toB = incoming(b);

    PeerChannel ab = connect(a, bId);
    PeerChannel ba = take(toB);

    assertThat(ab.path()).isEqualTo(Path.DIRECT);
    assertThat(ab.remotePeerId()).isEqualTo(bId);
    assertThat(ba.remotePeerId()).isEqualTo(a.peerId());
    assertThat(ab.sessionId()).isEqualTo(ba.sessionId()).hasSize(32);
    assertThat(ab.remoteAddress()).isEqualTo(b.publicAddress());
    assertThat(ba.remoteAddress()).isEqualTo(a.publicAddress());
    assertThat(ab.rtt()).isPositive();
    assertThat(ba.rtt()).isPositive();

    BlockingQueue<String> atB = messages(ba);
    BlockingQueue<String> atA = messages(ab);
    ab.send(utf8("ping"));
    assertThat(next(atB)).isEqualTo("ping");
    ba.send(utf8("xxpongxx"), 2, 4);
    assertThat(next(atA)).isEqualTo("pong");
  }

  @Test
  void connectsWhenTheTargetsNatDropsTheFirstPunches() throws Exception {
    SimulatedNat natA = sim.addNat(NatBehavior.portRestrictedCone());
    // A full cone would admit the very first punch; the hook drops the first three instead.
    SimulatedNat natB = sim.addNat(NatBehavior.fullCone().toBuilder()
        .dropFirstInbound(3, source -> !source.equals(introducer.address())).build());
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), natA.addHost());
    IntroducerClient b = peers.start(bId, natB.addHost());
    BlockingQueue<PeerChannel> toB = incoming(b);

    PeerChannel ab = connect(a, bId);
    PeerChannel ba = take(toB);

    assertThat(natB.stats().droppedByHook()).isEqualTo(3);
    BlockingQueue<String> atB = messages(ba);
    ab.send(utf8("after the drops"));
    assertThat(next(atB)).isEqualTo("after the drops");
  }

  @Test
  void peersBehindOneNatWithoutHairpinningConnectOverTheLan() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.portRestrictedCone());
    SimulatedHost hostB = nat.addHost();
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), nat.addHost());
    IntroducerClient b = peers.start(bId, hostB);
    BlockingQueue<PeerChannel> toB = incoming(b);

    PeerChannel ab = connect(a, bId);
    PeerChannel ba = take(toB);

    assertThat(ab.remoteAddress()).isEqualTo(b.localAddress());
    assertThat(ab.remoteAddress().getAddress()).isEqualTo(hostB.address());
    assertThat(nat.stats().hairpinned()).isZero();
    BlockingQueue<String> atA = messages(ab);
    ba.send(utf8("across the room"));
    assertThat(next(atA)).isEqualTo("across the room");
  }

  @Test
  void aSymmetricNatReachesAFullConeThroughTriggeredPunches() throws Exception {
    SimulatedNat natA = sim.addNat(NatBehavior.symmetricRandom());
    SimulatedNat natB = sim.addNat(NatBehavior.fullCone());
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), natA.addHost());
    IntroducerClient b = peers.start(bId, natB.addHost());
    BlockingQueue<PeerChannel> toB = incoming(b);

    PeerChannel ab = connect(a, bId);
    PeerChannel ba = take(toB);

    // B reaches A on the port A's NAT opened towards B, not the one the introducer saw.
    assertThat(ba.remoteAddress().getAddress()).isEqualTo(natA.publicAddress());
    assertThat(ba.remoteAddress()).isNotEqualTo(a.publicAddress());
    BlockingQueue<String> atA = messages(ab);
    ba.send(utf8("found you"));
    assertThat(next(atA)).isEqualTo("found you");
  }

  @Test
  void aPeerWithoutNatIsReachedFromBehindASymmetricNat() throws Exception {
    SimulatedNat open = sim.addNat(NatBehavior.open());
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), sim.addNat(NatBehavior.symmetricSequential(2)).addHost());
    IntroducerClient b = peers.start(bId, open.addHost());
    assertThat(b.publicAddress()).isEqualTo(b.localAddress());
    BlockingQueue<PeerChannel> toB = incoming(b);

    PeerChannel ab = connect(a, bId);
    PeerChannel ba = take(toB);

    assertThat(ab.remoteAddress()).isEqualTo(b.localAddress());
    BlockingQueue<String> atA = messages(ab);
    ba.send(utf8("no NAT here"));
    assertThat(next(atA)).isEqualTo("no NAT here");
  }

  /**
   * Without NAT profiles the introducer cannot know that a relay is needed (TraversalMatrixTest shows it does
   * with them): the peers punch in vain until the connect times out.
   */
  @Test
  void withoutNatProfilesTwoSymmetricNatsPunchInVainAndConnectFailsWithPunchTimedOut() throws Exception {
    SimulatedNat natA = sim.addNat(NatBehavior.symmetricRandom());
    SimulatedNat natB = sim.addNat(NatBehavior.symmetricRandom());
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), natA.addHost(),
        c -> c.connectTimeout(Duration.ofMillis(1500)).natDiscovery(false));
    peers.start(bId, natB.addHost(), c -> c.natDiscovery(false));

    assertThatThrownBy(() -> connect(a, bId))
        .isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(ConnectException.class)
        .extracting(e -> ((ConnectException) e).reason()).isEqualTo("punch timed out");
  }

  @Test
  void peersConnectDespitePacketLoss() throws Exception {
    NatBehavior lossy = NatBehavior.portRestrictedCone().toBuilder().lossProbability(0.2).build();
    SimulatedNat natA = sim.addNat(lossy);
    SimulatedNat natB = sim.addNat(lossy);
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), natA.addHost());
    IntroducerClient b = peers.start(bId, natB.addHost());
    BlockingQueue<PeerChannel> toB = incoming(b);

    PeerChannel ab = connect(a, bId);
    take(toB);

    assertThat(ab.isOpen()).isTrue();
    assertThat(natA.stats().lost() + natB.stats().lost()).isPositive();
  }

  /**
   * Delaying one side changes what each peer holds when the other's INTRODUCE arrives: a CONNECT still
   * in flight, or a session already punching.
   */
  @ParameterizedTest(name = "delay at A {0} ms, at B {1} ms")
  @CsvSource({"0, 0", "150, 0", "0, 150"})
  void connectingToAPeerThatConnectsToUsAtTheSameTimeGivesOneChannelOnEachSide(long delayA, long delayB)
      throws Exception {
    SimulatedNat natA = sim.addNat(delayed(delayA));
    SimulatedNat natB = sim.addNat(delayed(delayB));
    IntroducerClient a = peers.start(id("a"), natA.addHost());
    IntroducerClient b = peers.start(id("b"), natB.addHost());
    BlockingQueue<PeerChannel> toA = incoming(a);
    BlockingQueue<PeerChannel> toB = incoming(b);

    CompletableFuture<PeerChannel> fromA = a.connect(b.peerId());
    CompletableFuture<PeerChannel> fromB = b.connect(a.peerId());
    PeerChannel ab = fromA.get(Peers.WAIT_SECONDS, TimeUnit.SECONDS);
    PeerChannel ba = fromB.get(Peers.WAIT_SECONDS, TimeUnit.SECONDS);

    assertThat(ab.sessionId()).isEqualTo(ba.sessionId());
    BlockingQueue<String> atA = messages(ab);
    BlockingQueue<String> atB = messages(ba);
    ab.send(utf8("hi b"));
    ba.send(utf8("hi a"));
    assertThat(next(atB)).isEqualTo("hi b");
    assertThat(next(atA)).isEqualTo("hi a");
    // Neither side got a second channel through onIncoming.
    assertThat(toA.poll(200, TimeUnit.MILLISECONDS)).isNull();
    assertThat(toB).isEmpty();
  }

  @Test
  void connectingAgainToAConnectedPeerReturnsTheOpenChannel() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.fullCone());
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), sim.addNat(NatBehavior.restrictedCone()).addHost());
    IntroducerClient b = peers.start(bId, nat.addHost());
    incoming(b);
    PeerChannel first = connect(a, bId);
    assertThat(connect(a, bId)).isSameAs(first);
  }

  @Test
  void closingAChannelClosesThePeersChannel() throws Exception {
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), sim.addNat(NatBehavior.portRestrictedCone()).addHost());
    IntroducerClient b = peers.start(bId, sim.addNat(NatBehavior.portRestrictedCone()).addHost());
    BlockingQueue<PeerChannel> toB = incoming(b);
    PeerChannel ab = connect(a, bId);
    PeerChannel ba = take(toB);
    CompletableFuture<String> atA = Peers.closeReason(ab);
    CompletableFuture<String> atB = Peers.closeReason(ba);

    ab.close();

    assertThat(atA.get(Peers.WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo("closed locally");
    assertThat(atB.get(Peers.WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo("closed by peer");
    assertThat(ba.isOpen()).isFalse();
    assertThatThrownBy(() -> ab.send(utf8("too late"))).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> ba.send(utf8("too late"))).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void closingAClientClosesItsPeersChannels() throws Exception {
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), sim.addNat(NatBehavior.portRestrictedCone()).addHost());
    IntroducerClient b = peers.start(bId, sim.addNat(NatBehavior.portRestrictedCone()).addHost());
    BlockingQueue<PeerChannel> toB = incoming(b);
    PeerChannel ab = connect(a, bId);
    CompletableFuture<String> atB = Peers.closeReason(take(toB));
    CompletableFuture<String> atA = Peers.closeReason(ab);

    a.close();

    assertThat(atA.get(Peers.WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo("client closed");
    assertThat(atB.get(Peers.WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo("closed by peer");
  }

  @Test
  void aChannelWhosePeerStopsAnsweringClosesAsUnreachable() throws Exception {
    SimulatedNat natB = sim.addNat(NatBehavior.portRestrictedCone());
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), sim.addNat(NatBehavior.portRestrictedCone()).addHost(),
        c -> c.probeInterval(Duration.ofMillis(100)).probeTimeout(Duration.ofMillis(600)));
    IntroducerClient b = peers.start(bId, natB.addHost());
    incoming(b);
    PeerChannel ab = connect(a, bId);
    CompletableFuture<String> reason = Peers.closeReason(ab);

    natB.setLinkUp(false);

    assertThat(reason.get(Peers.WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo("peer unreachable");
    assertThat(ab.isOpen()).isFalse();
  }

  @Test
  void probesKeepAHealthyChannelOpenAndRefreshTheRtt() throws Exception {
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), sim.addNat(NatBehavior.portRestrictedCone()).addHost(),
        c -> c.probeInterval(Duration.ofMillis(50)).probeTimeout(Duration.ofMillis(2000)));
    IntroducerClient b = peers.start(bId, sim.addNat(NatBehavior.portRestrictedCone()).addHost());
    incoming(b);
    PeerChannel ab = connect(a, bId);
    // Several probe intervals and more than one probe timeout pass: answered probes keep it open.
    Thread.sleep(2_500);
    assertThat(ab.isOpen()).isTrue();
    assertThat(ab.rtt()).isPositive();
  }

  @Test
  void largestPayloadArrivesAndLargerOnesAreRefused() throws Exception {
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), sim.addNat(NatBehavior.fullCone()).addHost());
    IntroducerClient b = peers.start(bId, sim.addNat(NatBehavior.fullCone()).addHost());
    BlockingQueue<PeerChannel> toB = incoming(b);
    PeerChannel ab = connect(a, bId);
    PeerChannel ba = take(toB);
    BlockingQueue<byte[]> atB = new java.util.concurrent.LinkedBlockingQueue<>();
    ba.onMessage(atB::add);

    byte[] max = new byte[65506];
    max[max.length - 1] = 42;
    ab.send(max);

    byte[] got = atB.poll(Peers.WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(got).isNotNull().hasSize(65506);
    assertThat(got[65505]).isEqualTo((byte) 42);
    assertThatThrownBy(() -> ab.send(new byte[65507])).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("65506");
  }

  @Test
  void connectToAnUnknownPeerFailsWithUnknownPeer() throws Exception {
    IntroducerClient a = peers.start(id("a"), sim.addNat(NatBehavior.portRestrictedCone()).addHost());
    assertThatThrownBy(() -> connect(a, "nobody-here"))
        .isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(ConnectException.class)
        .extracting(e -> ((ConnectException) e).reason()).isEqualTo("unknown peer");
  }

  @Test
  void messagesSentBeforeTheListenerIsSetAreDeliveredInOrder() throws Exception {
    String bId = id("b");
    IntroducerClient a = peers.start(id("a"), sim.addNat(NatBehavior.fullCone()).addHost());
    IntroducerClient b = peers.start(bId, sim.addNat(NatBehavior.fullCone()).addHost());
    BlockingQueue<PeerChannel> toB = incoming(b);
    PeerChannel ab = connect(a, bId);
    PeerChannel ba = take(toB);
    for (int i = 0; i < 5; i++) {
      ab.send(utf8("m" + i));
    }
    // Loopback delivers within this pause, so the messages wait in B's buffer for a listener.
    Thread.sleep(300);
    BlockingQueue<String> atB = messages(ba);
    for (int i = 0; i < 5; i++) {
      assertThat(next(atB)).isEqualTo("m" + i);
    }
  }
}
