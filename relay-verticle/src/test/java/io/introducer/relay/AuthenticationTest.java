package io.introducer.relay;

import static io.introducer.relay.RelayFixture.ALICE;
import static io.introducer.relay.RelayFixture.ALICE_PASSWORD;
import static io.introducer.relay.RelayFixture.BOB;
import static io.introducer.relay.RelayFixture.BOB_PASSWORD;
import static io.introducer.relay.RelayFixture.REALM;
import static io.introducer.relay.RelayFixture.REST_SECRET;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.LongTermCredentials;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Long-term credentials on the relay (RFC 8489 9.2, RFC 8656 section 5), over real UDP on loopback. */
class AuthenticationTest {
  private static Vertx vertx;
  private RelayFixture relay;

  @BeforeAll
  static void vertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void closeVertx() throws Exception {
    RelayFixture.await(vertx.close());
  }

  @AfterEach
  void stop() throws Exception {
    if (relay != null) {
      relay.close();
    }
  }

  @Test
  void allocateWithoutIntegrityIsChallengedWith401RealmAndNonceOnly() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    try (TurnClient c = relay.client()) {
      StunMessage r = c.challenge(StunMethods.ALLOCATE);

      assertThat(r.messageClass()).isEqualTo(StunClass.ERROR_RESPONSE);
      assertThat(r.errorCode().code()).isEqualTo(401);
      assertThat(r.getString(StunAttributes.REALM)).isEqualTo(REALM);
      assertThat(r.getString(StunAttributes.NONCE)).isNotBlank();
      assertThat(r.attributeTypes()).containsExactly(
          StunAttributes.ERROR_CODE, StunAttributes.REALM, StunAttributes.NONCE, StunAttributes.FINGERPRINT);
      assertThat(relay.allocations()).isEmpty();
    }
  }

  @Test
  void allocateWithCredentialsAfterTheChallengeSucceedsAndIsSigned() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    try (TurnClient c = relay.client()) {
      StunMessage r = c.allocate(ALICE, ALICE_PASSWORD);

      assertThat(r.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
      assertThat(r.verifyIntegrity(LongTermCredentials.md5Key(ALICE, REALM, ALICE_PASSWORD))).isTrue();
      assertThat(r.hasFingerprint()).isTrue();
      assertThat(r.getXorAddress(StunAttributes.XOR_RELAYED_ADDRESS)).isNotNull();
      assertThat(r.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(c.localAddress());
      assertThat(r.getU32(StunAttributes.LIFETIME)).isEqualTo(600);
      assertThat(relay.allocations()).singleElement().satisfies(a -> assertThat(a.username()).isEqualTo(ALICE));
    }
  }

  @Test
  void wrongPasswordIsRefused401WithRealmAndNonce() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    try (TurnClient c = relay.client()) {
      StunMessage r = c.allocate(ALICE, "not-the-password");

      assertThat(r.errorCode().code()).isEqualTo(401);
      assertThat(r.hasIntegrity()).isFalse();
      assertThat(r.getString(StunAttributes.REALM)).isEqualTo(REALM);
      assertThat(r.getString(StunAttributes.NONCE)).isNotBlank();
      assertThat(relay.counters().authFailures()).isEqualTo(1);
      assertThat(relay.allocations()).isEmpty();
    }
  }

  @Test
  void unknownUserIsRefused401() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    try (TurnClient c = relay.client()) {
      assertThat(c.allocate("mallory", "guess").errorCode().code()).isEqualTo(401);
      assertThat(relay.counters().authFailures()).isEqualTo(1);
    }
  }

  @Test
  void integrityWithoutUsernameIsRefused400() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    try (TurnClient c = relay.client()) {
      c.challenge(StunMethods.ALLOCATE);
      c.credentials(ALICE, ALICE_PASSWORD, REALM);
      byte[] noUser = StunMessage.builder(StunMethods.ALLOCATE, StunClass.REQUEST)
          .add(StunAttributes.REQUESTED_TRANSPORT, new byte[] {17, 0, 0, 0})
          .addString(StunAttributes.REALM, REALM)
          .addString(StunAttributes.NONCE, c.nonce)
          .integrity(c.key).fingerprint().encode();

      assertThat(c.exchange(noUser).errorCode().code()).isEqualTo(400);
    }
  }

  @Test
  void staleNonceIsAnswered438WithAFreshNonceThatThenWorks() throws Exception {
    MutableClock clock = new MutableClock();
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("nonceLifetimeSeconds", 60), clock);
    try (TurnClient c = relay.client()) {
      c.challenge(StunMethods.ALLOCATE);
      String old = c.nonce;
      c.credentials(ALICE, ALICE_PASSWORD, REALM);
      clock.advance(Duration.ofSeconds(61));

      StunMessage stale = c.allocateNow(b -> { });
      assertThat(stale.errorCode().code()).isEqualTo(438);
      assertThat(stale.getString(StunAttributes.REALM)).isEqualTo(REALM);
      String fresh = stale.getString(StunAttributes.NONCE);
      assertThat(fresh).isNotBlank().isNotEqualTo(old);

      c.nonce = fresh;
      assertThat(c.allocateNow(b -> { }).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
      assertThat(relay.counters().authFailures()).isZero();
    }
  }

  @Test
  void forgedNonceIsAnswered438() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    try (TurnClient c = relay.client()) {
      c.challenge(StunMethods.ALLOCATE);
      c.credentials(ALICE, ALICE_PASSWORD, REALM);
      c.nonce = "0000000000000000" + "00".repeat(12);

      assertThat(c.allocateNow(b -> { }).errorCode().code()).isEqualTo(438);
    }
  }

  @Test
  void validRestCredentialsAreAccepted() throws Exception {
    MutableClock clock = new MutableClock();
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig(), clock);
    TurnRestCredentials.Credentials creds = TurnRestCredentials.mint(REST_SECRET, "peer-7", Duration.ofMinutes(10), clock);
    try (TurnClient c = relay.client()) {
      StunMessage r = c.allocate(creds.username(), creds.password());

      assertThat(r.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
      assertThat(relay.allocations()).singleElement()
          .satisfies(a -> assertThat(a.username()).isEqualTo(creds.username()).endsWith(":peer-7"));
    }
  }

  @Test
  void expiredRestCredentialsAreRefused401() throws Exception {
    MutableClock clock = new MutableClock();
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig(), clock);
    TurnRestCredentials.Credentials creds = TurnRestCredentials.mint(REST_SECRET, "peer-7", Duration.ofMinutes(10), clock);
    clock.advance(Duration.ofMinutes(11));
    try (TurnClient c = relay.client()) {
      StunMessage r = c.allocate(creds.username(), creds.password());

      assertThat(r.errorCode().code()).isEqualTo(401);
      assertThat(r.errorCode().reason()).contains("expired");
      assertThat(relay.counters().authFailures()).isEqualTo(1);
    }
  }

  @Test
  void restCredentialsMintedWithAnotherSecretAreRefused401() throws Exception {
    MutableClock clock = new MutableClock();
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig(), clock);
    TurnRestCredentials.Credentials creds = TurnRestCredentials.mint("other-secret", "peer-7", Duration.ofMinutes(10), clock);
    try (TurnClient c = relay.client()) {
      assertThat(c.allocate(creds.username(), creds.password()).errorCode().code()).isEqualTo(401);
    }
  }

  @Test
  void messageIntegritySha256KeyedWithTheLongTermKeyIsAcceptedAndMirrored() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    try (TurnClient c = relay.client()) {
      c.challenge(StunMethods.ALLOCATE);
      c.credentials(ALICE, ALICE_PASSWORD, REALM);
      byte[] req = c.withCredentials(StunMessage.builder(StunMethods.ALLOCATE, StunClass.REQUEST)
              .add(StunAttributes.REQUESTED_TRANSPORT, new byte[] {17, 0, 0, 0}))
          .integritySha256(c.key).fingerprint().encode();

      StunMessage r = c.exchange(req);
      assertThat(r.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
      assertThat(r.verifyIntegritySha256(c.key)).isTrue();
      assertThat(r.hasIntegrity()).isFalse();
    }
  }

  @Test
  void requestOnAnotherUsersAllocationIsRefused441() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    try (TurnClient c = relay.client().allocated(ALICE, ALICE_PASSWORD)) {
      c.credentials(BOB, BOB_PASSWORD, REALM);

      StunMessage r = c.refresh(600);
      assertThat(r.errorCode().code()).isEqualTo(441);
      assertThat(r.verifyIntegrity(c.key)).isTrue();
    }
  }

  @Test
  void freshRestCredentialsOfTheSameUserTakeOverTheAllocation() throws Exception {
    MutableClock clock = new MutableClock();
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("nonceLifetimeSeconds", 3600), clock);
    TurnRestCredentials.Credentials first = TurnRestCredentials.mint(REST_SECRET, "peer-7", Duration.ofMinutes(10), clock);
    TurnRestCredentials.Credentials fresh = TurnRestCredentials.mint(REST_SECRET, "peer-7", Duration.ofMinutes(20), clock);
    try (TurnClient c = relay.client().allocated(first.username(), first.password())) {
      c.credentials(fresh.username(), fresh.password(), REALM);

      StunMessage r = c.refresh(600);
      assertThat(r.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
      assertThat(r.verifyIntegrity(c.key)).as("signed under the fresh credentials").isTrue();
      assertThat(relay.allocations()).singleElement()
          .satisfies(a -> assertThat(a.username()).isEqualTo(fresh.username()));
      assertThat(relay.counters().credentialRollovers()).isEqualTo(1);

      // The allocation is under the fresh credentials now: the old ones no longer speak for it.
      c.credentials(first.username(), first.password(), REALM);
      assertThat(c.refresh(600).errorCode().code()).isEqualTo(441);
      // And the old ones running out does not matter to it.
      c.credentials(fresh.username(), fresh.password(), REALM);
      clock.advance(Duration.ofMinutes(6));
      assertThat(c.refresh(600).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
      clock.advance(Duration.ofMinutes(6));
      assertThat(c.refresh(600).messageClass()).as("after the first credentials expired")
          .isEqualTo(StunClass.SUCCESS_RESPONSE);
      assertThat(relay.counters().credentialRollovers()).isEqualTo(1);
    }
  }

  @Test
  void withRolloverOffFreshCredentialsGet441AsRfc8656Says() throws Exception {
    MutableClock clock = new MutableClock();
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("credentialRollover", false), clock);
    TurnRestCredentials.Credentials first = TurnRestCredentials.mint(REST_SECRET, "peer-7", Duration.ofMinutes(10), clock);
    TurnRestCredentials.Credentials fresh = TurnRestCredentials.mint(REST_SECRET, "peer-7", Duration.ofMinutes(20), clock);
    try (TurnClient c = relay.client().allocated(first.username(), first.password())) {
      c.credentials(fresh.username(), fresh.password(), REALM);
      assertThat(c.refresh(600).errorCode().code()).isEqualTo(441);
      assertThat(relay.allocations()).singleElement()
          .satisfies(a -> assertThat(a.username()).isEqualTo(first.username()));
      assertThat(relay.counters().credentialRollovers()).isZero();
    }
  }

  @Test
  void restCredentialsOfAnotherUserOrAnEarlierExpiryOrAStaticUserAreRefused441() throws Exception {
    MutableClock clock = new MutableClock();
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig(), clock);
    TurnRestCredentials.Credentials mine = TurnRestCredentials.mint(REST_SECRET, "peer-7", Duration.ofMinutes(10), clock);
    TurnRestCredentials.Credentials other = TurnRestCredentials.mint(REST_SECRET, "peer-8", Duration.ofMinutes(20), clock);
    TurnRestCredentials.Credentials earlier = TurnRestCredentials.mint(REST_SECRET, "peer-7", Duration.ofMinutes(5), clock);
    try (TurnClient c = relay.client().allocated(mine.username(), mine.password())) {
      for (TurnRestCredentials.Credentials refused : List.of(other, earlier)) {
        c.credentials(refused.username(), refused.password(), REALM);
        assertThat(c.refresh(600).errorCode().code()).as(refused.username()).isEqualTo(441);
      }
      c.credentials(ALICE, ALICE_PASSWORD, REALM);
      assertThat(c.refresh(600).errorCode().code()).isEqualTo(441);
    }
    // A static user's allocation is never taken over by REST credentials, whatever its name.
    try (TurnClient c = relay.client().allocated(ALICE, ALICE_PASSWORD)) {
      c.credentials(mine.username(), mine.password(), REALM);
      assertThat(c.refresh(600).errorCode().code()).isEqualTo(441);
    }
    assertThat(relay.allocations()).extracting(AllocationInfo::username)
        .containsExactlyInAnyOrder(mine.username(), ALICE);
    assertThat(relay.counters().credentialRollovers()).isZero();
  }

  @Test
  void unauthenticatedRequestsBeyondTheRateAreDroppedAndCounted() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("unauthRatePerSecond", 5));
    try (TurnClient c = relay.client()) {
      int sent = 40;
      for (int i = 0; i < sent; i++) {
        c.sendRaw(StunMessage.builder(StunMethods.ALLOCATE, StunClass.REQUEST)
            .add(StunAttributes.REQUESTED_TRANSPORT, new byte[] {17, 0, 0, 0}).encode());
      }
      assertThat(RelayFixture.eventually(Duration.ofSeconds(5),
          () -> relay.counters().errors(401) + relay.counters().drops("unauth-rate") == sent)).isTrue();
      // A burst of one second's worth: at most 5, plus what trickled in while sending.
      assertThat(relay.counters().errors(401)).isBetween(5L, 10L);
      int answers = 0;
      while (c.receive(Duration.ofMillis(200)) != null && answers <= sent) {
        answers++;
      }
      assertThat((long) answers).isEqualTo(relay.counters().errors(401));
    }
  }

  @Test
  void authenticatedRequestsAreNotRateLimited() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("unauthRatePerSecond", 1));
    try (TurnClient c = relay.client().allocated(ALICE, ALICE_PASSWORD)) {
      List<Long> lifetimes = new java.util.ArrayList<>();
      for (int i = 0; i < 10; i++) {
        lifetimes.add(c.refresh(600).getU32(StunAttributes.LIFETIME));
      }
      assertThat(lifetimes).hasSize(10).containsOnly(600L);
      assertThat(relay.counters().drops("unauth-rate")).isZero();
    }
  }
}
