package io.introducer.rendezvous;

import static io.introducer.rendezvous.Fixtures.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.rendezvous.DiscoveryPartners.Partner;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * RFC 5780 with another node as the second IP (docs/PROTOCOL.md section 6): two clustered introducers in one Vert.x,
 * on 127.0.0.1 and 127.0.0.2, neither with an {@code alternateHost}, sharing a member list and the published
 * introducers as the node's cluster state would.
 */
@ExtendWith(VertxExtension.class)
class PartnerDiscoveryTest {
  /** The member list (in join order) and the published introducers, as Hazelcast holds them for the node. */
  static final class FakeCluster {
    final List<String> members = new CopyOnWriteArrayList<>();
    final Map<String, Partner> published = new ConcurrentHashMap<>();
    final Map<String, Consumer<Partner>> watchers = new ConcurrentHashMap<>();

    DiscoveryPartners node(String id) {
      members.add(id);
      return new DiscoveryPartners() {
        @Override
        public void join(Partner self, Consumer<Partner> changes) {
          published.put(id, self);
          watchers.put(id, changes);
          changes.accept(null);
          repick();
        }

        @Override
        public void leave() {
          published.remove(id);
          watchers.remove(id);
          members.remove(id);
          repick();
        }
      };
    }

    synchronized void repick() {
      watchers.forEach((id, w) -> w.accept(DiscoveryPartners.pick(members, published.get(id), published)));
    }
  }

  private final FakeCluster cluster = new FakeCluster();
  private IntroducerVerticle node1;
  private IntroducerVerticle node2;
  private String node2Deployment;
  private TestPeer client;
  private InetSocketAddress n1p1;
  private InetSocketAddress n1p2;
  private InetSocketAddress n2p1;
  private InetSocketAddress n2p2;

  private IntroducerVerticle deploy(Vertx vertx, String id, String host, JsonObject tweaks, String[] deployment)
      throws Exception {
    IntroducerVerticle v = new IntroducerVerticle(new IntroducerVerticle.Cluster(id, null, null, cluster.node(id)));
    JsonObject config = Fixtures.config().put("host", host).mergeIn(tweaks);
    deployment[0] = vertx.deployVerticle(v, new DeploymentOptions().setConfig(config)).await(10, TimeUnit.SECONDS);
    return v;
  }

