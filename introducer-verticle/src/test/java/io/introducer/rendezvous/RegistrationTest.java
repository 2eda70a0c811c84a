package io.introducer.rendezvous;

import static io.introducer.rendezvous.Fixtures.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class RegistrationTest {
  private static final Candidate LAN = new Candidate(Candidate.Kind.HOST, new InetSocketAddress("10.0.0.7", 40000));
  private static final Candidate LAN6 = new Candidate(Candidate.Kind.HOST, new InetSocketAddress("fd00::7", 40001));

  private IntroducerVerticle introducer;
  private TestPeer alice;

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    introducer = Fixtures.deploy(vertx, Fixtures.config());
    alice = Fixtures.peer(introducer, "alice");
  }

  @AfterEach
  void close() {
    alice.close();
  }

  @Test
  void registerSucceedsSignedWithTheClientsServerReflexiveAddress() {
    StunMessage response = alice.register(LAN, LAN6);

    assertThat(response.method()).isEqualTo(StunMethods.REGISTER);
    assertThat(response.verifyIntegritySha256(alice.key)).isTrue();
    assertThat(response.hasFingerprint()).isTrue();
    assertThat(response.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(alice.address());
    assertThat(response.getU32(StunAttributes.REGISTRATION_LIFETIME)).isEqualTo(60);
    Registration r = introducer.registry().get(Fixtures.APP, "alice").orElseThrow();
    assertThat(r.serverReflexive()).isEqualTo(alice.address());
    assertThat(r.hostCandidates()).containsExactly(LAN, LAN6);
    assertThat(r.expiresAt()).isEqualTo(r.registeredAt().plusSeconds(60));
    assertThat(introducer.counters().registrations()).isEqualTo(1);
  }

  @Test
  void registerForAnUnknownAppIs401Unsigned() {
    try (TestPeer stranger = new TestPeer(introducer.actualPort(), "other-game", "bob", "whatever")) {
      StunMessage response = stranger.call(stranger.request(StunMethods.REGISTER));

      assertError(response, 401, "unknown app");
      assertThat(response.hasIntegritySha256()).isFalse();
    }
  }

  @Test
  void registerWithABadIntegrityIs401Unsigned() {
    try (TestPeer forger = new TestPeer(introducer.actualPort(), Fixtures.APP, "alice", "not-the-secret")) {
      StunMessage response = forger.call(forger.request(StunMethods.REGISTER));

      assertError(response, 401, "bad integrity");
      assertThat(response.hasIntegritySha256()).isFalse();
      assertThat(introducer.registry().size()).isZero();
    }
  }

  @Test
  void registerWithoutIntegrityIs401() {
    StunMessage.Builder b = alice.request(StunMethods.REGISTER).fingerprint();
    alice.send(b.encode());

    assertError(alice.receive(), 401, "bad integrity");
  }

  @Test
  void registerWithAStaleTimestampIs401Signed() {
    StunMessage.Builder b = StunMessage.builder(StunMethods.REGISTER, StunClass.REQUEST)
        .addString(StunAttributes.APP_ID, Fixtures.APP)
        .addString(StunAttributes.PEER_ID, "alice")
        .addU64(StunAttributes.TIMESTAMP, System.currentTimeMillis() - 31_000);
    StunMessage response = alice.call(b);

    assertError(response, 401, "stale timestamp");
    assertThat(response.verifyIntegritySha256(alice.key)).isTrue();
    assertThat(introducer.registry().size()).isZero();
  }

  @Test
  void registerWithoutPeerIdIs400() {
    StunMessage.Builder b = StunMessage.builder(StunMethods.REGISTER, StunClass.REQUEST)
        .addString(StunAttributes.APP_ID, Fixtures.APP)
        .addU64(StunAttributes.TIMESTAMP, System.currentTimeMillis());
    StunMessage response = alice.call(b);

    assertError(response, 400, "bad request: PEER-ID");
  }

  @Test
  void registerWithUnknownComprehensionRequiredAttributeIs420Signed() {
    StunMessage response = alice.call(alice.request(StunMethods.REGISTER).add(0x7F01, new byte[4]));

    assertError(response, 420, "unknown attribute");
    assertThat(response.get(StunAttributes.UNKNOWN_ATTRIBUTES)).containsExactly(0x7F, 0x01);
    assertThat(response.verifyIntegritySha256(alice.key)).isTrue();
    assertThat(introducer.registry().size()).isZero();
  }

  @Test
  void retransmittedRegisterGetsIdenticalBytesAndCountsOnce() throws Exception {
    byte[] request = alice.sign(alice.request(StunMethods.REGISTER));
    alice.send(request);
    byte[] first = alice.receiveRaw();
    alice.send(request);
    byte[] second = alice.receiveRaw();

    assertThat(second).isEqualTo(first);
    eventually("retransmission answered from cache", () -> introducer.counters().retransmissionsAnswered() == 1);
    assertThat(introducer.counters().registrations()).isEqualTo(1);
  }

  @Test
  void replayFromAnotherSourceIsDropped() throws Exception {
    byte[] request = alice.sign(alice.request(StunMethods.REGISTER));
    alice.send(request);
    alice.receive();

    try (TestPeer attacker = Fixtures.peer(introducer, "mallory")) {
      attacker.send(request);
      attacker.assertNothingReceivedBeforeBindingAnswer();
    }
    eventually("replay counted", () -> introducer.counters().drops("replay") == 1);
    assertThat(introducer.registry().get(Fixtures.APP, "alice").orElseThrow().serverReflexive())
        .isEqualTo(alice.address());
  }

  @Test
  void keepaliveRefreshesTheExpiryAndFollowsAChangedSource() throws Exception {
    alice.register(LAN);
    Registration before = introducer.registry().get(Fixtures.APP, "alice").orElseThrow();
    Thread.sleep(20); // let the clock move so that the new expiry is strictly later

    try (TestPeer rebound = Fixtures.peer(introducer, "alice")) { // same peer, new NAT mapping
      StunMessage response = rebound.call(rebound.request(StunMethods.KEEPALIVE));

      assertThat(response.is(StunMethods.KEEPALIVE, StunClass.SUCCESS_RESPONSE)).isTrue();
      assertThat(response.verifyIntegritySha256(rebound.key)).isTrue();
      assertThat(response.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(rebound.address());
      assertThat(response.getU32(StunAttributes.REGISTRATION_LIFETIME)).isEqualTo(60);
      Registration after = introducer.registry().get(Fixtures.APP, "alice").orElseThrow();
      assertThat(after.serverReflexive()).isEqualTo(rebound.address());
      assertThat(after.expiresAt()).isAfter(before.expiresAt());
      assertThat(after.registeredAt()).isEqualTo(before.registeredAt());
      assertThat(after.hostCandidates()).containsExactly(LAN);
    }
  }

  @Test
  void keepaliveWithoutRegistrationIs404() {
    StunMessage response = alice.call(alice.request(StunMethods.KEEPALIVE));

    assertError(response, 404, "not registered");
    assertThat(response.verifyIntegritySha256(alice.key)).isTrue();
  }

  @Test
  void registrationExpiresAfterItsLifetime(Vertx vertx) throws Exception {
    IntroducerVerticle shortLived = Fixtures.deploy(vertx, Fixtures.config().put("registrationLifetimeSeconds", 1));
    try (TestPeer bob = Fixtures.peer(shortLived, "bob")) {
      assertThat(bob.register().getU32(StunAttributes.REGISTRATION_LIFETIME)).isEqualTo(1);
      assertThat(shortLived.registry().size()).isEqualTo(1);

      eventually("registration swept", Duration.ofSeconds(10), () -> shortLived.registry().size() == 0);
      assertError(bob.call(bob.request(StunMethods.KEEPALIVE)), 404, "not registered");
    }
  }

  @Test
  void deregisterRemovesTheRegistration() {
    alice.register();

    StunMessage response = alice.call(alice.request(StunMethods.DEREGISTER));

    assertThat(response.is(StunMethods.DEREGISTER, StunClass.SUCCESS_RESPONSE)).isTrue();
    assertThat(response.verifyIntegritySha256(alice.key)).isTrue();
    assertThat(introducer.registry().get(Fixtures.APP, "alice")).isEmpty();
    assertThat(introducer.counters().deregistrations()).isEqualTo(1);
  }

  @Test
  void registerBeyondCapacityIs508ButReRegisteringStillWorks(Vertx vertx) throws Exception {
    IntroducerVerticle small = Fixtures.deploy(vertx, Fixtures.config().put("maxRegistrations", 1));
    try (TestPeer first = Fixtures.peer(small, "first"); TestPeer second = Fixtures.peer(small, "second")) {
      first.register();

      StunMessage refused = second.call(second.request(StunMethods.REGISTER));
      assertError(refused, 508, "insufficient capacity");
      assertThat(refused.verifyIntegritySha256(second.key)).isTrue();

      first.register();
      assertThat(small.registry().size()).isEqualTo(1);
    }
  }

  static void assertError(StunMessage response, int code, String reason) {
    assertThat(response.messageClass()).as("class of %s", response).isEqualTo(StunClass.ERROR_RESPONSE);
    assertThat(response.errorCode().code()).isEqualTo(code);
    assertThat(response.errorCode().reason()).isEqualTo(reason);
    assertThat(response.hasFingerprint()).isTrue();
  }
}
