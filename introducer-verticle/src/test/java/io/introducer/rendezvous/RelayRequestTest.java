package io.introducer.rendezvous;

import static io.introducer.rendezvous.RegistrationTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** RELAY-REQUEST: credentials on another relay for a session whose relay was lost (docs/PROTOCOL.md section 8). */
@ExtendWith(VertxExtension.class)
class RelayRequestTest {
  private static final String REST_SECRET = "relay-rest-secret";
  private static final InetSocketAddress FIRST = new InetSocketAddress("127.0.0.1", 3479);
  private static final InetSocketAddress SECOND = new InetSocketAddress("127.0.0.2", 3479);

  /** Two relays: new sessions get the first; a replacement is the first one not excluded. */
  static final class TwoRelays implements RelaySelector {
    private final List<Relay> relays = List.of(new Relay(FIRST, REST_SECRET), new Relay(SECOND, REST_SECRET));

    @Override
    public Optional<Relay> select(String appId, Registration initiator, Registration responder) {
      return Optional.of(relays.get(0));
    }

    @Override
    public Optional<Relay> replacement(String appId, Registration initiator, Registration responder,
        Set<InetSocketAddress> excluded) {
      return relays.stream().filter(r -> !excluded.contains(r.address())).findFirst();
    }
  }

  private IntroducerVerticle introducer;
  private TestPeer alice;
  private TestPeer bob;
  private byte[] sessionId;

  @BeforeEach
  void connect(Vertx vertx) throws Exception {
    introducer = new IntroducerVerticle(new TwoRelays());
    vertx.deployVerticle(introducer, new DeploymentOptions().setConfig(Fixtures.config().put("relay",
        new io.vertx.core.json.JsonObject().put("address", "127.0.0.1:3479").put("restSecret", REST_SECRET)
            .put("credentialTtlSeconds", 600)))).await(10, TimeUnit.SECONDS);
    alice = Fixtures.peer(introducer, "alice");
    bob = Fixtures.peer(introducer, "bob");
    alice.register();
    bob.register();
    StunMessage answer = alice.connect("bob");
    assertThat(answer.getXorAddress(StunAttributes.RELAY_ADDRESS)).isEqualTo(FIRST);
    sessionId = answer.get(StunAttributes.SESSION_ID);
  }

  @AfterEach
  void close() {
    alice.close();
    bob.close();
  }

  private static StunMessage.Builder relayRequest(TestPeer from, byte[] session, InetSocketAddress... failed) {
    StunMessage.Builder b = from.request(StunMethods.RELAY_REQUEST);
    if (session != null) {
      b.add(StunAttributes.SESSION_ID, session);
    }
    for (InetSocketAddress a : failed) {
      b.addXorAddress(StunAttributes.RELAY_ADDRESS, a);
    }
    return b;
  }

