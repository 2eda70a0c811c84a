package io.introducer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.client.testing.NatBehavior;
import io.introducer.client.testing.NatSimulator;
import io.introducer.client.testing.SimulatedNat;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.NatProfile.Allocation;
import io.introducer.protocol.rendezvous.NatProfile.Filtering;
import io.introducer.protocol.rendezvous.NatProfile.Hairpinning;
import io.introducer.protocol.rendezvous.NatProfile.Mapping;
import io.introducer.protocol.rendezvous.NatProfile.Summary;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link NatDiscovery} against real introducer verticles (with a second IP, with an alternate port only, with
 * neither) classifies every simulated NAT as it is configured.
 */
class NatDiscoveryTest {
  /** 127.0.0.1 and 127.0.0.2, each on two ports: every RFC 5780 test is possible. */
  private static TestIntroducer full;
  /** 127.0.0.1 on two ports: partial answers. */
  private static TestIntroducer portOnly;
  /** No alternate at all: no OTHER-ADDRESS. */
  private static TestIntroducer plain;
  /** Another node, on 127.0.0.3 with an alternate port: a cluster's second IP. */
  private static TestIntroducer otherNode;
  private final NatSimulator sim = new NatSimulator(23);
  private final Peers peers = new Peers(full);

  @BeforeAll
  static void start() throws Exception {
    full = new TestIntroducer(c -> c.put("alternateHost", "127.0.0.2"));
    portOnly = new TestIntroducer(c -> c);
    plain = new TestIntroducer(c -> c.put("alternatePort", -1));
    otherNode = new TestIntroducer(c -> c.put("host", "127.0.0.3"));
  }

  @AfterAll
  static void stop() throws Exception {
    full.stop();
    portOnly.stop();
    plain.stop();
    otherNode.stop();
  }

  @AfterEach
  void tearDown() {
    peers.close();
    sim.close();
  }

  private NatDiscovery.Result discover(NatBehavior behavior, TestIntroducer... servers) {
    SimulatedNat nat = sim.addNat(behavior);
    NatDiscovery.Builder b = NatDiscovery.builder().transportFactory(nat.addHost())
        .bindAddress(new InetSocketAddress("0.0.0.0", 0)).timeout(Duration.ofSeconds(10));
    for (TestIntroducer s : servers) {
      b.server(s.address());
    }
    NatDiscovery.Result r = b.build().run();
    assertThat(r.publicAddresses()).isNotEmpty().allMatch(a -> a.getAddress().equals(nat.publicAddress()));
    return r;
  }

  private static NatProfile profile(Mapping m, Filtering f, Allocation a, int stride) {
    return new NatProfile(m, f, a, stride, Hairpinning.NO, 0);
  }

  // --- one test per preset, against an introducer with two IPs

  @Test
  void aFullConeIsOpen() {
    NatDiscovery.Result r = discover(NatBehavior.fullCone(), full);
    assertThat(r.profile()).isEqualTo(profile(Mapping.EIM, Filtering.EIF, Allocation.PRESERVING, 0));
    assertThat(r.summary()).isEqualTo(Summary.OPEN);
    assertThat(r.publicAddresses()).hasSize(1);
    assertThat(r.notes()).isEmpty();
  }

  @Test
  void aRestrictedConeIsModerateWithAddressDependentFiltering() {
    NatDiscovery.Result r = discover(NatBehavior.restrictedCone(), full);
    assertThat(r.profile()).isEqualTo(profile(Mapping.EIM, Filtering.ADF, Allocation.PRESERVING, 0));
    assertThat(r.summary()).isEqualTo(Summary.MODERATE);
    assertThat(r.notes()).isEmpty();
  }

  @Test
  void aPortRestrictedConeIsModerateWithAddressAndPortDependentFiltering() {
    NatDiscovery.Result r = discover(NatBehavior.portRestrictedCone(), full);
    assertThat(r.profile()).isEqualTo(profile(Mapping.EIM, Filtering.APDF, Allocation.PRESERVING, 0));
    assertThat(r.summary()).isEqualTo(Summary.MODERATE);
  }

