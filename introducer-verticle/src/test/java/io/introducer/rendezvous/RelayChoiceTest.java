package io.introducer.rendezvous;

import static io.introducer.rendezvous.Fixtures.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAddress;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.RelayRtt;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Relay choice by load and by the peers' measured RTTs (docs/PROTOCOL.md section 8, relay choice): the selection
 * rule itself (with its tolerance band), RELAY-ADDRESS in REGISTER success and, when the relays changed, in KEEPALIVE
 * success, RELAY-RTT stored with the registration (and in its shared record).
 */
@ExtendWith(VertxExtension.class)
class RelayChoiceTest {
  static final InetSocketAddress NEAR = new InetSocketAddress("192.0.2.10", 3478);
  static final InetSocketAddress FAR = new InetSocketAddress("192.0.2.20", 3478);
  static final InetSocketAddress THIRD = new InetSocketAddress("192.0.2.30", 3478);

  private static Registration peer(String id, RelayRtt... rtts) {
    Instant now = Instant.ofEpochSecond(1_800_000_000L);
    return new Registration(Fixtures.APP, id, new InetSocketAddress("198.51.100.1", 40000), List.of(), now,
        now.plusSeconds(60), NatProfile.UNKNOWN, null, 0, List.of(rtts));
  }

  @Test
  void bothPeersCloserToTheMoreLoadedRelayGetThatOne() {
    List<RelaySelector.Load> loads = List.of(new RelaySelector.Load(NEAR, 80, 100),
        new RelaySelector.Load(FAR, 10, 100));
    Registration a = peer("a", new RelayRtt(NEAR, 5_000), new RelayRtt(FAR, 40_000));
    Registration b = peer("b", new RelayRtt(NEAR, 20_000), new RelayRtt(FAR, 15_000));

    // max(5, 20) = 20 ms via NEAR beats max(40, 15) = 40 ms via FAR, although FAR is less loaded.
    assertThat(RelaySelector.choose(loads, a, b, Set.of())).contains(NEAR);
    // RELAY-REQUEST: same ranking minus the relays named.
    assertThat(RelaySelector.choose(loads, a, b, Set.of(NEAR))).contains(FAR);
  }

  @Test
  void aFullRelayIsNeverChosenEvenIfClosest() {
    List<RelaySelector.Load> loads = List.of(new RelaySelector.Load(NEAR, 100, 100),
        new RelaySelector.Load(FAR, 90, 100));
    Registration a = peer("a", new RelayRtt(NEAR, 1_000), new RelayRtt(FAR, 90_000));
    Registration b = peer("b", new RelayRtt(NEAR, 1_000), new RelayRtt(FAR, 90_000));

    assertThat(RelaySelector.choose(loads, a, b, Set.of())).contains(FAR);
    assertThat(RelaySelector.choose(List.of(new RelaySelector.Load(NEAR, 100, 100)), a, b, Set.of())).isEmpty();
    assertThat(RelaySelector.leastLoaded(loads)).containsExactly(FAR);
  }

  @Test
  void missingRttsFallBackToTheLeastLoaded() {
    List<RelaySelector.Load> loads = List.of(new RelaySelector.Load(NEAR, 80, 100),
        new RelaySelector.Load(FAR, 10, 100));
    Registration measured = peer("a", new RelayRtt(NEAR, 1_000), new RelayRtt(FAR, 50_000));
    Registration unmeasured = peer("b");
    Registration onlyFar = peer("c", new RelayRtt(FAR, 3_000));

    assertThat(RelaySelector.choose(loads, measured, unmeasured, Set.of())).contains(FAR);
    assertThat(RelaySelector.choose(loads, null, measured, Set.of())).contains(FAR);
    // Only FAR was measured by both: it ranks before NEAR, which c did not answer for.
    assertThat(RelaySelector.choose(loads, measured, onlyFar, Set.of())).contains(FAR);
  }

  @Test
  void equalRttsAreBrokenByLoad() {
    List<RelaySelector.Load> loads = List.of(new RelaySelector.Load(NEAR, 50, 100),
        new RelaySelector.Load(FAR, 20, 100), new RelaySelector.Load(THIRD, 0, 100));
    Registration a = peer("a", new RelayRtt(NEAR, 9_000), new RelayRtt(FAR, 9_000), new RelayRtt(THIRD, 30_000));
    Registration b = peer("b", new RelayRtt(NEAR, 2_000), new RelayRtt(FAR, 8_000), new RelayRtt(THIRD, 1_000));

    assertThat(RelaySelector.choose(loads, a, b, Set.of())).contains(FAR);
  }

