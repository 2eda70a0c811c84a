package io.introducer.client;

import static io.introducer.client.Peers.WAIT_SECONDS;
import static io.introducer.client.Peers.id;
import static io.introducer.client.Peers.incoming;
import static io.introducer.client.Peers.messages;
import static io.introducer.client.Peers.next;
import static io.introducer.client.Peers.take;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.introducer.client.testing.NatBehavior;
import io.introducer.client.testing.NatSimulator;
import io.introducer.client.transport.DatagramTransportFactory;
import io.introducer.protocol.rendezvous.PeerTokens;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Clients holding a peer token from their game's backend instead of the app secret (PROTOCOL.md section 3). */
class PeerTokenClientTest {
  private static TestIntroducer introducer;
  private final NatSimulator sim = new NatSimulator(23);
  private final List<IntroducerClient> clients = new ArrayList<>();

  @BeforeAll
  static void startIntroducer() throws Exception {
    introducer = new TestIntroducer();
  }

  @AfterAll
  static void stopIntroducer() throws Exception {
    introducer.stop();
  }

  @AfterEach
  void tearDown() {
    clients.forEach(IntroducerClient::close);
    sim.close();
  }

  private static String token(String peerId, Instant expiry) {
    return PeerTokens.mint(TestIntroducer.SECRET, TestIntroducer.APP, peerId, expiry.getEpochSecond());
  }

  private ClientConfig.Builder withToken(String peerId, String token, DatagramTransportFactory transports) {
    return ClientConfig.builder()
        .server(introducer.address().getHostString(), introducer.address().getPort())
        .appId(TestIntroducer.APP)
        .peerToken(token)
        .peerId(peerId)
        .transportFactory(transports)
        .requestTimeout(Duration.ofSeconds(3))
        .connectTimeout(Duration.ofSeconds(10));
  }

  private IntroducerClient start(ClientConfig.Builder b) throws Exception {
    IntroducerClient c = IntroducerClient.start(b.build()).get(WAIT_SECONDS, TimeUnit.SECONDS);
    clients.add(c);
    return c;
  }

  @Test
  void peersWithTokensRegisterConnectAndTalk() throws Exception {
    Instant inAnHour = Instant.now().plusSeconds(3600);
    String aId = id("a");
    String bId = id("b");
    IntroducerClient a = start(withToken(aId, token(aId, inAnHour), sim.addNat(NatBehavior.portRestrictedCone()).addHost()));
    IntroducerClient b = start(withToken(bId, token(bId, inAnHour), sim.addNat(NatBehavior.portRestrictedCone()).addHost()));
    BlockingQueue<PeerChannel> toB = incoming(b);

    PeerChannel ab = a.connect(bId).get(WAIT_SECONDS, TimeUnit.SECONDS);
    PeerChannel ba = take(toB);
    ab.send("hello".getBytes(StandardCharsets.UTF_8));

    assertThat(next(messages(ba))).isEqualTo("hello");
    assertThat(introducer.verticle().registry().get(TestIntroducer.APP, aId).orElseThrow().tokenExpiry())
        .isEqualTo(inAnHour.getEpochSecond());
  }

  @Test
  void anExpiredTokenIsRefusedAtRegistration() {
    String aId = id("a");
    ClientConfig config = withToken(aId, token(aId, Instant.now().minusSeconds(1)),
        sim.addNat(NatBehavior.fullCone()).addHost()).build();

    assertThatThrownBy(() -> IntroducerClient.start(config).get(WAIT_SECONDS, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasMessageContaining("token expired");
  }

  @Test
  void anotherPeersTokenIsRefused() {
    String aId = id("a");
    ClientConfig config = withToken(aId, token("someone-else", Instant.now().plusSeconds(3600)),
        sim.addNat(NatBehavior.fullCone()).addHost()).build();

    assertThatThrownBy(() -> IntroducerClient.start(config).get(WAIT_SECONDS, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasMessageContaining("bad integrity");
  }

  @Test
  void aTokenTakesThePlaceOfTheSecretNotBoth() {
    ClientConfig.Builder b = ClientConfig.builder().server("127.0.0.1", 3478).appId("game").peerId("a");

    assertThatThrownBy(() -> b.peerToken("not a token")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.peerToken(token("a", Instant.now().plusSeconds(60))).appSecret("s").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("either appSecret or peerKey");
  }
}