  @Test
  void aSequentialSymmetricNatIsStrictWithItsStride() {
    NatDiscovery.Result r = discover(NatBehavior.symmetricSequential(1), full);
    assertThat(r.profile()).isEqualTo(profile(Mapping.APDM, Filtering.APDF, Allocation.SEQUENTIAL, 1));
    assertThat(r.summary()).isEqualTo(Summary.STRICT);
    assertThat(r.publicAddresses()).hasSizeGreaterThan(1); // one mapping per destination
  }

  @Test
  void aLargerStrideIsMeasuredToo() {
    NatDiscovery.Result r = discover(NatBehavior.symmetricSequential(3), full);
    assertThat(r.profile().allocation()).isEqualTo(Allocation.SEQUENTIAL);
    assertThat(r.profile().stride()).isEqualTo(3);
  }

  @Test
  void aRandomSymmetricNatIsStrictWithRandomPorts() {
    NatDiscovery.Result r = discover(NatBehavior.symmetricRandom(), full);
    assertThat(r.profile()).isEqualTo(profile(Mapping.APDM, Filtering.APDF, Allocation.RANDOM, 0));
    assertThat(r.summary()).isEqualTo(Summary.STRICT);
  }

  @Test
  void anAddressDependentMappingIsTellableWithTwoIps() {
    NatDiscovery.Result r = discover(NatBehavior.builder().mapping(NatBehavior.Mapping.ADDRESS_DEPENDENT)
        .filtering(NatBehavior.Filtering.ADDRESS_DEPENDENT).build(), full);
    assertThat(r.profile().mapping()).isEqualTo(Mapping.ADM);
    assertThat(r.profile().filtering()).isEqualTo(Filtering.ADF);
    assertThat(r.summary()).isEqualTo(Summary.STRICT);
  }

  @Test
  void noNatAtAllIsOpenAndPreservesPorts() {
    NatDiscovery.Result r = discover(NatBehavior.open(), full);
    assertThat(r.profile().mapping()).isEqualTo(Mapping.EIM);
    assertThat(r.profile().filtering()).isEqualTo(Filtering.EIF);
    assertThat(r.profile().allocation()).isEqualTo(Allocation.PRESERVING);
  }

  @Test
  void hairpinningIsSeenWhenTheNatLoopsPacketsBack() {
    NatDiscovery.Result with = discover(NatBehavior.portRestrictedCone().toBuilder().hairpinning(true).build(), full);
    NatDiscovery.Result without = discover(NatBehavior.portRestrictedCone(), full);
    assertThat(with.profile().hairpinning()).isEqualTo(Hairpinning.YES);
    assertThat(without.profile().hairpinning()).isEqualTo(Hairpinning.NO);
  }

  @Test
  void aLossyNatIsStillClassified() {
    NatBehavior lossy = NatBehavior.symmetricSequential(1).toBuilder().lossProbability(0.05).build();
    NatDiscovery.Result r = discover(lossy, full);
    assertThat(r.profile().mapping()).isEqualTo(Mapping.APDM);
    assertThat(r.profile().filtering()).isEqualTo(Filtering.APDF);
  }

  // --- partial answers

  @Test
  void withOnlyAnAlternatePortEimMayBeAdmAndEifMayBeAdf() {
    NatDiscovery.Result r = discover(NatBehavior.fullCone(), portOnly);
    assertThat(r.profile().mapping()).isEqualTo(Mapping.EIM);
    assertThat(r.profile().filtering()).isEqualTo(Filtering.ADF);
    assertThat(r.notes()).anyMatch(n -> n.contains("EIM or ADM")).anyMatch(n -> n.contains("EIF or ADF"));
  }

  @Test
  void withOnlyAnAlternatePortAPortDependentNatIsStillFound() {
    NatDiscovery.Result r = discover(NatBehavior.symmetricRandom(), portOnly);
    assertThat(r.profile().mapping()).isEqualTo(Mapping.APDM);
    assertThat(r.profile().filtering()).isEqualTo(Filtering.APDF);
  }