  @Test
  void nearEqualRttsCountAsEqualAndTheLessLoadedWins() {
    List<RelaySelector.Load> loads = List.of(new RelaySelector.Load(NEAR, 80, 100),
        new RelaySelector.Load(FAR, 10, 100));
    // 0.40 vs 0.41 ms worst: measurement noise, within the 2 ms floor of the band; the less loaded FAR wins.
    Registration a = peer("a", new RelayRtt(NEAR, 400), new RelayRtt(FAR, 410));
    Registration b = peer("b", new RelayRtt(NEAR, 300), new RelayRtt(FAR, 390));
    assertThat(RelaySelector.choose(loads, a, b, Set.of())).contains(FAR);
    assertThat(RelaySelector.choose(loads, b, a, Set.of())).contains(FAR);

    // 50 vs 60 ms: within 20 % of the best (band 10 ms), still equal; 50 vs 60.001 ms is not.
    Registration c = peer("c", new RelayRtt(NEAR, 50_000), new RelayRtt(FAR, 60_000));
    Registration d = peer("d", new RelayRtt(NEAR, 10_000), new RelayRtt(FAR, 10_000));
    assertThat(RelaySelector.choose(loads, c, d, Set.of())).contains(FAR);
    Registration e = peer("e", new RelayRtt(NEAR, 50_000), new RelayRtt(FAR, 60_001));
    assertThat(RelaySelector.choose(loads, e, d, Set.of())).contains(NEAR);

    assertThat(RelaySelector.rttBand(400)).isEqualTo(RelaySelector.RTT_BAND_MIN_MICROS);
    assertThat(RelaySelector.rttBand(50_000)).isEqualTo(10_000);
  }

  @Test
  void aClearlyLowerRttWinsDespiteTheLoad() {
    List<RelaySelector.Load> loads = List.of(new RelaySelector.Load(NEAR, 90, 100),
        new RelaySelector.Load(FAR, 0, 100));
    // 20 vs 30 ms (band 4 ms), 1 vs 3.5 ms (band 2 ms): NEAR although nearly full and FAR idle.
    assertThat(RelaySelector.choose(loads, peer("a", new RelayRtt(NEAR, 20_000), new RelayRtt(FAR, 30_000)),
        peer("b", new RelayRtt(NEAR, 5_000), new RelayRtt(FAR, 5_000)), Set.of())).contains(NEAR);
    assertThat(RelaySelector.choose(loads, peer("a", new RelayRtt(NEAR, 1_000), new RelayRtt(FAR, 3_500)),
        peer("b", new RelayRtt(NEAR, 1_000), new RelayRtt(FAR, 1_000)), Set.of())).contains(NEAR);

    // Three relays: NEAR (10 ms) and FAR (11 ms) are in the band, THIRD (30 ms) is not; the band's less loaded wins
    // although THIRD is idle.
    List<RelaySelector.Load> three = List.of(new RelaySelector.Load(NEAR, 50, 100),
        new RelaySelector.Load(FAR, 30, 100), new RelaySelector.Load(THIRD, 0, 100));
    Registration a = peer("a", new RelayRtt(NEAR, 10_000), new RelayRtt(FAR, 11_000), new RelayRtt(THIRD, 30_000));
    Registration b = peer("b", new RelayRtt(NEAR, 1_000), new RelayRtt(FAR, 1_000), new RelayRtt(THIRD, 1_000));
    assertThat(RelaySelector.choose(three, a, b, Set.of())).contains(FAR);
    // Without FAR, NEAR is the band (30 ms is outside 10 + 2 ms).
    assertThat(RelaySelector.choose(three, a, b, Set.of(FAR))).contains(NEAR);
  }

  @Test
  void relayRttsSurviveTheSharedRecord() {
    Registration r = peer("a", new RelayRtt(NEAR, 1_234), new RelayRtt(FAR, 56_789));
    JsonObject json = RecordCodec.encode(r);

    assertThat(RecordCodec.decodeRegistration(json)).isEqualTo(r);
    assertThat(RecordCodec.decodeRegistration(RecordCodec.encode(peer("b"))).relayRtts()).isEmpty();
    assertThat(RecordCodec.encode(peer("b")).containsKey("relayRtts")).isFalse();
  }

