package io.introducer.rendezvous;

import static io.introducer.rendezvous.Fixtures.eventually;
import static io.introducer.rendezvous.RegistrationTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.protocol.rendezvous.Strategy;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class ConnectTest {
  private static final Candidate ALICE_LAN = new Candidate(Candidate.Kind.HOST, new InetSocketAddress("10.0.0.1", 5000));
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

  @Test
  void connectToAnUnknownPeerIs404() {
    alice.register();

    StunMessage response = alice.connect("nobody");

    assertError(response, 404, "unknown peer");
    assertThat(response.verifyIntegritySha256(alice.key)).isTrue();
  }

  @Test
  void connectFromAnUnregisteredPeerIs403() {
    bob.register();

    assertError(alice.connect("bob"), 403, "not registered");
  }

  @Test
  void connectToSelfIs400() {
    alice.register();

    assertError(alice.connect("alice"), 400, "bad request: target is the requester");
  }

  @Test
  void connectWithoutTargetIs400() {
    alice.register();

    assertError(alice.call(alice.request(StunMethods.CONNECT)), 400, "bad request: TARGET-PEER-ID");
  }

  @Test
  void connectAnswersTheInitiatorAndIntroducesTheResponder() {
    alice.register(ALICE_LAN);
    bob.register(BOB_LAN);

    StunMessage.Builder connect = alice.request(StunMethods.CONNECT).addString(StunAttributes.TARGET_PEER_ID, "bob");
    byte[] connectTx = connect.transactionId();
    StunMessage answer = alice.call(connect);
    StunMessage introduce = bob.receive();

    assertThat(answer.is(StunMethods.CONNECT, StunClass.SUCCESS_RESPONSE)).as("%s", answer).isTrue();
    assertThat(answer.verifyIntegritySha256(alice.key)).isTrue();
    assertThat(answer.hasFingerprint()).isTrue();
    byte[] sessionId = answer.get(StunAttributes.SESSION_ID);
    assertThat(sessionId).hasSize(Rendezvous.SESSION_ID_LENGTH);
    assertThat(answer.get(StunAttributes.ROLE)).containsExactly(0, 0, 0, 0);
    assertThat(answer.getString(StunAttributes.TARGET_PEER_ID)).isEqualTo("bob");
    assertThat(candidates(answer)).containsExactly(
        new Candidate(Candidate.Kind.SERVER_REFLEXIVE, bob.address()), BOB_LAN);
    assertThat(answer.get(StunAttributes.STRATEGY)).containsExactly(Strategy.SIMULTANEOUS.code(), 0, 0, 0);
    assertThat(answer.getU32(StunAttributes.PUNCH_WINDOW)).isEqualTo(10_000);

    assertThat(introduce.is(StunMethods.INTRODUCE, StunClass.REQUEST)).as("%s", introduce).isTrue();
    assertThat(introduce.verifyIntegritySha256(bob.key)).isTrue();
    assertThat(introduce.verifyIntegritySha256(alice.key)).isFalse();
    assertThat(introduce.hasFingerprint()).isTrue();
    assertThat(introduce.getString(StunAttributes.APP_ID)).isEqualTo(Fixtures.APP);
    assertThat(introduce.getString(StunAttributes.PEER_ID)).isEqualTo("bob");
    assertThat(Math.abs(introduce.getU64(StunAttributes.TIMESTAMP) - System.currentTimeMillis())).isLessThan(30_000);
    assertThat(introduce.get(StunAttributes.SESSION_ID)).isEqualTo(sessionId);
    assertThat(introduce.get(StunAttributes.ROLE)).containsExactly(1, 0, 0, 0);
    assertThat(introduce.getString(StunAttributes.TARGET_PEER_ID)).isEqualTo("alice");
    assertThat(candidates(introduce)).containsExactly(
        new Candidate(Candidate.Kind.SERVER_REFLEXIVE, alice.address()), ALICE_LAN);
    assertThat(introduce.get(StunAttributes.STRATEGY)).containsExactly(Strategy.SIMULTANEOUS.code(), 0, 0, 0);
    assertThat(introduce.getU32(StunAttributes.PUNCH_WINDOW)).isEqualTo(10_000);

    byte[] aliceKey = Rendezvous.maskSessionKey(answer.get(StunAttributes.SESSION_KEY), alice.key, connectTx, sessionId);
    byte[] bobKey = Rendezvous.maskSessionKey(introduce.get(StunAttributes.SESSION_KEY), bob.key,
        introduce.transactionId(), sessionId);
    assertThat(aliceKey).isEqualTo(bobKey);
    assertThat(answer.get(StunAttributes.SESSION_KEY)).isNotEqualTo(introduce.get(StunAttributes.SESSION_KEY));

    Session session = introducer.sessions().get(HexFormat.of().formatHex(sessionId)).orElseThrow();
    assertThat(session.appId()).isEqualTo(Fixtures.APP);
    assertThat(session.initiator()).isEqualTo("alice");
    assertThat(session.responder()).isEqualTo("bob");
    assertThat(session.initiatorCandidates()).isEqualTo(candidates(introduce));
    assertThat(session.responderCandidates()).isEqualTo(candidates(answer));
    assertThat(session.strategy()).isEqualTo(Strategy.SIMULTANEOUS);
    assertThat(session.state(Instant.now())).isEqualTo(SessionState.PENDING);
    assertThat(introducer.counters().connects()).isEqualTo(1);
  }

  @Test
  void connectBeyondTheIntroductionsInFlightIs508(Vertx vertx) throws Exception {
    IntroducerVerticle small = Fixtures.deploy(vertx, Fixtures.config().put("maxSessions", 1));
    try (TestPeer carol = Fixtures.peer(small, "carol"); TestPeer dave = Fixtures.peer(small, "dave")) {
      carol.register();
      dave.register();
      assertThat(carol.connect("dave").messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);

      StunMessage refused = carol.connect("dave"); // the first INTRODUCE is still unanswered

      assertError(refused, 508, "insufficient capacity");
      assertThat(small.counters().connects()).isEqualTo(1);
    }
  }

  @Test
  void acknowledgedIntroduceMarksTheSessionIntroducedAndIsNotSentAgain() throws Exception {
    alice.register();
    bob.register();
    byte[] sessionId = alice.connect("bob").get(StunAttributes.SESSION_ID);
    StunMessage introduce = bob.receive();

    bob.send(bob.sign(StunMessage.successFor(introduce).add(StunAttributes.SESSION_ID, sessionId)));

    String id = HexFormat.of().formatHex(sessionId);
    eventually("session introduced", () -> introducer.sessions().get(id).orElseThrow().introducedAt() != null);
    assertThat(introducer.counters().introductionsAcked()).isEqualTo(1);
    assertThat(introducer.pendingIntroductions()).isZero();
    drainIntroduces(bob, introduce); // copies sent before the ack arrived
    Thread.sleep(Introductions.INITIAL_RTO_MILLIS * 4); // past the next retransmission slots
    bob.assertNothingReceivedBeforeBindingAnswer();
  }

  @Test
  void introduceSignedWithAnotherKeyDoesNotCountAsAcknowledged() throws Exception {
    alice.register();
    bob.register();
    byte[] sessionId = alice.connect("bob").get(StunAttributes.SESSION_ID);
    StunMessage introduce = bob.receive();

    alice.send(alice.sign(StunMessage.successFor(introduce).add(StunAttributes.SESSION_ID, sessionId)));

    eventually("forged answer dropped", () -> introducer.counters().drops("bad-integrity") == 1);
    assertThat(introducer.pendingIntroductions()).isEqualTo(1);
  }

  @Test
  void unansweredIntroduceIsSentFiveTimesWithTheSameTransactionId() throws Exception {
    alice.register();
    bob.register();
    alice.connect("bob");

    byte[] first = bob.receiveRaw();
    for (int i = 2; i <= 5; i++) { // docs/PROTOCOL.md: 5 transmissions
      assertThat(bob.receiveRaw()).as("transmission %d", i).isEqualTo(first);
    }
    eventually("introduction given up", Duration.ofSeconds(10), () -> introducer.counters().introductionsTimedOut() == 1);
    bob.assertNothingReceivedBeforeBindingAnswer();
    assertThat(introducer.pendingIntroductions()).isZero();
  }

  @Test
  void resultsOfBothPeersAreRecordedInTheSession() throws Exception {
    alice.register();
    bob.register();
    byte[] sessionId = alice.connect("bob").get(StunAttributes.SESSION_ID);

    StunMessage.Builder direct = alice.request(StunMethods.RESULT)
        .add(StunAttributes.SESSION_ID, sessionId)
        .add(StunAttributes.OUTCOME, outcome(Outcome.CONNECTED_DIRECT, 120, 3_500));
    direct.add(StunAttributes.CANDIDATE,
        new Candidate(Candidate.Kind.SERVER_REFLEXIVE, bob.address()).encode(direct.transactionId()));
    StunMessage ok = alice.call(direct);
    StunMessage failed = bob.call(bob.request(StunMethods.RESULT)
        .add(StunAttributes.SESSION_ID, sessionId)
        .add(StunAttributes.OUTCOME, outcome(Outcome.FAILED, 10_000, 0))
        .addString(StunAttributes.REASON, "punch window elapsed"));

    assertThat(ok.is(StunMethods.RESULT, StunClass.SUCCESS_RESPONSE)).as("%s", ok).isTrue();
    assertThat(ok.verifyIntegritySha256(alice.key)).isTrue();
    assertThat(failed.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    Session s = introducer.sessions().get(HexFormat.of().formatHex(sessionId)).orElseThrow();
    PeerOutcome a = s.initiatorOutcome();
    assertThat(a.outcome()).isEqualTo(Outcome.CONNECTED_DIRECT);
    assertThat(a.strategy()).isEqualTo(Strategy.SIMULTANEOUS);
    assertThat(a.timeToConnectMillis()).isEqualTo(120);
    assertThat(a.rttMicros()).isEqualTo(3_500);
    assertThat(a.chosenRemote()).isEqualTo(bob.address());
    assertThat(a.reason()).isNull();
    PeerOutcome b = s.responderOutcome();
    assertThat(b.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(b.chosenRemote()).isNull();
    assertThat(b.reason()).isEqualTo("punch window elapsed");
    assertThat(s.state(Instant.now())).isEqualTo(SessionState.CONNECTED_DIRECT);
    assertThat(introducer.counters().results()).isEqualTo(2);
  }

  @Test
  void resultForAnUnknownSessionIs404() {
    alice.register();

    StunMessage response = alice.call(alice.request(StunMethods.RESULT)
        .add(StunAttributes.SESSION_ID, new byte[Rendezvous.SESSION_ID_LENGTH])
        .add(StunAttributes.OUTCOME, outcome(Outcome.FAILED, 0, 0)));

    assertError(response, 404, "unknown session");
    assertThat(response.verifyIntegritySha256(alice.key)).isTrue();
  }

  @Test
  void resultForSomeoneElsesSessionIs404() {
    alice.register();
    bob.register();
    byte[] sessionId = alice.connect("bob").get(StunAttributes.SESSION_ID);

    try (TestPeer carol = Fixtures.peer(introducer, "carol")) {
      StunMessage response = carol.call(carol.request(StunMethods.RESULT)
          .add(StunAttributes.SESSION_ID, sessionId)
          .add(StunAttributes.OUTCOME, outcome(Outcome.FAILED, 0, 0)));

      assertError(response, 404, "unknown session");
    }
  }

  @Test
  void resultWithAMalformedOutcomeIs400() {
    alice.register();

    StunMessage response = alice.call(alice.request(StunMethods.RESULT)
        .add(StunAttributes.SESSION_ID, new byte[Rendezvous.SESSION_ID_LENGTH])
        .add(StunAttributes.OUTCOME, new byte[] {9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));

    assertError(response, 400, "bad request: OUTCOME");
  }

  private static List<Candidate> candidates(StunMessage m) {
    return m.getAll(StunAttributes.CANDIDATE).stream().map(v -> Candidate.decode(v, m.transactionId())).toList();
  }

  static byte[] outcome(Outcome outcome, int timeToConnectMillis, int rttMicros) {
    return ByteBuffer.allocate(12).put((byte) outcome.code()).put((byte) Strategy.SIMULTANEOUS.code()).putShort((short) 0)
        .putInt(timeToConnectMillis).putInt(rttMicros).array();
  }

  /** Reads INTRODUCE copies sent before the ack, up to the answer of a Binding sent now. */
  private static void drainIntroduces(TestPeer peer, StunMessage introduce) {
    peer.send(StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).encode());
    for (int i = 0; i <= Introductions.TRANSMISSIONS; i++) {
      StunMessage m = peer.receive();
      if (m.method() == StunMethods.BINDING) {
        return;
      }
      assertThat(m.transactionId()).isEqualTo(introduce.transactionId());
    }
    fail("more INTRODUCE copies than transmissions");
  }
}