  @Test
  void anotherServersAddressServesAsTheSecondIp() {
    NatDiscovery.Result cone = discover(NatBehavior.restrictedCone(), portOnly, otherNode);
    assertThat(cone.profile().mapping()).isEqualTo(Mapping.EIM);
    assertThat(cone.notes()).noneMatch(n -> n.contains("EIM or ADM"));
    NatDiscovery.Result adm = discover(NatBehavior.builder().mapping(NatBehavior.Mapping.ADDRESS_DEPENDENT).build(),
        portOnly, otherNode);
    assertThat(adm.profile().mapping()).isEqualTo(Mapping.ADM);
    NatDiscovery.Result apdm = discover(NatBehavior.symmetricRandom(), portOnly, otherNode);
    assertThat(apdm.profile().mapping()).isEqualTo(Mapping.APDM);
  }

  @Test
  void withoutOtherAddressOnlyAllocationAndHairpinningAreKnown() {
    NatDiscovery.Result r = discover(NatBehavior.symmetricSequential(2), plain);
    assertThat(r.profile().mapping()).isEqualTo(Mapping.UNKNOWN);
    assertThat(r.profile().filtering()).isEqualTo(Filtering.UNKNOWN);
    assertThat(r.profile().allocation()).isEqualTo(Allocation.SEQUENTIAL);
    assertThat(r.profile().stride()).isEqualTo(2);
    assertThat(r.summary()).isEqualTo(Summary.UNKNOWN);
    assertThat(r.notes()).anyMatch(n -> n.contains("OTHER-ADDRESS"));
  }

  @Test
  void aSilentServerGivesAnUnknownProfileWithinTheTimeout() throws Exception {
    try (java.net.DatagramSocket silent = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      long start = System.nanoTime();
      NatDiscovery.Result r = NatDiscovery.builder().server((InetSocketAddress) silent.getLocalSocketAddress())
          .bindAddress(new InetSocketAddress("127.0.0.1", 0)).timeout(Duration.ofMillis(400)).build().run();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(3_000);
      assertThat(r.profile()).isEqualTo(NatProfile.UNKNOWN);
      assertThat(r.notes()).anyMatch(n -> n.startsWith("no answer from"));
    }
  }

  @Test
  void theMappingLifetimeIsEstimatedFromBelow() {
    NatBehavior shortLived = NatBehavior.portRestrictedCone().toBuilder().mappingTimeout(Duration.ofMillis(2500))
        .build();
    SimulatedNat nat = sim.addNat(shortLived);
    NatDiscovery.Result r = NatDiscovery.builder().server(full.address()).transportFactory(nat.addHost())
        .mappingLifetime(Duration.ofSeconds(5)).build().run();
    // Checked at 1, 2, 3 s: alive at 2 s (1 s on a machine too loaded to ask in time), gone at 3 s.
    assertThat(r.profile().lifetimeSeconds()).isBetween(1, 2);
    assertThat(r.notes()).noneMatch(n -> n.contains("RESPONSE-PORT"));
  }

  // --- in the client

  @Test
  void aClientRegistersWithTheProfileItMeasured() throws Exception {
    IntroducerClient c = peers.start(Peers.id("nd"), sim.addNat(NatBehavior.restrictedCone()).addHost());
    assertThat(c.natProfile()).isEqualTo(profile(Mapping.EIM, Filtering.ADF, Allocation.PRESERVING, 0));
    NatProfile registered = full.verticle().registry().get(TestIntroducer.APP, c.peerId()).orElseThrow().natProfile();
    assertThat(registered).isEqualTo(c.natProfile());
  }

  @Test
  void aClientWithoutDiscoveryRegistersNoProfile() throws Exception {
    IntroducerClient c = peers.start(Peers.id("nd"), sim.addNat(NatBehavior.restrictedCone()).addHost(),
        b -> b.natDiscovery(false));
    assertThat(c.natProfile()).isEqualTo(NatProfile.UNKNOWN);
    assertThat(full.verticle().registry().get(TestIntroducer.APP, c.peerId()).orElseThrow().natProfile())
        .isEqualTo(NatProfile.UNKNOWN);
    assertThat(List.of(c.publicAddress())).isNotEmpty();
  }
}
