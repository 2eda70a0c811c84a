package io.introducer.rendezvous;

import static io.introducer.rendezvous.RegistrationTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.PeerTokens;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Peer tokens (docs/PROTOCOL.md section 3): a client holding one can sign as its own peer id only, until it expires. */
@ExtendWith(VertxExtension.class)
class PeerTokenTest {
  /** An app whose clients must use tokens. */
  static final String STRICT_APP = "strict-game";
  static final String STRICT_SECRET = "strict-secret";

  private IntroducerVerticle introducer;
  private final java.util.List<TestPeer> peers = new java.util.ArrayList<>();

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    JsonObject config = Fixtures.config();
    config.getJsonArray("apps").add(new JsonObject().put("id", STRICT_APP).put("secret", STRICT_SECRET)
        .put("requireTokens", true));
    introducer = Fixtures.deploy(vertx, config);
  }

  @AfterEach
  void close() {
    peers.forEach(TestPeer::close);
  }

  private TestPeer tokenPeer(String app, String secret, String peerId, long expiry) {
    TestPeer p = TestPeer.withToken(introducer.actualPort(), app, peerId, PeerTokens.mint(secret, app, peerId, expiry));
    peers.add(p);
    return p;
  }

  private static long inAnHour() {
    return Instant.now().getEpochSecond() + 3600;
  }

  @Test
  void aPeerWithATokenRegistersAndIsAnsweredUnderTheTokensKey() {
    TestPeer alice = tokenPeer(Fixtures.APP, Fixtures.SECRET, "alice", inAnHour());

    StunMessage response = alice.register();

    assertThat(response.verifyIntegritySha256(alice.key)).isTrue();
    assertThat(response.verifyIntegritySha256(Rendezvous.peerKey(Fixtures.SECRET, Fixtures.APP, "alice"))).isFalse();
    assertThat(introducer.registry().get(Fixtures.APP, "alice").orElseThrow().tokenExpiry())
        .isEqualTo(alice.tokenExpiry);
  }

  @Test
  void introduceToATokenHolderIsSignedWithItsTokenKeyAndItsSessionKeyMaskedWithIt() {
    TestPeer alice = tokenPeer(Fixtures.APP, Fixtures.SECRET, "alice", inAnHour());
    TestPeer bob = Fixtures.peer(introducer, "bob");
    peers.add(bob);
    alice.register();
    bob.register();

    StunMessage answer = bob.connect("alice");
    StunMessage introduce = alice.receiveMethod(StunMethods.INTRODUCE);

    assertThat(answer.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(introduce.verifyIntegritySha256(alice.key)).isTrue();
    byte[] sessionId = answer.get(StunAttributes.SESSION_ID);
    byte[] bobsKey = Rendezvous.maskSessionKey(answer.get(StunAttributes.SESSION_KEY), bob.key, answer.transactionId(),
        sessionId);
    byte[] alicesKey = Rendezvous.maskSessionKey(introduce.get(StunAttributes.SESSION_KEY), alice.key,
        introduce.transactionId(), sessionId);
    assertThat(alicesKey).isEqualTo(bobsKey);
  }

  @Test
  void anExpiredTokenIs401TokenExpiredSignedSoTheClientCanTrustIt() {
    TestPeer alice = tokenPeer(Fixtures.APP, Fixtures.SECRET, "alice", Instant.now().getEpochSecond() - 1);

    StunMessage response = alice.call(alice.request(StunMethods.REGISTER));

    assertError(response, 401, "token expired");
    assertThat(response.verifyIntegritySha256(alice.key)).isTrue();
    assertThat(introducer.registry().size()).isZero();
  }

  @Test
  void aTokenOfOnePeerCannotSignAsAnother() {
    String bobsToken = PeerTokens.mint(Fixtures.SECRET, Fixtures.APP, "bob", inAnHour());
    PeerTokens.Token t = PeerTokens.parse(bobsToken);
    TestPeer mallory = new TestPeer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), introducer.actualPort()), Fixtures.APP, "alice",
        t.key(), t.expiryEpochSeconds());
    peers.add(mallory);

    StunMessage response = mallory.call(mallory.request(StunMethods.REGISTER));

    assertError(response, 401, "bad integrity");
    assertThat(response.hasIntegritySha256()).isFalse();
    assertThat(introducer.registry().size()).isZero();
  }

  @Test
  void aTokenWhoseExpiryWasPushedBackIsRefused() {
    long expiry = Instant.now().getEpochSecond() - 10;
    PeerTokens.Token expired = PeerTokens.parse(PeerTokens.mint(Fixtures.SECRET, Fixtures.APP, "alice", expiry));
    TestPeer cheat = new TestPeer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), introducer.actualPort()), Fixtures.APP, "alice",
        expired.key(), inAnHour());
    peers.add(cheat);

    assertError(cheat.call(cheat.request(StunMethods.REGISTER)), 401, "bad integrity");
  }

  @Test
  void aMalformedTokenExpiryIs400() {
    TestPeer alice = Fixtures.peer(introducer, "alice");
    peers.add(alice);

    StunMessage response = alice.call(alice.request(StunMethods.REGISTER).add(StunAttributes.TOKEN_EXPIRY, new byte[4]));

    assertError(response, 400, "bad request: TOKEN-EXPIRY");
  }

  @Test
  void anAppThatRequiresTokensRefusesThePeerKey() {
    TestPeer plain = new TestPeer(introducer.actualPort(), STRICT_APP, "alice", STRICT_SECRET);
    peers.add(plain);

    StunMessage response = plain.call(plain.request(StunMethods.REGISTER));

    assertError(response, 401, "token required");
    assertThat(response.hasIntegritySha256()).isFalse();
    assertThat(tokenPeer(STRICT_APP, STRICT_SECRET, "alice", inAnHour()).register().messageClass())
        .isEqualTo(StunClass.SUCCESS_RESPONSE);
  }

  @Test
  void appsThatDoNotRequireTokensTakeBoth() {
    TestPeer plain = Fixtures.peer(introducer, "alice");
    peers.add(plain);

    assertThat(plain.register().messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(tokenPeer(Fixtures.APP, Fixtures.SECRET, "bob", inAnHour()).register().messageClass())
        .isEqualTo(StunClass.SUCCESS_RESPONSE);
  }

  @Test
  void aKeepaliveWithARenewedTokenMovesMessagesToTheNewKey() {
    long first = inAnHour();
    TestPeer alice = tokenPeer(Fixtures.APP, Fixtures.SECRET, "alice", first);
    TestPeer bob = Fixtures.peer(introducer, "bob");
    peers.add(bob);
    alice.register();
    bob.register();
    TestPeer renewed = tokenPeer(Fixtures.APP, Fixtures.SECRET, "alice", first + 600);

    assertThat(renewed.call(renewed.request(StunMethods.KEEPALIVE)).messageClass())
        .isEqualTo(StunClass.SUCCESS_RESPONSE);
    bob.connect("alice");
    StunMessage introduce = renewed.receiveMethod(StunMethods.INTRODUCE);

    assertThat(introduce.verifyIntegritySha256(renewed.key)).isTrue();
    assertThat(introduce.verifyIntegritySha256(alice.key)).isFalse();
    assertThat(introducer.registry().get(Fixtures.APP, "alice").orElseThrow().tokenExpiry()).isEqualTo(first + 600);
  }

  @Test
  void theTokenExpiryTravelsWithTheRegistrationBetweenNodes() {
    Registration r = new Registration(Fixtures.APP, "alice", new InetSocketAddress("192.0.2.1", 1), java.util.List.of(),
        Instant.ofEpochMilli(1000), Instant.ofEpochMilli(2000)).withTokenExpiry(1_900_000_000L);

    Registration back = RecordCodec.decodeRegistration(RecordCodec.encode(r));

    assertThat(back).isEqualTo(r);
    assertThat(back.key(Fixtures.SECRET)).isEqualTo(PeerTokens.key(Fixtures.SECRET, Fixtures.APP, "alice", 1_900_000_000L));
    assertThat(RecordCodec.encode(r.withTokenExpiry(0)).containsKey("tokenExpiry")).isFalse();
  }
}