  private static String turnRestPassword(String username) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA1");
    mac.init(new SecretKeySpec(REST_SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
    return Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
  }

  /**
   * A signed success for this session naming {@link #SECOND} and {@code peer}'s own TURN REST credentials (valid for
   * 600 s from {@code before}, epoch seconds), the password masked with its key.
   */
  private void assertCredentialsOnTheSecondRelay(TestPeer peer, StunMessage answer, long before) throws Exception {
    assertThat(answer.is(StunMethods.RELAY_REQUEST, StunClass.SUCCESS_RESPONSE)).as("%s", answer).isTrue();
    assertThat(answer.verifyIntegritySha256(peer.key)).isTrue();
    assertThat(answer.get(StunAttributes.SESSION_ID)).isEqualTo(sessionId);
    assertThat(answer.getXorAddress(StunAttributes.RELAY_ADDRESS)).isEqualTo(SECOND);
    String username = answer.getString(StunAttributes.RELAY_USERNAME);
    assertThat(username).endsWith(":" + peer.peerId);
    assertThat(Long.parseLong(username.substring(0, username.indexOf(':')))).isGreaterThanOrEqualTo(before + 600);
    String password = new String(Rendezvous.maskRelayPassword(answer.get(StunAttributes.RELAY_PASSWORD), peer.key,
        answer.transactionId()), StandardCharsets.UTF_8);
    assertThat(password).isEqualTo(turnRestPassword(username));
  }

  @Test
  void eitherPeerGetsCredentialsOfItsOwnOnARelayItDidNotName() throws Exception {
    for (TestPeer peer : List.of(alice, bob)) {
      long before = System.currentTimeMillis() / 1000;
      StunMessage answer = peer.call(relayRequest(peer, sessionId, FIRST));

      assertCredentialsOnTheSecondRelay(peer, answer, before);
    }
    assertThat(introducer.counters().relayRequests()).isEqualTo(2);
  }

  @Test
  void withoutARelayAddressTheSelectorsChoiceComesBack() {
    StunMessage answer = alice.call(relayRequest(alice, sessionId));
    assertThat(answer.getXorAddress(StunAttributes.RELAY_ADDRESS)).isEqualTo(FIRST);
  }

  @Test
  void noRelayLeftIs503() {
    StunMessage answer = alice.call(relayRequest(alice, sessionId, FIRST, SECOND));
    assertError(answer, 503, "no relay available");
    assertThat(answer.verifyIntegritySha256(alice.key)).isTrue();
  }

  @Test
  void unknownSessionsAndOutsidersAreRefused() {
    byte[] other = sessionId.clone();
    other[0] ^= 1;
    assertError(alice.call(relayRequest(alice, other, FIRST)), 404, "unknown session");
    assertError(alice.call(relayRequest(alice, null, FIRST)), 400, "bad request: SESSION-ID");
    try (TestPeer carol = Fixtures.peer(introducer, "carol")) {
      carol.register();
      assertError(carol.call(relayRequest(carol, sessionId, FIRST)), 403, "not in session");
    }
    assertThat(introducer.counters().relayRequests()).isZero();
  }

  /** As the sweeper does once a session is older than {@code sessionRetentionSeconds}. */
  static void forgetAllSessions(IntroducerVerticle introducer) {
    introducer.sessions().expire(java.time.Instant.now().plusSeconds(3600));
    assertThat(introducer.sessions().size()).isZero();
  }

  private static StunMessage.Builder withTarget(StunMessage.Builder b, String target) {
    return b.addString(StunAttributes.TARGET_PEER_ID, target);
  }

  @Test
  void aSessionGoneFromHistoryIsStillServedWhenTheRequestNamesTheOtherPeer() throws Exception {
    forgetAllSessions(introducer);
    assertError(alice.call(relayRequest(alice, sessionId, FIRST)), 404, "unknown session");

    for (TestPeer[] pair : new TestPeer[][] {{alice, bob}, {bob, alice}}) {
      TestPeer peer = pair[0];
      long before = System.currentTimeMillis() / 1000;
      StunMessage answer = peer.call(withTarget(relayRequest(peer, sessionId, FIRST), pair[1].peerId));

      assertCredentialsOnTheSecondRelay(peer, answer, before);
    }
    assertThat(introducer.counters().relayRequests()).isEqualTo(2);
  }

  @Test
  void aSessionGoneFromHistoryNamingNoRegisteredPeerOfTheAppIs404() {
    forgetAllSessions(introducer);
    assertError(alice.call(withTarget(relayRequest(alice, sessionId, FIRST), "nobody")), 404, "unknown session");
    assertError(alice.call(withTarget(relayRequest(alice, sessionId, FIRST), "alice")), 404, "unknown session");
    bob.call(bob.request(StunMethods.DEREGISTER));
    assertError(alice.call(withTarget(relayRequest(alice, sessionId, FIRST), "bob")), 404, "unknown session");
    assertThat(introducer.counters().relayRequests()).isZero();
  }

  @Test
  void anotherAppsPeersAreNotReachableThroughASessionGoneFromHistory(Vertx vertx) throws Exception {
    IntroducerVerticle twoApps = new IntroducerVerticle(new TwoRelays());
    vertx.deployVerticle(twoApps, new DeploymentOptions().setConfig(Fixtures.config()
        .put("apps", new io.vertx.core.json.JsonArray()
            .add(new io.vertx.core.json.JsonObject().put("id", Fixtures.APP).put("secret", Fixtures.SECRET))
            .add(new io.vertx.core.json.JsonObject().put("id", "other-game").put("secret", "other-secret")))))
        .await(10, TimeUnit.SECONDS);
    try (TestPeer a = Fixtures.peer(twoApps, "alice"); TestPeer b = Fixtures.peer(twoApps, "bob");
        TestPeer dave = new TestPeer(twoApps.actualPort(), "other-game", "dave", "other-secret")) {
      a.register();
      b.register();
      dave.register();
      byte[] session = a.connect("bob").get(StunAttributes.SESSION_ID);
      forgetAllSessions(twoApps);
      assertError(a.call(withTarget(relayRequest(a, session, FIRST), "dave")), 404, "unknown session");
      assertError(dave.call(withTarget(relayRequest(dave, session, FIRST), "bob")), 404, "unknown session");
      assertThat(a.call(withTarget(relayRequest(a, session, FIRST), "bob")).messageClass())
          .isEqualTo(StunClass.SUCCESS_RESPONSE);
    }
  }

  @Test
  void aKnownSessionIsCheckedAsBeforeWhateverTheRequestNames() {
    try (TestPeer carol = Fixtures.peer(introducer, "carol")) {
      carol.register();
      assertError(carol.call(withTarget(relayRequest(carol, sessionId, FIRST), "bob")), 403, "not in session");
      assertError(carol.call(withTarget(relayRequest(carol, sessionId, FIRST), "alice")), 403, "not in session");
    }
    assertThat(introducer.counters().relayRequests()).isZero();
  }

  @Test
  void aRenewalAvoidsTheRelayItNamesWhenThereIsAnother() {
    StunMessage answer = alice.call(relayRequest(alice, sessionId, FIRST).add(StunAttributes.RENEWAL, new byte[0]));
    assertThat(answer.getXorAddress(StunAttributes.RELAY_ADDRESS)).isEqualTo(SECOND);
    answer = alice.call(relayRequest(alice, sessionId, FIRST, SECOND).add(StunAttributes.RENEWAL, new byte[0]));
    assertThat(answer.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(answer.getXorAddress(StunAttributes.RELAY_ADDRESS)).as("no other: the same again").isEqualTo(FIRST);
  }

  @Test
  void aFixedRelayIsNoReplacementForItself(Vertx vertx) throws Exception {
    IntroducerVerticle fixed = Fixtures.deploy(vertx, Fixtures.config().put("relay",
        new io.vertx.core.json.JsonObject().put("address", "127.0.0.1:3479").put("restSecret", REST_SECRET)));
    try (TestPeer a = Fixtures.peer(fixed, "alice"); TestPeer b = Fixtures.peer(fixed, "bob")) {
      a.register();
      b.register();
      byte[] session = a.connect("bob").get(StunAttributes.SESSION_ID);
      assertError(a.call(relayRequest(a, session, FIRST)), 503, "no relay available");
      assertThat(a.call(relayRequest(a, session, SECOND)).getXorAddress(StunAttributes.RELAY_ADDRESS)).isEqualTo(FIRST);
      StunMessage renewed = a.call(relayRequest(a, session, FIRST).add(StunAttributes.RENEWAL, new byte[0]));
      assertThat(renewed.getXorAddress(StunAttributes.RELAY_ADDRESS)).as("a renewal may keep its relay").isEqualTo(FIRST);
    }
  }
}
