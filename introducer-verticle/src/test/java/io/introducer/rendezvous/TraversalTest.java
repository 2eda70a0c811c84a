package io.introducer.rendezvous;

import static io.introducer.rendezvous.RegistrationTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.NatProfile.Allocation;
import io.introducer.protocol.rendezvous.NatProfile.Filtering;
import io.introducer.protocol.rendezvous.NatProfile.Hairpinning;
import io.introducer.protocol.rendezvous.NatProfile.Mapping;
import io.introducer.protocol.rendezvous.PunchParams;
import io.introducer.protocol.rendezvous.Strategy;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** NAT profiles in REGISTER, and the strategy, sides, PUNCH-PARAMS and predicted candidates of CONNECT and INTRODUCE. */
@ExtendWith(VertxExtension.class)
class TraversalTest {
  static final NatProfile MODERATE = new NatProfile(Mapping.EIM, Filtering.APDF, Allocation.PRESERVING, 0,
      Hairpinning.YES, 120);
  static final NatProfile OPEN = new NatProfile(Mapping.EIM, Filtering.EIF, Allocation.PRESERVING, 0,
      Hairpinning.YES, 300);
  static final NatProfile SEQUENTIAL = new NatProfile(Mapping.APDM, Filtering.APDF, Allocation.SEQUENTIAL, 2,
      Hairpinning.NO, 30);
  static final NatProfile RANDOM = new NatProfile(Mapping.APDM, Filtering.APDF, Allocation.RANDOM, 0,
      Hairpinning.NO, 30);
  private static final Candidate BOB_LAN = new Candidate(Candidate.Kind.HOST, new InetSocketAddress("192.168.1.2", 6000));

