package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.protocol.rendezvous.Strategy;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** TURN REST credentials in CONNECT success and INTRODUCE (docs/PROTOCOL.md section 8). */
@ExtendWith(VertxExtension.class)
class RelayCredentialsTest {
  private static final String REST_SECRET = "relay-rest-secret";
  private static final InetSocketAddress RELAY = new InetSocketAddress("127.0.0.1", 3479);

  private static JsonObject withRelay(int ttl) {
    return Fixtures.config().put("relay", new JsonObject().put("address", "127.0.0.1:3479")
        .put("restSecret", REST_SECRET).put("credentialTtlSeconds", ttl));
  }

  /** base64(HMAC-SHA1(secret, username)), computed here with the JDK, independently of the code under test. */
  private static String turnRestPassword(String secret, String username) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA1");
    mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
    return Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
  }

  private static String unmask(StunMessage m, byte[] key) {
    return new String(Rendezvous.maskRelayPassword(m.get(StunAttributes.RELAY_PASSWORD), key, m.transactionId()),
        StandardCharsets.UTF_8);
  }

  @Test
  void connectAndIntroduceCarryCredentialsOfTheirOwnRecipient(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx, withRelay(600));
    try (TestPeer alice = Fixtures.peer(introducer, "alice"); TestPeer bob = Fixtures.peer(introducer, "bob")) {
      alice.register();
      bob.register();
      long before = System.currentTimeMillis() / 1000;

      StunMessage answer = alice.connect("bob");
      StunMessage introduce = bob.receive();
      long after = System.currentTimeMillis() / 1000;

      for (Object[] check : new Object[][] {{answer, alice, "alice"}, {introduce, bob, "bob"}}) {
        StunMessage m = (StunMessage) check[0];
        TestPeer peer = (TestPeer) check[1];
        assertThat(m.getXorAddress(StunAttributes.RELAY_ADDRESS)).isEqualTo(RELAY);
        String username = m.getString(StunAttributes.RELAY_USERNAME);
        assertThat(username).endsWith(":" + check[2]);
        long expiry = Long.parseLong(username.substring(0, username.indexOf(':')));
        assertThat(expiry).isBetween(before + 600, after + 600);
        assertThat(m.get(StunAttributes.RELAY_PASSWORD)).hasSize(28);
        assertThat(unmask(m, peer.key)).as("unmasked by %s", check[2]).isEqualTo(turnRestPassword(REST_SECRET, username));
        assertThat(m.verifyIntegritySha256(peer.key)).isTrue();
      }
      assertThat(unmask(answer, bob.key)).as("alice's password under bob's key")
          .isNotEqualTo(turnRestPassword(REST_SECRET, answer.getString(StunAttributes.RELAY_USERNAME)));
      assertThat(unmask(introduce, alice.key)).as("bob's password under alice's key")
          .isNotEqualTo(turnRestPassword(REST_SECRET, introduce.getString(StunAttributes.RELAY_USERNAME)));
      assertThat(new String(answer.get(StunAttributes.RELAY_PASSWORD), StandardCharsets.ISO_8859_1))
          .as("the password does not travel in clear").isNotEqualTo(unmask(answer, alice.key));
    }
  }

  @Test
  void twoRandomPeersGetTheRelayStrategyWhenARelayIsKnown(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx, withRelay(3600));
    try (TestPeer alice = Fixtures.peer(introducer, "alice"); TestPeer bob = Fixtures.peer(introducer, "bob")) {
      alice.register(TraversalTest.RANDOM);
      bob.register(TraversalTest.SEQUENTIAL);

      StunMessage answer = alice.connect("bob");
      StunMessage introduce = bob.receive();

      assertThat(answer.get(StunAttributes.STRATEGY)).containsExactly(Strategy.RELAY.code(), 0, 0, 0);
      assertThat(introduce.get(StunAttributes.STRATEGY)).containsExactly(Strategy.RELAY.code(), 0, 0, 0);
      assertThat(answer.getXorAddress(StunAttributes.RELAY_ADDRESS)).isEqualTo(RELAY);
      assertThat(introduce.getString(StunAttributes.RELAY_USERNAME)).endsWith(":bob");
    }
  }

  @Test
  void withoutARelayNoRelayAttributesAreSent(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx, Fixtures.config());
    try (TestPeer alice = Fixtures.peer(introducer, "alice"); TestPeer bob = Fixtures.peer(introducer, "bob")) {
      alice.register();
      bob.register();

      StunMessage answer = alice.connect("bob");
      StunMessage introduce = bob.receive();

      for (StunMessage m : List.of(answer, introduce)) {
        assertThat(m.has(StunAttributes.RELAY_ADDRESS) || m.has(StunAttributes.RELAY_USERNAME)
            || m.has(StunAttributes.RELAY_PASSWORD)).as("%s", m).isFalse();
      }
    }
  }

  @Test
  void aPluggedInRelaySelectorChoosesTheRelayPerSession(Vertx vertx) throws Exception {
    List<String> asked = new CopyOnWriteArrayList<>();
    InetSocketAddress chosen = new InetSocketAddress("127.0.0.9", 3999);
    RelaySelector byLoad = (appId, initiator, responder) -> {
      asked.add(appId + ":" + initiator.peerId() + "->" + responder.peerId());
      return Optional.of(new RelaySelector.Relay(chosen, "cluster-secret"));
    };
    IntroducerVerticle introducer = new IntroducerVerticle(byLoad);
    vertx.deployVerticle(introducer, new DeploymentOptions().setConfig(withRelay(3600))).await(10, TimeUnit.SECONDS);
    try (TestPeer alice = Fixtures.peer(introducer, "alice"); TestPeer bob = Fixtures.peer(introducer, "bob")) {
      alice.register();
      bob.register();

      StunMessage answer = alice.connect("bob");

      assertThat(asked).containsExactly(Fixtures.APP + ":alice->bob");
      assertThat(answer.getXorAddress(StunAttributes.RELAY_ADDRESS)).isEqualTo(chosen);
      String username = answer.getString(StunAttributes.RELAY_USERNAME);
      assertThat(unmask(answer, alice.key)).isEqualTo(turnRestPassword("cluster-secret", username));
    }
  }

  @Test
  void aRetransmittedConnectGetsTheSameCredentialsBack(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx, withRelay(3600));
    try (TestPeer alice = Fixtures.peer(introducer, "alice"); TestPeer bob = Fixtures.peer(introducer, "bob")) {
      alice.register();
      bob.register();
      byte[] connect = alice.sign(alice.request(StunMethods.CONNECT).addString(StunAttributes.TARGET_PEER_ID, "bob"));

      alice.send(connect);
      byte[] first = alice.receiveRaw();
      alice.send(connect);
      byte[] second = alice.receiveRaw();

      assertThat(second).isEqualTo(first);
      assertThat(introducer.counters().connects()).isEqualTo(1);
    }
  }
}
