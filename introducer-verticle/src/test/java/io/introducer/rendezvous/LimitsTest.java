package io.introducer.rendezvous;

import static io.introducer.rendezvous.Fixtures.eventually;
import static io.introducer.rendezvous.RegistrationTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The introducer's rate limits over real UDP (docs/SECURITY.md). Sources on distinct loopback addresses
 * (127.0.0.2, ...) stand for distinct hosts; loopback is not exempt here. Every burst is sent well within a second,
 * and each bound allows for the tokens that elapsed time may add, so that a slow machine cannot fail them.
 */
@ExtendWith(VertxExtension.class)
class LimitsTest {
  private final List<TestPeer> peers = new ArrayList<>();

  @AfterEach
  void close() {
    peers.forEach(TestPeer::close);
  }

  static JsonObject limited(JsonObject limits) {
    return Fixtures.config().put("limits", limits.put("exemptLoopback", false));
  }

  /** A peer of the test app on its own socket at {@code ip}. */
  TestPeer peerAt(IntroducerVerticle introducer, String ip, String peerId, String secret) {
    TestPeer p = new TestPeer(new InetSocketAddress(ip, 0),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), introducer.actualPort()), Fixtures.APP, peerId, secret);
    peers.add(p);
    return p;
  }

  TestPeer peerAt(IntroducerVerticle introducer, String ip, String peerId) {
    return peerAt(introducer, ip, peerId, Fixtures.SECRET);
  }

  static byte[] binding(boolean plain) {
    StunMessage.Builder b = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST);
    return plain ? b.encode() : b.addString(StunAttributes.SOFTWARE, "flood").fingerprint().encode();
  }

  static StunMessage decode(byte[] datagram) {
    try {
      return StunMessage.decode(datagram);
    } catch (StunParseException e) {
      throw new AssertionError(e);
    }
  }

  /** Tokens a bucket of {@code perSecond} may have gained since {@code startNanos}. */
  static int refilled(long startNanos, int perSecond) {
    return (int) Math.ceil((System.nanoTime() - startNanos) / 1e9 * perSecond);
  }

  @Test
  void aFloodFromOneSourceIsCutToItsBurstWhileOtherSourcesAreServed(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx, limited(new JsonObject()
        .put("perSourcePerSecond", 1).put("perSourceBurst", 5).put("amplificationFactor", 0)));
    TestPeer flooder = peerAt(introducer, "127.0.0.2", "flooder");
    TestPeer other = peerAt(introducer, "127.0.0.3", "other");

    long start = System.nanoTime();
    for (int i = 0; i < 40; i++) {
      flooder.send(binding(i % 2 == 0)); // the Binding fast path and the general path alike
    }
    eventually("flood read", () -> introducer.counters().packetsIn() == 40);
    other.assertNothingReceivedBeforeBindingAnswer(); // served, and everything before it handled
    int answered = flooder.drain(200).size();

    assertThat(answered).isBetween(5, 5 + refilled(start, 1));
    assertThat(introducer.counters().drops("rate-source")).isEqualTo(40 - answered);
  }

  @Test
  void newSourcesBeyondTheTableAreDroppedWhileKnownOnesAreServed(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx, limited(new JsonObject().put("maxSources", 1)));
    TestPeer known = peerAt(introducer, "127.0.0.2", "known");
    TestPeer stranger = peerAt(introducer, "127.0.0.3", "stranger");
    known.assertNothingReceivedBeforeBindingAnswer();

    stranger.send(binding(false));
    eventually("dropped as table-full", () -> introducer.counters().drops("table-full") == 1);

    known.assertNothingReceivedBeforeBindingAnswer();
    assertThat(stranger.drain(100)).isEmpty();
  }

  @Test
  void requestsBeyondTheirAppsRateAreDroppedBeforeTheirIntegrityIsChecked(Vertx vertx) throws Exception {
    JsonObject config = limited(new JsonObject().put("perSourcePerSecond", 0).put("amplificationFactor", 0)
        .put("perAppPerSecond", 1).put("perAppBurst", 3));
    config.getJsonArray("apps").add(new JsonObject().put("id", "other-game").put("secret", "other-secret"));
    IntroducerVerticle introducer = Fixtures.deploy(vertx, config);
    TestPeer forger = peerAt(introducer, "127.0.0.2", "alice", "not-the-secret");

    long start = System.nanoTime();
    for (int i = 0; i < 10; i++) {
      forger.send(forger.sign(forger.request(StunMethods.REGISTER)));
    }
    eventually("all read", () -> introducer.counters().packetsIn() == 10);
    peerAt(introducer, "127.0.0.3", "sentinel").assertNothingReceivedBeforeBindingAnswer(); // all handled by now
    List<byte[]> answers = forger.drain(100);

    // Only the requests the app's bucket let through reached the HMAC check: each of those, and nothing else, is a 401.
    assertThat(answers.size()).isBetween(3, 3 + refilled(start, 1));
    answers.forEach(a -> assertError(decode(a), 401, "bad integrity"));
    assertThat(introducer.counters().errors()).containsEntry(401, (long) answers.size());
    assertThat(introducer.counters().drops("rate-app")).isEqualTo(10 - answers.size());
    try (TestPeer elsewhere = new TestPeer(introducer.actualPort(), "other-game", "bob", "other-secret")) {
      assertThat(elsewhere.register().messageClass()).as("another app is unaffected")
          .isEqualTo(StunClass.SUCCESS_RESPONSE);
    }
  }

  @Test
  void aConnectFloodForOneTargetIntroducesItAtMostAtItsRate(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx, limited(new JsonObject()
        .put("introducesPerTargetPerSecond", 1).put("introducesPerTargetBurst", 3)));
    TestPeer alice = peerAt(introducer, "127.0.0.2", "alice");
    TestPeer bob = peerAt(introducer, "127.0.0.3", "bob");
    TestPeer carol = peerAt(introducer, "127.0.0.4", "carol");
    alice.register();
    bob.register();
    carol.register();

    long start = System.nanoTime();
    int introduced = 0;
    for (int i = 0; i < 10; i++) {
      StunMessage answer = alice.connect("bob");
      if (answer.messageClass() == StunClass.SUCCESS_RESPONSE) {
        introduced++;
      } else {
        assertError(answer, 508, "target busy");
        assertThat(answer.verifyIntegritySha256(alice.key)).isTrue();
      }
    }
    Set<String> introduces = new HashSet<>();
    for (byte[] d : bob.drain(150)) {
      StunMessage m = decode(d);
      assertThat(m.method()).isEqualTo(StunMethods.INTRODUCE);
      introduces.add(java.util.HexFormat.of().formatHex(m.transactionId()));
    }

    assertThat(introduced).isBetween(3, 3 + refilled(start, 1));
    assertThat(introduces).as("distinct INTRODUCE transactions bob got").hasSize(introduced);
    assertThat(introducer.counters().introductions()).isEqualTo(introduced);
    assertThat(introducer.counters().drops("rate-target")).isEqualTo(10 - introduced);
    assertThat(alice.connect("carol").messageClass()).as("other targets are unaffected")
        .isEqualTo(StunClass.SUCCESS_RESPONSE);
  }

  @Test
  void loopbackSourcesAreExemptByDefault(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx, Fixtures.config().put("limits", new JsonObject()
        .put("perSourcePerSecond", 1).put("perSourceBurst", 1)));
    TestPeer local = peerAt(introducer, "127.0.0.2", "local");

    for (int i = 0; i < 20; i++) {
      local.send(binding(i % 2 == 0));
    }
    eventually("all read", () -> introducer.counters().packetsIn() == 20);
    peerAt(introducer, "127.0.0.3", "sentinel").assertNothingReceivedBeforeBindingAnswer();

    assertThat(local.drain(100)).hasSize(20);
    assertThat(introducer.counters().drops()).isEmpty();
  }
}