  private IntroducerVerticle introducer;
  private TestPeer alice;
  private TestPeer bob;

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    introducer = Fixtures.deploy(vertx, Fixtures.config());
    alice = Fixtures.peer(introducer, "alice");
    bob = Fixtures.peer(introducer, "bob");
  }

  @AfterEach
  void close() {
    alice.close();
    bob.close();
  }

  static List<Candidate> candidates(StunMessage m) {
    return m.getAll(StunAttributes.CANDIDATE).stream().map(v -> Candidate.decode(v, m.transactionId())).toList();
  }

  @Test
  void registerKeepsTheNatProfileAndALaterRegisterReplacesIt() {
    alice.register(SEQUENTIAL);
    NatProfile first = introducer.registry().get(Fixtures.APP, "alice").orElseThrow().natProfile();
    alice.register(MODERATE);
    NatProfile second = introducer.registry().get(Fixtures.APP, "alice").orElseThrow().natProfile();
    alice.register();
    NatProfile third = introducer.registry().get(Fixtures.APP, "alice").orElseThrow().natProfile();

    assertThat(first).isEqualTo(SEQUENTIAL);
    assertThat(second).isEqualTo(MODERATE);
    assertThat(third).as("a REGISTER without NAT-PROFILE").isEqualTo(NatProfile.UNKNOWN);
  }

  @Test
  void aMalformedNatProfileCountsAsUnknown() {
    StunMessage.Builder b = alice.request(StunMethods.REGISTER).add(StunAttributes.NAT_PROFILE, new byte[] {1, 1, 1});

    assertThat(alice.call(b).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(introducer.registry().get(Fixtures.APP, "alice").orElseThrow().natProfile()).isEqualTo(NatProfile.UNKNOWN);
  }

  @Test
  void keepaliveKeepsTheNatProfile() {
    alice.register(OPEN);

    assertThat(alice.call(alice.request(StunMethods.KEEPALIVE)).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(introducer.registry().get(Fixtures.APP, "alice").orElseThrow().natProfile()).isEqualTo(OPEN);
  }

  @Test
  void theSessionRecordsBothPeersNatProfilesAndShowsThem() {
    alice.register(MODERATE);
    bob.register(SEQUENTIAL);

    byte[] sessionId = alice.connect("bob").get(StunAttributes.SESSION_ID);

    Session s = introducer.sessions().get(HexFormat.of().formatHex(sessionId)).orElseThrow();
    assertThat(s.initiatorNat()).isEqualTo(MODERATE);
    assertThat(s.responderNat()).isEqualTo(SEQUENTIAL);
    JsonObject json = SessionJson.toJson(s, Instant.now());
    assertThat(json.getString("initiatorNat")).isEqualTo("moderate (EIM/APDF, preserving)");
    assertThat(json.getString("responderNat")).isEqualTo("strict (APDM/APDF, sequential)");
    assertThat(json.getJsonObject("responderNatProfile").getInteger("stride")).isEqualTo(2);
    assertThat(json.getString("strategy")).isEqualTo("port-prediction");
  }

  @Test
  void aSequentialResponderGetsPredictedCandidatesAndIsToldItIsTheHardSide() {
    alice.register(MODERATE);
    bob.register(SEQUENTIAL, BOB_LAN);

    StunMessage answer = alice.connect("bob");
    StunMessage introduce = bob.receive();

    List<Candidate> expected = new ArrayList<>(List.of(
        new Candidate(Candidate.Kind.SERVER_REFLEXIVE, bob.address()), BOB_LAN));
    for (int k = 1; k <= 16; k++) {
      int port = bob.address().getPort() + 2 * k;
      if (port <= 65535) {
        expected.add(new Candidate(Candidate.Kind.PREDICTED, new InetSocketAddress(bob.address().getAddress(), port)));
      }
    }
    assertThat(candidates(answer)).isEqualTo(expected);
    assertThat(answer.get(StunAttributes.STRATEGY)).containsExactly(Strategy.PORT_PREDICTION.code(), 2, 0, 0);
    assertThat(PunchParams.decode(answer.get(StunAttributes.PUNCH_PARAMS))).isEqualTo(new PunchParams(256, 16, 1000));
    assertThat(introduce.get(StunAttributes.STRATEGY)).containsExactly(Strategy.PORT_PREDICTION.code(), 1, 0, 0);
    assertThat(PunchParams.decode(introduce.get(StunAttributes.PUNCH_PARAMS))).isEqualTo(new PunchParams(256, 16, 1000));
    assertThat(candidates(introduce)).as("alice's ports are not predicted")
        .containsExactly(new Candidate(Candidate.Kind.SERVER_REFLEXIVE, alice.address()));
    Session s = introducer.sessions().get(HexFormat.of().formatHex(answer.get(StunAttributes.SESSION_ID))).orElseThrow();
    assertThat(s.responderCandidates()).as("the candidates alice was given").isEqualTo(expected);
  }

  @Test
  void aSequentialInitiatorIsPredictedInTheIntroduceAndThePredictionWindowIsConfigurable(Vertx vertx) throws Exception {
    IntroducerVerticle narrow = Fixtures.deploy(vertx, Fixtures.config().put("predictionWindow", 3));
    try (TestPeer carol = Fixtures.peer(narrow, "carol"); TestPeer dave = Fixtures.peer(narrow, "dave")) {
      carol.register(SEQUENTIAL);
      dave.register(OPEN);

      StunMessage answer = carol.connect("dave");
      StunMessage introduce = dave.receive();

      int port = carol.address().getPort();
      assertThat(candidates(introduce)).extracting(c -> c.kind() + ":" + c.address().getPort()).containsExactly(
          "SERVER_REFLEXIVE:" + port, "PREDICTED:" + (port + 2), "PREDICTED:" + (port + 4), "PREDICTED:" + (port + 6));
      assertThat(answer.get(StunAttributes.STRATEGY)).containsExactly(Strategy.PORT_PREDICTION.code(), 1, 0, 0);
      assertThat(introduce.get(StunAttributes.STRATEGY)).containsExactly(Strategy.PORT_PREDICTION.code(), 2, 0, 0);
      assertThat(PunchParams.decode(introduce.get(StunAttributes.PUNCH_PARAMS)).probeCount()).isEqualTo(3);
      assertThat(candidates(answer)).extracting(Candidate::kind).doesNotContain(Candidate.Kind.PREDICTED);
    }
  }

  @Test
  void anOpenPeerAndARandomOneGoHardSideFirst() {
    alice.register(OPEN);
    bob.register(RANDOM);

    StunMessage answer = alice.connect("bob");
    StunMessage introduce = bob.receive();

    assertThat(answer.get(StunAttributes.STRATEGY)).containsExactly(Strategy.HARD_SIDE_FIRST.code(), 2, 0, 0);
    assertThat(introduce.get(StunAttributes.STRATEGY)).containsExactly(Strategy.HARD_SIDE_FIRST.code(), 1, 0, 0);
    assertThat(PunchParams.decode(answer.get(StunAttributes.PUNCH_PARAMS))).isEqualTo(PunchParams.DEFAULT);
    assertThat(candidates(answer)).extracting(Candidate::kind).doesNotContain(Candidate.Kind.PREDICTED);
  }

  @Test
  void aRandomInitiatorAndAnUnknownResponderGoBirthdayWithTheConfiguredParameters(Vertx vertx) throws Exception {
    JsonObject params = new JsonObject().put("socketCount", 64).put("probeCount", 512).put("probesPerSecond", 250);
    IntroducerVerticle tuned = Fixtures.deploy(vertx, Fixtures.config().put("punchParams", params));
    try (TestPeer carol = Fixtures.peer(tuned, "carol"); TestPeer dave = Fixtures.peer(tuned, "dave")) {
      carol.register(RANDOM);
      dave.register();

      StunMessage answer = carol.connect("dave");
      StunMessage introduce = dave.receive();

      assertThat(answer.get(StunAttributes.STRATEGY)).containsExactly(Strategy.BIRTHDAY.code(), 1, 0, 0);
      assertThat(introduce.get(StunAttributes.STRATEGY)).containsExactly(Strategy.BIRTHDAY.code(), 2, 0, 0);
      assertThat(PunchParams.decode(answer.get(StunAttributes.PUNCH_PARAMS))).isEqualTo(new PunchParams(64, 512, 250));
      assertThat(PunchParams.decode(introduce.get(StunAttributes.PUNCH_PARAMS))).isEqualTo(new PunchParams(64, 512, 250));
    }
  }

  @Test
  void twoRandomPeersWithoutARelayAreRefused503RelayRequiredAndNobodyIsIntroduced() {
    alice.register(RANDOM);
    bob.register(RANDOM);

    StunMessage refused = alice.connect("bob");

    assertError(refused, 503, "relay required");
    assertThat(refused.verifyIntegritySha256(alice.key)).isTrue();
    assertThat(introducer.sessions().size()).isZero();
    assertThat(introducer.counters().connects()).isZero();
    bob.assertNothingReceivedBeforeBindingAnswer();
  }

  @Test
  void peersWithoutProfilesStillPunchSimultaneously() {
    alice.register();
    bob.register();

    StunMessage answer = alice.connect("bob");

    assertThat(answer.get(StunAttributes.STRATEGY)).containsExactly(Strategy.SIMULTANEOUS.code(), 0, 0, 0);
    assertThat(PunchParams.decode(answer.get(StunAttributes.PUNCH_PARAMS))).isEqualTo(PunchParams.DEFAULT);
    assertThat(answer.has(StunAttributes.RELAY_ADDRESS)).isFalse();
  }
}
