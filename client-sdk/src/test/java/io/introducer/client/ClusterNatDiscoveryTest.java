package io.introducer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.client.testing.NatBehavior;
import io.introducer.client.testing.NatSimulator;
import io.introducer.client.testing.SimulatedNat;
import io.introducer.protocol.rendezvous.NatProfile.Filtering;
import io.introducer.protocol.rendezvous.NatProfile.Mapping;
import io.introducer.protocol.rendezvous.NatProfile.Summary;
import io.introducer.rendezvous.DiscoveryPartners;
import io.introducer.rendezvous.IntroducerVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link NatDiscovery} given ONE server of a two-node cluster (127.0.0.1 and 127.0.0.3, same ports, neither with a
 * second IP of its own): the other node serves as the second IP, so every RFC 5780 test is possible and nothing is
 * left "EIM or ADM" / "EIF or ADF" as it is against a lone node with only an alternate port.
 */
class ClusterNatDiscoveryTest {
  private static final String[] HOSTS = {"127.0.0.1", "127.0.0.3"};
  private static Vertx vertx;
  private static IntroducerVerticle node1;
  private static IntroducerVerticle node2;
  private final NatSimulator sim = new NatSimulator(31);

  /** The two nodes' published introducers; each takes the other as partner, as the node's cluster state would. */
  private static final Map<String, DiscoveryPartners.Partner> PUBLISHED = new ConcurrentHashMap<>();
  private static final Map<String, Consumer<DiscoveryPartners.Partner>> WATCHERS = new ConcurrentHashMap<>();

  private static DiscoveryPartners partners(String self, String other) {
    return new DiscoveryPartners() {
      @Override
      public synchronized void join(Partner me, Consumer<Partner> changes) {
        PUBLISHED.put(self, me);
        WATCHERS.put(self, changes);
        WATCHERS.forEach((id, w) -> w.accept(PUBLISHED.get(id.equals(self) ? other : self)));
      }

      @Override
      public void leave() {
        WATCHERS.remove(self);
      }
    };
  }

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    for (int attempt = 0; ; attempt++) {
      int port = freeOnBoth();
      int alternate = freeOnBoth();
      try {
        node1 = deploy("n1", HOSTS[0], port, alternate, partners("n1", "n2"));
        node2 = deploy("n2", HOSTS[1], port, alternate, partners("n2", "n1"));
        break;
      } catch (Exception e) {
        if (attempt == 4) {
          throw e; // the ports were taken between the probe and the bind, five times over
        }
        vertx.close().await(10, TimeUnit.SECONDS);
        vertx = Vertx.vertx();
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while ((node1.discoveryPartner() == null || node2.discoveryPartner() == null) && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(node1.discoveryPartner()).as("node 1's partner").isNotNull();
  }

  private static IntroducerVerticle deploy(String id, String host, int port, int alternate, DiscoveryPartners p)
      throws Exception {
    IntroducerVerticle v = new IntroducerVerticle(new IntroducerVerticle.Cluster(id, null, null, p));
    JsonObject config = new JsonObject().put("host", host).put("port", port).put("alternatePort", alternate)
        .put("apps", new JsonArray().add(new JsonObject().put("id", "game").put("secret", "s3cret-for-tests")));
    vertx.deployVerticle(v, new DeploymentOptions().setConfig(config)).await(10, TimeUnit.SECONDS);
    return v;
  }

  /** A UDP port free on both hosts just now. */
  private static int freeOnBoth() throws IOException {
    for (int i = 0; ; i++) {
      try (DatagramSocket a = new DatagramSocket(new InetSocketAddress(HOSTS[0], 0));
          DatagramSocket b = new DatagramSocket(new InetSocketAddress(HOSTS[1], a.getLocalPort()))) {
        return b.getLocalPort();
      } catch (IOException e) {
        if (i == 20) {
          throw e;
        }
      }
    }
  }

  @AfterAll
  static void stop() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void tearDown() {
    sim.close();
  }

  private NatDiscovery.Result discover(NatBehavior behavior) {
    SimulatedNat nat = sim.addNat(behavior);
    NatDiscovery.Result r = NatDiscovery.builder().transportFactory(nat.addHost())
        .bindAddress(new InetSocketAddress("0.0.0.0", 0)).timeout(Duration.ofSeconds(10))
        .server(new InetSocketAddress(HOSTS[0], node1.actualPort())).build().run();
    assertThat(r.publicAddresses()).isNotEmpty().allMatch(a -> a.getAddress().equals(nat.publicAddress()));
    return r;
  }

  @Test
  void aFullConeIsOpenWithTheOtherNodeAsTheAlternate() {
    NatDiscovery.Result r = discover(NatBehavior.fullCone());

    assertThat(r.otherAddress()).as("OTHER-ADDRESS: node 2's IP and alternate port")
        .isEqualTo(new InetSocketAddress(HOSTS[1], node2.alternatePort()));
    assertThat(r.rfc5780()).isTrue();
    assertThat(r.profile().mapping()).isEqualTo(Mapping.EIM);
    assertThat(r.profile().filtering()).as("answered from node 2's IP").isEqualTo(Filtering.EIF);
    assertThat(r.summary()).isEqualTo(Summary.OPEN);
    assertThat(r.notes()).isEmpty();
    assertThat(node1.counters().changeForwards()).isPositive();
    assertThat(node2.counters().changeAnswersForPartners()).isPositive();
  }

  @Test
  void addressDependentFilteringIsNoLongerTakenForEif() {
    NatDiscovery.Result r = discover(NatBehavior.restrictedCone());

    assertThat(r.profile().mapping()).isEqualTo(Mapping.EIM);
    assertThat(r.profile().filtering()).isEqualTo(Filtering.ADF);
    assertThat(r.notes()).isEmpty();
  }

  @Test
  void addressDependentMappingIsToldFromAddressAndPortDependent() {
    NatDiscovery.Result adm = discover(NatBehavior.builder().mapping(NatBehavior.Mapping.ADDRESS_DEPENDENT)
        .filtering(NatBehavior.Filtering.ADDRESS_DEPENDENT).build());
    NatDiscovery.Result apdm = discover(NatBehavior.symmetricRandom());

    assertThat(adm.profile().mapping()).isEqualTo(Mapping.ADM);
    assertThat(adm.profile().filtering()).isEqualTo(Filtering.ADF);
    assertThat(adm.notes()).isEmpty();
    assertThat(apdm.profile().mapping()).isEqualTo(Mapping.APDM);
    assertThat(apdm.profile().filtering()).isEqualTo(Filtering.APDF);
  }
}
