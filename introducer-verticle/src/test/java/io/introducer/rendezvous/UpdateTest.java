package io.introducer.rendezvous;

import static io.introducer.rendezvous.Fixtures.eventually;
import static io.introducer.rendezvous.RegistrationTest.assertError;
import static io.introducer.rendezvous.TraversalTest.candidates;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** UPDATE: late candidates of one peer forwarded to the other (docs/PROTOCOL.md section 8). */
@ExtendWith(VertxExtension.class)
class UpdateTest {
  private static final Candidate RELAYED = new Candidate(Candidate.Kind.RELAYED, new InetSocketAddress("127.0.0.1", 50_123));
  private static final Candidate RELAYED6 = new Candidate(Candidate.Kind.RELAYED, new InetSocketAddress("2001:db8::5", 50_124));

  private IntroducerVerticle introducer;
  private TestPeer alice;
  private TestPeer bob;
  private byte[] sessionId;

  @BeforeEach
  void connect(Vertx vertx) throws Exception {
    introducer = Fixtures.deploy(vertx, Fixtures.config());
    alice = Fixtures.peer(introducer, "alice");
    bob = Fixtures.peer(introducer, "bob");
    alice.register();
    bob.register();
    sessionId = alice.connect("bob").get(StunAttributes.SESSION_ID);
    StunMessage introduce = bob.receive();
    bob.send(bob.sign(StunMessage.successFor(introduce).add(StunAttributes.SESSION_ID, sessionId)));
    eventually("introduce acknowledged", () -> introducer.pendingIntroductions() == 0);
    // INTRODUCE copies sent before the ack precede the answer to a Binding sent now.
    bob.send(StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).encode());
    for (StunMessage m = bob.receive(); m.method() != StunMethods.BINDING; m = bob.receive()) {
      assertThat(m.transactionId()).isEqualTo(introduce.transactionId());
    }
  }

  @AfterEach
  void close() {
    alice.close();
    bob.close();
  }

  private StunMessage.Builder update(TestPeer from, byte[] session, Candidate... candidates) {
    StunMessage.Builder b = from.request(StunMethods.UPDATE);
    if (session != null) {
      b.add(StunAttributes.SESSION_ID, session);
    }
    for (Candidate c : candidates) {
      b.add(StunAttributes.CANDIDATE, c.encode(b.transactionId()));
    }
    return b;
  }

  @Test
  void anUpdateIsAnsweredAndForwardedSignedForTheOtherPeer() throws Exception {
    StunMessage answer = alice.call(update(alice, sessionId, RELAYED, RELAYED6));
    StunMessage forwarded = bob.receiveMethod(StunMethods.UPDATE);

    assertThat(answer.is(StunMethods.UPDATE, StunClass.SUCCESS_RESPONSE)).as("%s", answer).isTrue();
    assertThat(answer.verifyIntegritySha256(alice.key)).isTrue();
    assertThat(forwarded.messageClass()).isEqualTo(StunClass.REQUEST);
    assertThat(forwarded.verifyIntegritySha256(bob.key)).isTrue();
    assertThat(forwarded.verifyIntegritySha256(alice.key)).isFalse();
    assertThat(forwarded.hasFingerprint()).isTrue();
    assertThat(forwarded.getString(StunAttributes.APP_ID)).isEqualTo(Fixtures.APP);
    assertThat(forwarded.getString(StunAttributes.PEER_ID)).isEqualTo("bob");
    assertThat(forwarded.getString(StunAttributes.TARGET_PEER_ID)).isEqualTo("alice");
    assertThat(forwarded.get(StunAttributes.SESSION_ID)).isEqualTo(sessionId);
    assertThat(Math.abs(forwarded.getU64(StunAttributes.TIMESTAMP) - System.currentTimeMillis())).isLessThan(30_000);
    assertThat(candidates(forwarded)).containsExactly(RELAYED, RELAYED6);
    assertThat(introducer.counters().updates()).isEqualTo(1);

    bob.send(bob.sign(StunMessage.successFor(forwarded)));

    eventually("update acknowledged", () -> introducer.counters().updatesAcked() == 1);
    assertThat(introducer.pendingIntroductions()).isZero();
  }

  @Test
  void aSessionGoneFromHistoryIsStillForwardedToTheOtherPeerTheUpdateNames() throws Exception {
    RelayRequestTest.forgetAllSessions(introducer);
    assertError(alice.call(update(alice, sessionId, RELAYED)), 404, "unknown session");

    StunMessage answer = alice.call(update(alice, sessionId, RELAYED).addString(StunAttributes.TARGET_PEER_ID, "bob"));
    StunMessage forwarded = bob.receiveMethod(StunMethods.UPDATE);

    assertThat(answer.is(StunMethods.UPDATE, StunClass.SUCCESS_RESPONSE)).as("%s", answer).isTrue();
    assertThat(answer.verifyIntegritySha256(alice.key)).isTrue();
    assertThat(forwarded.verifyIntegritySha256(bob.key)).isTrue();
    assertThat(forwarded.getString(StunAttributes.PEER_ID)).isEqualTo("bob");
    assertThat(forwarded.getString(StunAttributes.TARGET_PEER_ID)).isEqualTo("alice");
    assertThat(forwarded.get(StunAttributes.SESSION_ID)).isEqualTo(sessionId);
    assertThat(candidates(forwarded)).containsExactly(RELAYED);
    bob.send(bob.sign(StunMessage.successFor(forwarded)));
    eventually("update acknowledged", () -> introducer.counters().updatesAcked() == 1);
  }

  @Test
  void aSessionGoneFromHistoryIsNotForwardedToAnUnknownPeerOrAnotherApp(Vertx vertx) throws Exception {
    RelayRequestTest.forgetAllSessions(introducer);
    assertError(alice.call(update(alice, sessionId, RELAYED).addString(StunAttributes.TARGET_PEER_ID, "nobody")), 404,
        "unknown session");
    assertError(alice.call(update(alice, sessionId, RELAYED).addString(StunAttributes.TARGET_PEER_ID, "alice")), 404,
        "unknown session");

    IntroducerVerticle twoApps = Fixtures.deploy(vertx, Fixtures.config()
        .put("apps", new io.vertx.core.json.JsonArray()
            .add(new io.vertx.core.json.JsonObject().put("id", Fixtures.APP).put("secret", Fixtures.SECRET))
            .add(new io.vertx.core.json.JsonObject().put("id", "other-game").put("secret", "other-secret"))));
    try (TestPeer a = Fixtures.peer(twoApps, "alice");
        TestPeer dave = new TestPeer(twoApps.actualPort(), "other-game", "dave", "other-secret")) {
      a.register();
      dave.register();
      assertError(a.call(update(a, sessionId, RELAYED).addString(StunAttributes.TARGET_PEER_ID, "dave")), 404,
          "unknown session");
      assertError(dave.call(update(dave, sessionId, RELAYED).addString(StunAttributes.TARGET_PEER_ID, "alice")), 404,
          "unknown session");
      dave.assertNothingReceivedBeforeBindingAnswer();
      a.assertNothingReceivedBeforeBindingAnswer();
    }
    assertThat(introducer.counters().updates()).isZero();
    bob.assertNothingReceivedBeforeBindingAnswer();
  }

  @Test
  void aKnownSessionIgnoresTheTargetTheUpdateNames() throws Exception {
    try (TestPeer carol = Fixtures.peer(introducer, "carol")) {
      carol.register();
      assertError(carol.call(update(carol, sessionId, RELAYED).addString(StunAttributes.TARGET_PEER_ID, "bob")), 403,
          "not in session");
    }
    alice.call(update(alice, sessionId, RELAYED).addString(StunAttributes.TARGET_PEER_ID, "carol"));
    StunMessage forwarded = bob.receiveMethod(StunMethods.UPDATE);
    assertThat(forwarded.getString(StunAttributes.PEER_ID)).as("the session decides").isEqualTo("bob");
  }

  @Test
  void theResponderMayUpdateTheInitiator() {
    StunMessage answer = bob.call(update(bob, sessionId, RELAYED));
    StunMessage forwarded = alice.receiveMethod(StunMethods.UPDATE);

    assertThat(answer.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(forwarded.verifyIntegritySha256(alice.key)).isTrue();
    assertThat(forwarded.getString(StunAttributes.PEER_ID)).isEqualTo("alice");
    assertThat(forwarded.getString(StunAttributes.TARGET_PEER_ID)).isEqualTo("bob");
    assertThat(candidates(forwarded)).containsExactly(RELAYED);
  }

  @Test
  void anUnansweredUpdateIsSentFiveTimesWithTheSameBytesThenGivenUp() throws Exception {
    alice.call(update(alice, sessionId, RELAYED));

    byte[] first = bob.receiveRaw();
    for (int i = 2; i <= Introductions.TRANSMISSIONS; i++) {
      assertThat(bob.receiveRaw()).as("transmission %d", i).isEqualTo(first);
    }
    eventually("update given up", Duration.ofSeconds(10), () -> introducer.counters().updatesTimedOut() == 1);
    bob.assertNothingReceivedBeforeBindingAnswer();
    assertThat(introducer.pendingIntroductions()).isZero();
  }

  @Test
  void anAcknowledgementSignedWithAnotherKeyIsNotAccepted() throws Exception {
    alice.call(update(alice, sessionId, RELAYED));
    StunMessage forwarded = bob.receiveMethod(StunMethods.UPDATE);

    alice.send(alice.sign(StunMessage.successFor(forwarded)));

    eventually("forged ack dropped", () -> introducer.counters().drops("bad-integrity") == 1);
    assertThat(introducer.pendingIntroductions()).isEqualTo(1);
    assertThat(introducer.counters().updatesAcked()).isZero();
  }

  @Test
  void anAcknowledgementNamingAnotherSessionIsNotAccepted() throws Exception {
    alice.call(update(alice, sessionId, RELAYED));
    StunMessage forwarded = bob.receiveMethod(StunMethods.UPDATE);

    bob.send(bob.sign(StunMessage.successFor(forwarded).add(StunAttributes.SESSION_ID, new byte[16])));

    eventually("ack of another session dropped", () -> introducer.counters().drops("bad-session-id") == 1);
    assertThat(introducer.pendingIntroductions()).isEqualTo(1);
  }

  @Test
  void aRetransmittedUpdateIsAnsweredAgainButForwardedOnce() throws Exception {
    byte[] request = alice.sign(update(alice, sessionId, RELAYED));

    alice.send(request);
    byte[] first = alice.receiveRaw();
    alice.send(request);
    byte[] second = alice.receiveRaw();

    assertThat(second).isEqualTo(first);
    assertThat(introducer.counters().updatesForwarded()).isEqualTo(1);
    assertThat(introducer.counters().retransmissionsAnswered()).isEqualTo(1);
  }

  @Test
  void anUpdateForAnUnknownSessionIs404() {
    StunMessage response = alice.call(update(alice, new byte[Rendezvous.SESSION_ID_LENGTH], RELAYED));

    assertError(response, 404, "unknown session");
    assertThat(response.verifyIntegritySha256(alice.key)).isTrue();
  }

  @Test
  void anUpdateFromAPeerOutsideTheSessionIs403AndForwardsNothing() {
    try (TestPeer carol = Fixtures.peer(introducer, "carol")) {
      carol.register();

      StunMessage response = carol.call(update(carol, sessionId, RELAYED));

      assertError(response, 403, "not in session");
      assertThat(introducer.counters().updatesForwarded()).isZero();
      bob.assertNothingReceivedBeforeBindingAnswer();
    }
  }

  @Test
  void anUpdateFromAnotherAppsPeerOfTheSameNameIs404(Vertx vertx) throws Exception {
    IntroducerVerticle twoApps = Fixtures.deploy(vertx, Fixtures.config().put("apps", new io.vertx.core.json.JsonArray()
        .add(new io.vertx.core.json.JsonObject().put("id", Fixtures.APP).put("secret", Fixtures.SECRET))
        .add(new io.vertx.core.json.JsonObject().put("id", "other").put("secret", "other-secret"))));
    try (TestPeer a = Fixtures.peer(twoApps, "alice"); TestPeer b = Fixtures.peer(twoApps, "bob");
        TestPeer stranger = new TestPeer(twoApps.actualPort(), "other", "alice", "other-secret")) {
      a.register();
      b.register();
      byte[] session = a.connect("bob").get(StunAttributes.SESSION_ID);

      assertError(stranger.call(update(stranger, session, RELAYED)), 404, "unknown session");
    }
  }

  @Test
  void anUpdateWithoutCandidatesOrWithABadSessionIdIs400() {
    assertError(alice.call(update(alice, sessionId)), 400, "bad request: CANDIDATE");
    assertError(alice.call(update(alice, null, RELAYED)), 400, "bad request: SESSION-ID");
    assertError(alice.call(update(alice, new byte[5], RELAYED)), 400, "bad request: SESSION-ID");
  }

  @Test
  void anUpdateToAPeerThatIsNoLongerRegisteredIs404UnknownPeer() {
    assertThat(bob.call(bob.request(StunMethods.DEREGISTER)).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);

    assertError(alice.call(update(alice, sessionId, RELAYED)), 404, "unknown peer");
  }
}
