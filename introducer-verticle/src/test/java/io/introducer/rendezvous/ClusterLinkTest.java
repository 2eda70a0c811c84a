package io.introducer.rendezvous;

import static io.introducer.rendezvous.Fixtures.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.rendezvous.impl.SharedRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two introducer nodes sharing a registry and an event bus (one Vert.x here; the node module runs the same across
 * JVMs over Hazelcast): a peer registered with node 1 is introduced to a peer registered with node 2, and node 2,
 * the only one the second peer's NAT would let in, sends the INTRODUCE.
 */
@ExtendWith(VertxExtension.class)
class ClusterLinkTest {
  /** A shared store as a ReplicatedMap would be, without time-to-live. */
  static final class MapStore implements SharedRegistry.Store {
    final Map<String, String> map = new ConcurrentHashMap<>();

    @Override
    public String get(String key) {
      return map.get(key);
    }

    @Override
    public void put(String key, String value, Duration timeToLive) {
      map.put(key, value);
    }

    @Override
    public void remove(String key) {
      map.remove(key);
    }

    @Override
    public Collection<String> values() {
      return List.copyOf(map.values());
    }
  }

  private final MapStore store = new MapStore();
  private IntroducerVerticle node1;
  private IntroducerVerticle node2;
  private TestPeer alice;
  private TestPeer bob;

  private IntroducerVerticle deploy(Vertx vertx, String nodeId) throws Exception {
    SharedRegistry registry = new SharedRegistry(store, nodeId, Duration.ofSeconds(60), Clock.systemUTC());
    IntroducerVerticle v = new IntroducerVerticle(new IntroducerVerticle.Cluster(nodeId, registry, null));
    vertx.deployVerticle(v, new DeploymentOptions().setConfig(Fixtures.config().put("alternatePort", -1)))
        .await(10, TimeUnit.SECONDS);
    return v;
  }

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    node1 = deploy(vertx, "n1");
    node2 = deploy(vertx, "n2");
    alice = Fixtures.peer(node1, "alice");
    bob = Fixtures.peer(node2, "bob");
  }

  @AfterEach
  void close() {
    alice.close();
    bob.close();
  }

  @Test
  void aPeerOnOneNodeIsIntroducedToAPeerOnAnotherByTheOwningNode() throws Exception {
    assertThat(alice.register().messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(bob.register().messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(node1.registry().get(Fixtures.APP, "bob").orElseThrow().owner()).isEqualTo("n2");

    StunMessage connected = alice.connect("bob");
    assertThat(connected.messageClass()).as("%s", connected).isEqualTo(StunClass.SUCCESS_RESPONSE);

    TestPeer.Received introduce = bob.receiveFrom();
    assertThat(introduce.message().is(StunMethods.INTRODUCE, StunClass.REQUEST)).isTrue();
    assertThat(introduce.source()).as("sent from the node bob registered with")
        .isEqualTo(new InetSocketAddress("127.0.0.1", node2.actualPort()));
    assertThat(introduce.message().verifyIntegritySha256(bob.key)).isTrue();
    assertThat(introduce.message().get(StunAttributes.SESSION_ID)).isEqualTo(connected.get(StunAttributes.SESSION_ID));
    assertThat(node1.counters().deliveriesForwarded()).isEqualTo(1);
    assertThat(node2.counters().deliveriesReceived()).isEqualTo(1);

    bob.send(bob.sign(StunMessage.successFor(introduce.message())
        .add(StunAttributes.SESSION_ID, introduce.message().get(StunAttributes.SESSION_ID))));
    String session = HexFormat.of().formatHex(connected.get(StunAttributes.SESSION_ID));
    eventually("node 1's copy shows the introduction node 2 saw",
        () -> node1.sessions().get(session).map(s -> s.introducedAt() != null).orElse(false));

    StunMessage result = bob.call(bob.request(StunMethods.RESULT)
        .add(StunAttributes.SESSION_ID, connected.get(StunAttributes.SESSION_ID))
        .add(StunAttributes.OUTCOME, ConnectTest.outcome(Outcome.CONNECTED_DIRECT, 80, 900)));
    assertThat(result.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    eventually("node 1's copy has bob's report",
        () -> node1.sessions().get(session).map(s -> s.responderOutcome() != null).orElse(false));
  }

  @Test
  void aPeerThatMovedToAnotherNodeIsDeliveredToThere() throws Exception {
    bob.register();
    InetSocketAddress bobsSocket = bob.address();
    bob.close(); // bob's NAT mapping now leads to node 1 instead
    TestPeer bobOnNode1 = new TestPeer(bobsSocket, new InetSocketAddress("127.0.0.1", node1.actualPort()),
        Fixtures.APP, "bob", Fixtures.SECRET);
    try {
      assertThat(bobOnNode1.register().messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
      assertThat(node2.registry().get(Fixtures.APP, "bob").orElseThrow().owner()).isEqualTo("n1");
      assertThat(node2.registry().size()).as("node 2 no longer counts bob as its own").isZero();

      TestPeer carol = Fixtures.peer(node2, "carol");
      try {
        carol.register();
        assertThat(carol.connect("bob").messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
        TestPeer.Received introduce = bobOnNode1.receiveFrom();
        assertThat(introduce.source()).isEqualTo(new InetSocketAddress("127.0.0.1", node1.actualPort()));
      } finally {
        carol.close();
      }
    } finally {
      bobOnNode1.close();
    }
  }

  @Test
  void aDeliveryTheOwnerCannotMakeIsCountedAsFailed() throws Exception {
    alice.register();
    bob.register();
    // bob's owner vanishes from the cluster: its record stays, naming a node that no longer answers.
    String key = SharedRegistry.key(Fixtures.APP, "bob");
    store.map.put(key, store.map.get(key).replace("\"owner\":\"n2\"", "\"owner\":\"gone\""));

    assertThat(alice.connect("bob").messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    eventually("the failed delivery is counted", Duration.ofSeconds(10), () -> node1.counters().deliveriesFailed() == 1);
  }
}