  /** Two relays by load, chosen by {@link RelaySelector#choose}; what a cluster's selector does. */
  static final class ByLoadAndRtt implements RelaySelector {
    final List<Load> loads = List.of(new Load(NEAR, 80, 100), new Load(FAR, 10, 100), new Load(THIRD, 100, 100));

    @Override
    public Optional<Relay> select(String appId, Registration initiator, Registration responder) {
      return replacement(appId, initiator, responder, Set.of());
    }

    @Override
    public Optional<Relay> replacement(String appId, Registration initiator, Registration responder,
        Set<InetSocketAddress> excluded) {
      return RelaySelector.choose(loads, initiator, responder, excluded).map(a -> new Relay(a, "secret"));
    }

    @Override
    public List<InetSocketAddress> candidates(String appId) {
      return RelaySelector.leastLoaded(loads);
    }
  }

  /** Relays by load from a list the test changes, as a cluster's selector sees relays join and leave. */
  static final class Changing implements RelaySelector {
    final List<Load> loads = new CopyOnWriteArrayList<>();

    @Override
    public Optional<Relay> select(String appId, Registration initiator, Registration responder) {
      return RelaySelector.choose(loads, initiator, responder, Set.of()).map(a -> new Relay(a, "secret"));
    }

    @Override
    public List<InetSocketAddress> candidates(String appId) {
      return RelaySelector.leastLoaded(loads);
    }
  }

  @Test
  void keepaliveSuccessListsTheRelaysWhenTheyAreNotTheOnesReported(Vertx vertx) throws Exception {
    Changing relays = new Changing();
    relays.loads.addAll(List.of(new RelaySelector.Load(NEAR, 80, 100), new RelaySelector.Load(FAR, 10, 100)));
    IntroducerVerticle introducer = new IntroducerVerticle(relays);
    vertx.deployVerticle(introducer, new DeploymentOptions().setConfig(Fixtures.config()))
        .await(10, TimeUnit.SECONDS);
    try (TestPeer alice = Fixtures.peer(introducer, "alice")) {
      assertThat(listed(alice.register())).containsExactly(FAR, NEAR);

      // Nothing reported yet: listed again, signed like any success.
      StunMessage first = keepalive(alice);
      assertThat(listed(first)).containsExactly(FAR, NEAR);
      assertThat(first.verifyIntegritySha256(alice.key)).isTrue();
      // RTTs to both (in any order): nothing listed, neither when a KEEPALIVE without RELAY-RTT keeps them.
      assertThat(listed(keepalive(alice, new RelayRtt(NEAR, 4_000), new RelayRtt(FAR, 5_000)))).isEmpty();
      assertThat(listed(keepalive(alice))).isEmpty();

      // A relay joins: the next keepalive success lists the relays as REGISTER success would, the newcomer included.
      relays.loads.add(new RelaySelector.Load(THIRD, 0, 100));
      assertThat(listed(keepalive(alice))).containsExactly(THIRD, FAR, NEAR);
      assertThat(listed(keepalive(alice, new RelayRtt(THIRD, 1_000), new RelayRtt(NEAR, 4_000),
          new RelayRtt(FAR, 5_000)))).isEmpty();

      // A relay leaves (or fills up): listed without it, so that the peer stops reporting it.
      relays.loads.removeIf(l -> l.address().equals(NEAR));
      assertThat(listed(keepalive(alice))).containsExactly(THIRD, FAR);
      assertThat(listed(keepalive(alice, new RelayRtt(FAR, 5_000), new RelayRtt(THIRD, 1_000)))).isEmpty();

      // One relay left: no choice, nothing listed (as in REGISTER success).
      relays.loads.removeIf(l -> l.address().equals(FAR));
      assertThat(listed(keepalive(alice))).isEmpty();
    }
  }

  private static List<InetSocketAddress> listed(StunMessage success) {
    return success.getAll(StunAttributes.RELAY_ADDRESS).stream()
        .map(v -> StunAddress.decodeXor(v, 0, v.length, success.bytes(), 8)).toList();
  }