  private void deployBoth(Vertx vertx, JsonObject tweaks) throws Exception {
    String[] ids = new String[1];
    node1 = deploy(vertx, "n1", "127.0.0.1", tweaks, ids);
    node2 = deploy(vertx, "n2", "127.0.0.2", tweaks, ids);
    node2Deployment = ids[0];
    client = Fixtures.peer(node1, "client");
    n1p1 = new InetSocketAddress("127.0.0.1", node1.actualPort());
    n1p2 = new InetSocketAddress("127.0.0.1", node1.alternatePort());
    n2p1 = new InetSocketAddress("127.0.0.2", node2.actualPort());
    n2p2 = new InetSocketAddress("127.0.0.2", node2.alternatePort());
    eventually("each node took the other as its second IP",
        () -> node1.discoveryPartner() != null && node2.discoveryPartner() != null);
  }

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    deployBoth(vertx, new JsonObject());
  }

  @AfterEach
  void close() {
    if (client != null) {
      client.close();
    }
  }

  private static StunMessage.Builder binding() {
    return StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST);
  }

  private static byte[] change(boolean ip, boolean port) {
    return new byte[] {0, 0, 0, (byte) ((ip ? 4 : 0) | (port ? 2 : 0))};
  }

  private TestPeer.Received ask(StunMessage.Builder request, InetSocketAddress to) {
    client.sendTo(request.encode(), to);
    TestPeer.Received r = client.receiveFrom();
    assertThat(r.message().transactionId()).isEqualTo(request.transactionId());
    return r;
  }

  @Test
  void eachNodeIsTheOthersPartner() {
    assertThat(node1.discoveryPartner()).isEqualTo(new Partner("n2", n2p1, n2p2.getPort()));
    assertThat(node2.discoveryPartner()).isEqualTo(new Partner("n1", n1p1, n1p2.getPort()));
  }

  @Test
  void otherAddressNamesThePartnersAlternateAddressOnTheFastAndTheGeneralPath() {
    // A bare Binding takes the fast path; one with SOFTWARE the general one (Dispatcher).
    StunMessage fast = ask(binding(), n1p1).message();
    StunMessage general = ask(binding().addString(StunAttributes.SOFTWARE, "test"), n1p1).message();
    StunMessage viaP2 = ask(binding(), n1p2).message();

    assertThat(fast.getAddress(StunAttributes.OTHER_ADDRESS)).as("IP1:P1 names IP2:P2").isEqualTo(n2p2);
    assertThat(general.getAddress(StunAttributes.OTHER_ADDRESS)).isEqualTo(n2p2);
    assertThat(viaP2.getAddress(StunAttributes.OTHER_ADDRESS)).as("IP1:P2 names IP2:P1").isEqualTo(n2p1);
    assertThat(fast.getAddress(StunAttributes.RESPONSE_ORIGIN)).isEqualTo(n1p1);
  }

  @Test
  void changeIpAndPortIsAnsweredFromThePartnersAlternatePort() {
    StunMessage.Builder request = binding().add(StunAttributes.CHANGE_REQUEST, change(true, true)).fingerprint();
    TestPeer.Received r = ask(request, n1p1);

    assertThat(r.message().messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(r.source()).as("sent by node 2 from IP2:P2").isEqualTo(n2p2);
    assertThat(r.message().getAddress(StunAttributes.RESPONSE_ORIGIN)).isEqualTo(n2p2);
    assertThat(r.message().getAddress(StunAttributes.OTHER_ADDRESS)).as("of the receiving socket").isEqualTo(n2p2);
    assertThat(r.message().getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).as("as node 1 saw it")
        .isEqualTo(client.address());
    assertThat(r.message().hasFingerprint()).isTrue();
    assertThat(node1.counters().changeRequests()).isEqualTo(1);
    assertThat(node1.counters().changeForwards()).isEqualTo(1);
    assertThat(node2.counters().changeAnswersForPartners()).isEqualTo(1);
    assertThat(node2.counters().changeForwards()).isZero();
  }

  @Test
  void changeIpOnlyIsAnsweredFromThePartnersPrimaryAndFromP2FromItsAlternate() {
    TestPeer.Received fromP1 = ask(binding().add(StunAttributes.CHANGE_REQUEST, change(true, false)), n1p1);
    TestPeer.Received fromP2 = ask(binding().add(StunAttributes.CHANGE_REQUEST, change(true, false)), n1p2);
    TestPeer.Received bothFromP2 = ask(binding().add(StunAttributes.CHANGE_REQUEST, change(true, true)), n1p2);
    TestPeer.Received portOnly = ask(binding().add(StunAttributes.CHANGE_REQUEST, change(false, true)), n1p1);

    assertThat(fromP1.source()).isEqualTo(n2p1);
    assertThat(fromP1.message().getAddress(StunAttributes.RESPONSE_ORIGIN)).isEqualTo(n2p1);
    assertThat(fromP2.source()).isEqualTo(n2p2);
    assertThat(fromP2.message().getAddress(StunAttributes.OTHER_ADDRESS)).isEqualTo(n2p1);
    assertThat(bothFromP2.source()).isEqualTo(n2p1);
    assertThat(portOnly.source()).as("change port stays on this node").isEqualTo(n1p2);
    assertThat(node1.counters().changeForwards()).isEqualTo(3);
    assertThat(node2.counters().changeAnswersForPartners()).isEqualTo(3);
  }

  @Test
  void whenThePartnerLeavesOtherAddressFallsBackToTheAlternatePortAndChangeIpIs420(Vertx vertx) throws Exception {
    vertx.undeploy(node2Deployment).await(10, TimeUnit.SECONDS);
    eventually("node 1 dropped its partner", () -> node1.discoveryPartner() == null);

    StunMessage plain = ask(binding(), n1p1).message();
    TestPeer.Received refused = ask(binding().add(StunAttributes.CHANGE_REQUEST, change(true, true)), n1p1);

    assertThat(plain.getAddress(StunAttributes.OTHER_ADDRESS)).isEqualTo(n1p2);
    assertThat(refused.message().messageClass()).isEqualTo(StunClass.ERROR_RESPONSE);
    assertThat(refused.message().errorCode().code()).isEqualTo(420);
    assertThat(refused.message().unknownAttributes()).containsExactly(StunAttributes.CHANGE_REQUEST);
    assertThat(refused.source()).isEqualTo(n1p1);
  }

  @Test
  void aNodeWithItsOwnSecondIpKeepsItAndStillServesAsAPartner(Vertx vertx) throws Exception {
    String[] id = new String[1];
    IntroducerVerticle own = deploy(vertx, "n3", "127.0.0.3",
        new JsonObject().put("alternateHost", "127.0.0.4"), id);
    InetSocketAddress ownP1 = new InetSocketAddress("127.0.0.3", own.actualPort());
    InetSocketAddress ownIp2P2 = new InetSocketAddress("127.0.0.4", own.alternatePort());

    TestPeer.Received r = ask(binding().add(StunAttributes.CHANGE_REQUEST, change(true, true)), ownP1);

    assertThat(r.source()).isEqualTo(ownIp2P2);
    assertThat(r.message().getAddress(StunAttributes.OTHER_ADDRESS)).isEqualTo(ownIp2P2);
    assertThat(own.counters().changeForwards()).isZero();
    // Members n1, n2, n3: n2's partner is now n3, n3's own alternateHost stays its IP2.
    eventually("node 2 moved on to node 3", () -> node2.discoveryPartner() != null
        && node2.discoveryPartner().nodeId().equals("n3"));
    TestPeer.Received viaN2 = ask(binding().add(StunAttributes.CHANGE_REQUEST, change(true, false)), n2p1);
    assertThat(viaN2.source()).as("node 3's primary answers for node 2").isEqualTo(ownP1);
    assertThat(own.counters().changeAnswersForPartners()).isEqualTo(1);
  }

  @Test
  void aForwardedAnswerIsPaidForOnTheReceivingNode(Vertx vertx) throws Exception {
    // Fresh nodes that charge loopback sources, with a credit of one byte per byte received.
    vertx.undeploy(node2Deployment).await(10, TimeUnit.SECONDS);
    client.close();
    JsonObject strict = new JsonObject().put("limits",
        new JsonObject().put("exemptLoopback", false).put("amplificationFactor", 1));
    IntroducerVerticle a = deploy(vertx, "a", "127.0.0.5", strict, new String[1]);
    IntroducerVerticle b = deploy(vertx, "b", "127.0.0.6", strict, new String[1]);
    eventually("a took b", () -> a.discoveryPartner() != null && a.discoveryPartner().nodeId().equals("b"));
    client = Fixtures.peer(a, "client");
    InetSocketAddress aP1 = new InetSocketAddress("127.0.0.5", a.actualPort());
    int requests = 60;
    int requestBytes = 0;
    for (int i = 0; i < requests; i++) {
      byte[] request = binding().add(StunAttributes.CHANGE_REQUEST, change(true, true)).encode();
      requestBytes += request.length;
      client.sendTo(request, aP1);
    }
    List<byte[]> answers = client.drain(500);
    int answerBytes = answers.stream().mapToInt(x -> x.length).sum();
    System.out.printf("[partner] %d change-IP requests (%d bytes) to node a: %d answered by node b (%d bytes),"
        + " %d refused for credit on node a%n", requests, requestBytes, answers.size(), answerBytes,
        a.counters().drops("amplification"));

    assertThat(a.counters().drops("amplification")).as("answers beyond the credit not forwarded").isPositive();
    assertThat(answers).hasSize((int) a.counters().changeForwards());
    assertThat(b.counters().changeAnswersForPartners()).isEqualTo(a.counters().changeForwards());
    assertThat(answerBytes).as("bytes to the source <= credit received + allowance")
        .isLessThanOrEqualTo(requestBytes + RateLimits.ALLOWANCE_BYTES);
  }
}
