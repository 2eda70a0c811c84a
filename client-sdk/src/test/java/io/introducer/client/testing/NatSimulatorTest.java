package io.introducer.client.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.introducer.client.testing.NatBehavior.Filtering;
import io.introducer.client.testing.NatBehavior.Mapping;
import io.introducer.client.transport.DatagramTransport;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class NatSimulatorTest {
  private static final InetSocketAddress ANY = new InetSocketAddress("0.0.0.0", 0);

  private final NatSimulator sim = new NatSimulator(7);
  private final List<Udp> servers = new ArrayList<>();

  @AfterEach
  void tearDown() {
    sim.close();
    servers.forEach(Udp::close);
  }

  private Udp server(String ip) {
    Udp u = new Udp(ip);
    servers.add(u);
    return u;
  }

  private DatagramTransport hostBehind(NatBehavior behavior) throws Exception {
    return sim.addNat(behavior).addHost().open(ANY);
  }

  /** The external address the NAT maps {@code t} to when it sends to {@code server}. */
  private static InetSocketAddress mappedAt(DatagramTransport t, Udp server) throws Exception {
    Udp.send(t, "probe", server.address());
    return server.receive().source();
  }

  // --- mapping

  @Test
  void endpointIndependentMappingUsesOneExternalAddressForEveryDestination() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.fullCone());
    DatagramTransport t = nat.addHost().open(ANY);
    InetSocketAddress a = mappedAt(t, server("127.0.0.1"));
    InetSocketAddress b = mappedAt(t, server("127.0.0.2"));
    assertThat(a).isEqualTo(b);
    assertThat(a.getAddress()).isEqualTo(nat.publicAddress());
    assertThat(nat.mappingCount()).isEqualTo(1);
  }

  @Test
  void addressDependentMappingUsesANewExternalPortPerDestinationAddress() throws Exception {
    DatagramTransport t = hostBehind(NatBehavior.builder().mapping(Mapping.ADDRESS_DEPENDENT).build());
    InetSocketAddress a1 = mappedAt(t, server("127.0.0.1"));
    InetSocketAddress a2 = mappedAt(t, server("127.0.0.1"));
    InetSocketAddress b = mappedAt(t, server("127.0.0.2"));
    assertThat(a1).isEqualTo(a2);
    assertThat(b.getPort()).isNotEqualTo(a1.getPort());
  }

  @Test
  void addressAndPortDependentMappingUsesANewExternalPortPerDestinationEndpoint() throws Exception {
    DatagramTransport t = hostBehind(NatBehavior.symmetricRandom());
    Udp s1 = server("127.0.0.1");
    InetSocketAddress a = mappedAt(t, s1);
    InetSocketAddress b = mappedAt(t, server("127.0.0.1"));
    InetSocketAddress again = mappedAt(t, s1);
    assertThat(b.getPort()).isNotEqualTo(a.getPort());
    assertThat(again).isEqualTo(a);
  }

  // --- filtering

  @Test
  void endpointIndependentFilteringLetsAnyoneReachAMapping() throws Exception {
    DatagramTransport t = hostBehind(NatBehavior.fullCone());
    InetSocketAddress mapped = mappedAt(t, server("127.0.0.1"));
    Udp stranger = server("127.0.0.2");
    stranger.send("hello", mapped);
    Udp.Received r = Udp.receive(t);
    assertThat(r.text()).isEqualTo("hello");
    assertThat(r.source()).isEqualTo(stranger.address());
  }

  @Test
  void addressDependentFilteringAdmitsOnlyContactedAddresses() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.restrictedCone());
    DatagramTransport t = nat.addHost().open(ANY);
    InetSocketAddress mapped = mappedAt(t, server("127.0.0.1"));
    server("127.0.0.2").send("refused", mapped);
    assertThat(Udp.awaitCount(() -> nat.stats().filtered(), 1)).isEqualTo(1);
    Udp sameAddressOtherPort = server("127.0.0.1");
    sameAddressOtherPort.send("admitted", mapped);
    assertThat(Udp.receive(t)).isEqualTo(new Udp.Received("admitted", sameAddressOtherPort.address()));
  }

  @Test
  void addressAndPortDependentFilteringAdmitsOnlyContactedEndpoints() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.portRestrictedCone());
    DatagramTransport t = nat.addHost().open(ANY);
    Udp contacted = server("127.0.0.1");
    InetSocketAddress mapped = mappedAt(t, contacted);
    server("127.0.0.1").send("refused", mapped);
    assertThat(Udp.awaitCount(() -> nat.stats().filtered(), 1)).isEqualTo(1);
    contacted.send("admitted", mapped);
    assertThat(Udp.receive(t)).isEqualTo(new Udp.Received("admitted", contacted.address()));
  }

  // --- allocation

  @Test
  void preservingAllocationKeepsTheInternalPort() throws Exception {
    DatagramTransport t = hostBehind(NatBehavior.portRestrictedCone());
    assertThat(mappedAt(t, server("127.0.0.1")).getPort()).isEqualTo(t.localAddress().getPort());
  }

  @Test
  void sequentialAllocationStepsByTheStride() throws Exception {
    DatagramTransport t = hostBehind(NatBehavior.symmetricSequential(3));
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      ports.add(mappedAt(t, server("127.0.0.1")).getPort());
    }
    for (int i = 1; i < ports.size(); i++) {
      int step = ports.get(i) - ports.get(i - 1);
      // A port taken by another process is skipped by one more stride; it is never random.
      assertThat(step).as("ports %s", ports).isPositive().isLessThanOrEqualTo(3 * 4);
      assertThat(step % 3).as("ports %s", ports).isZero();
    }
  }

  @Test
  void randomAllocationGivesUnpredictablePorts() throws Exception {
    DatagramTransport t = hostBehind(NatBehavior.symmetricRandom());
    Set<Integer> ports = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      ports.add(mappedAt(t, server("127.0.0.1")).getPort());
    }
    assertThat(ports).hasSize(5);
    int spread = ports.stream().mapToInt(Integer::intValue).max().getAsInt()
        - ports.stream().mapToInt(Integer::intValue).min().getAsInt();
    assertThat(spread).as("ports %s", ports).isGreaterThan(50);
  }

  // --- LAN and hairpinning

  @Test
  void hostsBehindOneNatReachEachOtherByPrivateAddress() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.portRestrictedCone());
    SimulatedHost a = nat.addHost();
    SimulatedHost b = nat.addHost();
    assertThat(a.address().getHostAddress()).startsWith("10.0.");
    DatagramTransport ta = a.open(ANY);
    DatagramTransport tb = b.open(ANY);
    Udp.send(ta, "over the LAN", tb.localAddress());
    assertThat(Udp.receive(tb)).isEqualTo(new Udp.Received("over the LAN", ta.localAddress()));
    assertThat(nat.stats().lan()).isEqualTo(1);
    assertThat(nat.mappingCount()).isZero();
  }

  @Test
  void hairpinningLoopsPacketsToTheNatsOwnPublicAddressBackIn() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.fullCone().toBuilder().hairpinning(true).build());
    DatagramTransport ta = nat.addHost().open(ANY);
    DatagramTransport tb = nat.addHost().open(ANY);
    Udp s = server("127.0.0.1");
    InetSocketAddress mappedA = mappedAt(ta, s);
    InetSocketAddress mappedB = mappedAt(tb, s);
    Udp.send(ta, "hairpin", mappedB);
    assertThat(Udp.receive(tb)).isEqualTo(new Udp.Received("hairpin", mappedA));
    assertThat(nat.stats().hairpinned()).isEqualTo(1);
  }

  @Test
  void withoutHairpinningPacketsToTheNatsOwnPublicAddressAreDropped() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.fullCone());
    DatagramTransport ta = nat.addHost().open(ANY);
    DatagramTransport tb = nat.addHost().open(ANY);
    Udp s = server("127.0.0.1");
    mappedAt(ta, s);
    InetSocketAddress mappedB = mappedAt(tb, s);
    Udp.send(ta, "no hairpin", mappedB);
    assertThat(nat.stats().unroutable()).isEqualTo(1);
    assertThat(nat.stats().hairpinned()).isZero();
  }

  @Test
  void packetsToNonLoopbackAddressesNeverLeaveTheSimulator() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.fullCone());
    DatagramTransport t = nat.addHost().open(ANY);
    Udp.send(t, "x", new InetSocketAddress("192.0.2.1", 9));
    Udp.send(t, "x", new InetSocketAddress("10.0.99.2", 9));
    assertThat(nat.stats().unroutable()).isEqualTo(2);
    assertThat(nat.mappingCount()).isZero();
  }

  // --- impairments

  @Test
  void lossProbabilityOneDropsEverythingCrossingTheNat() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.fullCone().toBuilder().lossProbability(1.0).build());
    DatagramTransport t = nat.addHost().open(ANY);
    for (int i = 0; i < 10; i++) {
      Udp.send(t, "lost", server("127.0.0.1").address());
    }
    assertThat(nat.stats().lost()).isEqualTo(10);
    assertThat(nat.stats().outbound()).isZero();
  }

  @Test
  void partialLossDropsSomePacketsAndForwardsTheRest() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.fullCone().toBuilder().lossProbability(0.5).build());
    DatagramTransport t = nat.addHost().open(ANY);
    Udp s = server("127.0.0.1");
    for (int i = 0; i < 200; i++) {
      Udp.send(t, "maybe", s.address());
    }
    NatStats st = nat.stats();
    assertThat(st.lost() + st.outbound()).isEqualTo(200);
    assertThat(st.lost()).isBetween(50L, 150L);
  }

  @Test
  void delayHoldsPacketsBackAtLeastThatLong() throws Exception {
    DatagramTransport t = hostBehind(NatBehavior.fullCone().toBuilder().delay(Duration.ofMillis(150)).build());
    Udp s = server("127.0.0.1");
    long start = System.nanoTime();
    Udp.send(t, "slow", s.address());
    assertThat(s.receive().text()).isEqualTo("slow");
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(150));
  }

  @Test
  void dropFirstInboundDropsOnlyTheFirstMatchingPackets() throws Exception {
    Udp s = server("127.0.0.1");
    SimulatedNat nat = sim.addNat(NatBehavior.fullCone().toBuilder()
        .dropFirstInbound(2, source -> source.equals(s.address())).build());
    DatagramTransport t = nat.addHost().open(ANY);
    InetSocketAddress mapped = mappedAt(t, s);
    s.send("one", mapped);
    s.send("two", mapped);
    s.send("three", mapped);
    assertThat(Udp.receive(t).text()).isEqualTo("three");
    assertThat(nat.stats().droppedByHook()).isEqualTo(2);
  }

  @Test
  void idleMappingsTimeOutAndRefuseInboundPackets() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.fullCone().toBuilder().mappingTimeout(Duration.ofMillis(100)).build());
    DatagramTransport t = nat.addHost().open(ANY);
    Udp s = server("127.0.0.1");
    InetSocketAddress mapped = mappedAt(t, s);
    assertThat(Udp.awaitCount(() -> nat.stats().mappingsExpired(), 1)).isEqualTo(1);
    assertThat(nat.mappingCount()).isZero();
    s.send("too late", mapped);
    // A fresh mapping proves the old one is gone: the late packet was not delivered before this one.
    InetSocketAddress again = mappedAt(t, s);
    s.send("fresh", again);
    assertThat(Udp.receive(t).text()).isEqualTo("fresh");
    assertThat(nat.stats().mappingsCreated()).isEqualTo(2);
  }

  @Test
  void linkDownDropsTrafficUntilTheLinkComesBack() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.fullCone());
    DatagramTransport t = nat.addHost().open(ANY);
    Udp s = server("127.0.0.1");
    nat.setLinkUp(false);
    Udp.send(t, "dropped", s.address());
    assertThat(nat.stats().linkDown()).isEqualTo(1);
    nat.setLinkUp(true);
    assertThat(mappedAt(t, s).getAddress()).isEqualTo(nat.publicAddress());
  }

  @Test
  void openBehaviourHasNoTranslation() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.open());
    SimulatedHost host = nat.addHost();
    DatagramTransport t = host.open(ANY);
    assertThat(host.address()).isEqualTo(nat.publicAddress());
    assertThat(mappedAt(t, server("127.0.0.1"))).isEqualTo(t.localAddress());
    Udp stranger = server("127.0.0.2");
    stranger.send("unsolicited", t.localAddress());
    assertThat(Udp.receive(t).text()).isEqualTo("unsolicited");
  }

  // --- sockets and lifecycle

  @Test
  void hostsBindOnlyTheirOwnAddressAndFreePorts() throws Exception {
    SimulatedHost host = sim.addNat(NatBehavior.fullCone()).addHost();
    DatagramTransport t = host.open(new InetSocketAddress(host.address(), 5000));
    assertThat(t.localAddress()).isEqualTo(new InetSocketAddress(host.address(), 5000));
    assertThatThrownBy(() -> host.open(new InetSocketAddress(host.address(), 5000))).isInstanceOf(BindException.class);
    assertThatThrownBy(() -> host.open(new InetSocketAddress("10.9.9.9", 0))).isInstanceOf(BindException.class);
  }

  @Test
  void closingATransportUnblocksItsReceiverAndRefusesFurtherUse() throws Exception {
    DatagramTransport t = hostBehind(NatBehavior.fullCone());
    CompletableFuture<Throwable> blocked = CompletableFuture.supplyAsync(() -> {
      try {
        t.receive(ByteBuffer.allocate(16));
        return null;
      } catch (Exception e) {
        return e;
      }
    });
    Thread.sleep(50);
    t.close();
    assertThat(blocked.get(3, TimeUnit.SECONDS)).isInstanceOf(AsynchronousCloseException.class);
    assertThatThrownBy(() -> t.receive(ByteBuffer.allocate(16))).isInstanceOf(ClosedChannelException.class);
    assertThatThrownBy(() -> Udp.send(t, "x", new InetSocketAddress("127.0.0.1", 9)))
        .isInstanceOf(ClosedChannelException.class);
  }

  @Test
  void closeReleasesMappingSocketsAndThreads() throws Exception {
    Set<Thread> before = new HashSet<>(Thread.getAllStackTraces().keySet());
    NatSimulator local = new NatSimulator(1);
    SimulatedNat nat = local.addNat(NatBehavior.fullCone());
    DatagramTransport t = nat.addHost().open(ANY);
    Udp s = server("127.0.0.1");
    InetSocketAddress mapped = mappedAt(t, s);
    local.close();
    assertThatThrownBy(() -> t.receive(ByteBuffer.allocate(16))).isInstanceOf(ClosedChannelException.class);
    try (DatagramChannel rebind = DatagramChannel.open()) {
      rebind.bind(mapped); // the mapping's real socket is gone
    }
    Set<Thread> simThreads = new HashSet<>(Thread.getAllStackTraces().keySet());
    simThreads.removeAll(before);
    simThreads.removeIf(th -> !th.getName().startsWith("nat-sim-") || !th.isAlive());
    assertThat(simThreads).isEmpty();
    assertThatThrownBy(() -> local.addNat(NatBehavior.fullCone())).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void natsOfOneSimulatorHaveDistinctPublicAddressesAndPrivateSubnets() throws Exception {
    SimulatedNat n1 = sim.addNat(NatBehavior.fullCone());
    SimulatedNat n2 = sim.addNat(NatBehavior.fullCone());
    assertThat(n1.publicAddress()).isNotEqualTo(n2.publicAddress());
    assertThat(n1.publicAddress().isLoopbackAddress()).isTrue();
    InetAddress h1 = n1.addHost().address();
    InetAddress h2 = n2.addHost().address();
    assertThat(h1.getAddress()[2]).isNotEqualTo(h2.getAddress()[2]);
  }

  @Test
  void behaviourBuilderRejectsNonsense() {
    NatBehavior.Builder b = NatBehavior.builder();
    assertThatThrownBy(() -> b.lossProbability(1.5)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.sequential(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.mappingTimeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> b.delay(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
    assertThat(NatBehavior.portRestrictedCone().filtering()).isEqualTo(Filtering.ADDRESS_AND_PORT_DEPENDENT);
  }
}
