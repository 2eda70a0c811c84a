package io.introducer.rendezvous;

import static io.introducer.rendezvous.Fixtures.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * No amplification, no reflection (docs/SECURITY.md): what one source, or anyone spoofing its address, can make the
 * node send it is bounded by 3 x the bytes it sent plus {@link RateLimits#ALLOWANCE_BYTES}, whatever it sends; and
 * the node sends nothing to an address that did not send to it first, except INTRODUCE and UPDATE to the address a
 * peer registered from. The attacker is on 127.0.0.2 (loopback not exempt); bytes back are counted on its socket
 * and on the second socket its RESPONSE-PORT requests name.
 */
@ExtendWith(VertxExtension.class)
class AmplificationTest {
  private static final int FACTOR = 3;
  private final List<TestPeer> sockets = new ArrayList<>();

  @AfterEach
  void close() {
    sockets.forEach(TestPeer::close);
  }

  private TestPeer socketAt(IntroducerVerticle introducer, String ip, String name) {
    TestPeer p = new TestPeer(new InetSocketAddress(ip, 0),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), introducer.actualPort()), Fixtures.APP, name,
        Fixtures.SECRET);
    sockets.add(p);
    return p;
  }

  /** Per-source packet rates off, so that only the amplification credit bounds the answers (factor 0: no bound). */
  private static JsonObject config(int factor) {
    return Fixtures.config().put("limits", new JsonObject().put("exemptLoopback", false).put("perSourcePerSecond", 0)
        .put("amplificationFactor", factor));
  }

  private record Totals(long in, long out) {
    double ratio() {
      return (double) out / in;
    }
  }

  /**
   * Sends {@code traffic} from a socket on 127.0.0.2 and counts the bytes that come back to it and to {@code portTarget}
   * (its second socket, named by RESPONSE-PORT).
   */
  private Totals attack(IntroducerVerticle introducer, TestPeer attacker, TestPeer portTarget, List<byte[]> traffic)
      throws Exception {
    long in = 0;
    long before = introducer.counters().packetsIn();
    // Read while sending, so that no answer is lost to a full receive buffer (that would flatter the node).
    CompletableFuture<List<byte[]>> toAttacker = CompletableFuture.supplyAsync(() -> attacker.drain(500));
    CompletableFuture<List<byte[]>> toPortTarget = CompletableFuture.supplyAsync(() -> portTarget.drain(500));
    for (int i = 0; i < traffic.size(); i++) {
      attacker.send(traffic.get(i));
      in += traffic.get(i).length;
      if (i % 100 == 99) { // in steps the smallest socket buffers hold: a datagram lost on the way would hang the count
        long sent = before + i + 1;
        eventually("read so far", () -> introducer.counters().packetsIn() >= sent);
      }
    }
    eventually("all read", () -> introducer.counters().packetsIn() == before + traffic.size());
    socketAt(introducer, "127.0.0.9", "sentinel").assertNothingReceivedBeforeBindingAnswer(); // all handled by now
    List<byte[]> back = new ArrayList<>(toAttacker.get(30, TimeUnit.SECONDS));
    back.addAll(toPortTarget.get(30, TimeUnit.SECONDS));
    back.addAll(attacker.drain(50));
    back.addAll(portTarget.drain(50));
    long out = 0;
    for (byte[] d : back) {
      out += d.length;
    }
    System.out.printf("%d datagrams, %d bytes in, %d bytes back: %.2f x%n", traffic.size(), in, out, (double) out / in);
    return new Totals(in, out);
  }

  private static List<byte[]> repeat(int n, java.util.function.Supplier<byte[]> datagram) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(datagram.get());
    }
    return out;
  }

  private static byte[] bareBinding() {
    return StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).encode();
  }

  /** Every kind of datagram a stranger can send: Bindings, malformed ones, unauthenticated REGISTERs, RFC 5780 tricks. */
  private static List<byte[]> mixedTraffic(int portTarget) {
    List<byte[]> t = new ArrayList<>();
    t.addAll(repeat(100, AmplificationTest::bareBinding));
    t.addAll(repeat(50, () -> StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).fingerprint().encode()));
    byte[] valid = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).fingerprint().encode();
    t.addAll(repeat(20, () -> Arrays.copyOf(valid, 12)));
    t.addAll(repeat(20, () -> {
      byte[] d = valid.clone();
      d[4] ^= 1;
      return d;
    }));
    t.addAll(repeat(20, () -> {
      byte[] d = valid.clone();
      d[d.length - 1] ^= 1;
      return d;
    }));
    t.addAll(repeat(20, () -> "GET / HTTP/1.1\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
    t.addAll(repeat(30, () -> unauthenticated("no-such-game", "alice", "x")));
    t.addAll(repeat(30, () -> unauthenticated(Fixtures.APP, "alice", "not-the-secret")));
    t.addAll(repeat(30, () -> StunMessage.builder(StunMethods.REGISTER, StunClass.REQUEST).encode())); // 400: no APP-ID
    t.addAll(repeat(30, () -> StunMessage.builder(StunMethods.CONNECT, StunClass.REQUEST)
        .add(0x7F01, new byte[4]).encode()));
    t.addAll(repeat(30, () -> change(Dispatcher.CHANGE_PORT)));
    t.addAll(repeat(30, () -> change(Dispatcher.CHANGE_IP))); // no IP2 here: 420
    t.addAll(repeat(30, () -> change(0x01))); // no flag this node knows: from the receiving socket
    t.addAll(repeat(30, () -> responsePort(portTarget, true)));
    t.addAll(repeat(30, () -> responsePort(portTarget, false))); // the answer would grow too much: 400 to the source
    t.addAll(repeat(30, () -> StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST)
        .add(StunAttributes.RESPONSE_PORT, new byte[] {0, 0, 0, 0}).encode())); // port 0: 400
    return t;
  }

  private static byte[] unauthenticated(String app, String peer, String secret) {
    return StunMessage.builder(StunMethods.REGISTER, StunClass.REQUEST)
        .addString(StunAttributes.APP_ID, app).addString(StunAttributes.PEER_ID, peer)
        .addU64(StunAttributes.TIMESTAMP, System.currentTimeMillis())
        .integritySha256(Rendezvous.peerKey(secret, app, peer)).fingerprint().encode();
  }

  private static byte[] change(int flags) {
    return StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST)
        .add(StunAttributes.CHANGE_REQUEST, new byte[] {0, 0, 0, (byte) flags}).encode();
  }

  private static byte[] responsePort(int port, boolean padded) {
    StunMessage.Builder b = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST)
        .add(StunAttributes.RESPONSE_PORT, new byte[] {(byte) (port >> 8), (byte) port, 0, 0});
    if (padded) {
      b.addString(StunAttributes.SOFTWARE, "x".repeat(64));
    }
    return b.encode();
  }

  @Test
  void bareBindingsAmplifyWithoutTheBound(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx, config(0));
    TestPeer attacker = socketAt(introducer, "127.0.0.2", "attacker");
    TestPeer portTarget = socketAt(introducer, "127.0.0.2", "port-target");

    Totals t = attack(introducer, attacker, portTarget, repeat(300, AmplificationTest::bareBinding));

    // Why the bound exists: a STUN Binding answer is about four times its request.
    assertThat(t.ratio()).isGreaterThan(FACTOR);
  }

  @Test
  void bareBindingsGetAtMostThreeTimesTheirBytesPlusTheAllowance(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx, config(FACTOR));
    TestPeer attacker = socketAt(introducer, "127.0.0.2", "attacker");
    TestPeer portTarget = socketAt(introducer, "127.0.0.2", "port-target");

    Totals t = attack(introducer, attacker, portTarget, repeat(300, AmplificationTest::bareBinding));

    assertThat(t.out()).isLessThanOrEqualTo(FACTOR * t.in() + RateLimits.ALLOWANCE_BYTES);
    assertThat(t.out()).as("answered as far as the credit goes").isGreaterThan(FACTOR * t.in() - 200);
    assertThat(introducer.counters().drops("amplification")).isPositive();
  }

  @Test
  void noMixOfStrangersTrafficGetsMoreThanTheBound(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx, config(FACTOR));
    TestPeer attacker = socketAt(introducer, "127.0.0.2", "attacker");
    TestPeer portTarget = socketAt(introducer, "127.0.0.2", "port-target");

    List<byte[]> traffic = mixedTraffic(portTarget.address().getPort());
    Totals t = attack(introducer, attacker, portTarget, traffic);

    assertThat(t.out()).isLessThanOrEqualTo(FACTOR * t.in() + RateLimits.ALLOWANCE_BYTES);
    assertThat(introducer.counters().drops("internal-error")).isZero();
  }

  @Test
  void withTheDefaultLimitsAFloodGetsFarLess(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx,
        Fixtures.config().put("limits", new JsonObject().put("exemptLoopback", false)));
    TestPeer attacker = socketAt(introducer, "127.0.0.2", "attacker");
    TestPeer portTarget = socketAt(introducer, "127.0.0.2", "port-target");

    List<byte[]> traffic = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      traffic.addAll(mixedTraffic(portTarget.address().getPort()));
    }
    Totals t = attack(introducer, attacker, portTarget, traffic);

    assertThat(t.out()).isLessThanOrEqualTo(FACTOR * t.in() + RateLimits.ALLOWANCE_BYTES);
    assertThat(introducer.counters().drops("rate-source")).isPositive();
  }

  @Test
  void responsePortNeverLeavesTheSourceIp(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx, config(FACTOR));
    TestPeer attacker = socketAt(introducer, "127.0.0.2", "attacker");
    TestPeer victim = socketAt(introducer, "127.0.0.3", "victim");

    // RESPONSE-PORT carries a port only: naming the victim's port sends to that port of the attacker's own IP.
    attacker.send(responsePort(victim.address().getPort(), true));
    attacker.send(responsePort(victim.address().getPort(), false));
    eventually("both read", () -> introducer.counters().packetsIn() == 2);
    socketAt(introducer, "127.0.0.9", "sentinel").assertNothingReceivedBeforeBindingAnswer();

    assertThat(victim.drain(100)).isEmpty();
  }

  @Test
  void introduceGoesOnlyToTheAddressTheRegisterCameFromNeverToAClaimedOne(Vertx vertx) throws Exception {
    IntroducerVerticle introducer = Fixtures.deploy(vertx, Fixtures.config());
    TestPeer victim = socketAt(introducer, "127.0.0.3", "victim");
    TestPeer alice = socketAt(introducer, "127.0.0.2", "alice");
    TestPeer bob = socketAt(introducer, "127.0.0.4", "bob");
    // Alice claims the victim's address as a host candidate and as a server-reflexive one.
    alice.register(new Candidate(Candidate.Kind.HOST, victim.address()),
        new Candidate(Candidate.Kind.SERVER_REFLEXIVE, victim.address()),
        new Candidate(Candidate.Kind.RELAYED, victim.address()));
    bob.register();

    StunMessage answer = bob.connect("alice");
    StunMessage introduce = alice.receiveMethod(StunMethods.INTRODUCE);

    assertThat(answer.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(introduce.verifyIntegritySha256(alice.key)).isTrue();
    assertThat(victim.drain(300)).as("the node never sends to a candidate, only to where the peer was seen").isEmpty();
    assertThat(introducer.registry().get(Fixtures.APP, "alice").orElseThrow().hostCandidates())
        .containsExactly(new Candidate(Candidate.Kind.HOST, victim.address()));
  }
}