  @Test
  void registerListsRelaysAndKeepaliveRttsLandInTheRegistration(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = new IntroducerVerticle(new ByLoadAndRtt());
    vertx.deployVerticle(introducer, new DeploymentOptions().setConfig(Fixtures.config()))
        .await(10, TimeUnit.SECONDS);
    try (TestPeer alice = Fixtures.peer(introducer, "alice"); TestPeer bob = Fixtures.peer(introducer, "bob")) {
      StunMessage registered = alice.register();
      bob.register();

      // The relays that are not full, least loaded first.
      List<InetSocketAddress> listed = registered.getAll(StunAttributes.RELAY_ADDRESS).stream()
          .map(v -> io.introducer.protocol.StunAddress.decodeXor(v, 0, v.length, registered.bytes(), 8)).toList();
      assertThat(listed).containsExactly(FAR, NEAR);
      assertThat(registered.verifyIntegritySha256(alice.key)).isTrue();
      // Before any RTT: the least loaded.
      assertThat(alice.connect("bob").getXorAddress(StunAttributes.RELAY_ADDRESS)).isEqualTo(FAR);

      // Reporting RTTs to exactly the listed relays: the keepalive success lists none.
      assertThat(listed(keepalive(alice, new RelayRtt(NEAR, 4_000), new RelayRtt(FAR, 30_000)))).isEmpty();
      keepalive(bob, new RelayRtt(NEAR, 6_000), new RelayRtt(FAR, 7_000));
      eventually("RTTs stored", Duration.ofSeconds(5), () ->
          introducer.registry().get(Fixtures.APP, "bob").orElseThrow().relayRtts().size() == 2);
      assertThat(introducer.registry().get(Fixtures.APP, "alice").orElseThrow().relayRtts())
          .containsExactly(new RelayRtt(NEAR, 4_000), new RelayRtt(FAR, 30_000));

      // Now closer to both via NEAR (6 ms worst) than FAR (30 ms worst), though NEAR is more loaded.
      assertThat(alice.connect("bob").getXorAddress(StunAttributes.RELAY_ADDRESS)).isEqualTo(NEAR);

      // A KEEPALIVE without RELAY-RTT keeps them.
      StunMessage plain = alice.call(alice.request(StunMethods.KEEPALIVE));
      assertThat(plain.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
      assertThat(introducer.registry().get(Fixtures.APP, "alice").orElseThrow().relayRtts()).hasSize(2);
    }
  }

  @Test
  void atMostFourWellFormedRttsOnePerRelayAreKept(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = new IntroducerVerticle(new ByLoadAndRtt());
    vertx.deployVerticle(introducer, new DeploymentOptions().setConfig(Fixtures.config()))
        .await(10, TimeUnit.SECONDS);
    try (TestPeer alice = Fixtures.peer(introducer, "alice")) {
      alice.register();
      StunMessage.Builder b = alice.request(StunMethods.KEEPALIVE);
      b.add(StunAttributes.RELAY_RTT, new byte[3]); // malformed: ignored
      b.add(StunAttributes.RELAY_RTT, new RelayRtt(NEAR, 1).encode(b.transactionId()));
      b.add(StunAttributes.RELAY_RTT, new RelayRtt(NEAR, 2).encode(b.transactionId())); // same relay: ignored
      for (int i = 1; i <= 5; i++) {
        b.add(StunAttributes.RELAY_RTT,
            new RelayRtt(new InetSocketAddress("192.0.2." + (100 + i), 3478), i).encode(b.transactionId()));
      }
      assertThat(alice.call(b).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
      List<RelayRtt> kept = introducer.registry().get(Fixtures.APP, "alice").orElseThrow().relayRtts();
      assertThat(kept).hasSize(4);
      assertThat(kept.get(0)).isEqualTo(new RelayRtt(NEAR, 1));
    }
  }

  private static StunMessage keepalive(TestPeer peer, RelayRtt... rtts) {
    StunMessage.Builder b = peer.request(StunMethods.KEEPALIVE);
    for (RelayRtt r : rtts) {
      b.add(StunAttributes.RELAY_RTT, r.encode(b.transactionId()));
    }
    StunMessage answer = peer.call(b);
    assertThat(answer.messageClass()).as("%s", answer).isEqualTo(StunClass.SUCCESS_RESPONSE);
    return answer;
  }
}
