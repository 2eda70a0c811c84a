package io.introducer.client;

import static io.introducer.client.Peers.id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.introducer.client.testing.NatBehavior;
import io.introducer.client.testing.NatSimulator;
import io.introducer.client.testing.SimulatedNat;
import io.introducer.client.transport.UdpTransportFactory;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.protocol.rendezvous.Strategy;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Starting, registering, keeping alive and closing a client; what it does with bad input. */
class ClientLifecycleTest {
  private static TestIntroducer introducer;
  private final NatSimulator sim = new NatSimulator(23);
  private final Peers peers = new Peers(introducer); // @BeforeAll has run when test instances are made

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
    peers.close();
    sim.close();
  }

  private static ConnectException startFailure(ClientConfig config) {
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> IntroducerClient.start(config).get(Peers.WAIT_SECONDS, TimeUnit.SECONDS));
    assertThat(e.getCause()).isInstanceOf(ConnectException.class);
    return (ConnectException) e.getCause();
  }

  @Test
  void startRegistersAndReportsThePublicAddressOnceRegistered() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.portRestrictedCone());
    BlockingQueue<InetSocketAddress> registered = new LinkedBlockingQueue<>();
    IntroducerClient c = peers.start(id("p"), nat.addHost(), b -> b.listener(new ClientListener() {
      @Override
      public void registered(InetSocketAddress publicAddress) {
        registered.add(publicAddress);
      }
    }));
    assertThat(c.publicAddress().getAddress()).isEqualTo(nat.publicAddress());
    assertThat(c.localAddress().getAddress().getHostAddress()).startsWith("10.0.");
    assertThat(registered.poll(Peers.WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo(c.publicAddress());
  }

  @Test
  void aWrongSecretFailsStartWithTheIntroducersReason() {
    ClientConfig config = ClientConfig.builder().server("127.0.0.1", introducer.address().getPort())
        .appId(TestIntroducer.APP).appSecret("not-the-secret").peerId(id("p"))
        .transportFactory(sim.addNat(NatBehavior.fullCone()).addHost()).build();
    ConnectException e = startFailure(config);
    assertThat(e.reason()).isEqualTo("registration refused: 401 bad integrity");
  }

  @Test
  void anUnknownAppFailsStartWithTheIntroducersReason() {
    ClientConfig config = ClientConfig.builder().server("127.0.0.1", introducer.address().getPort())
        .appId("no-such-game").appSecret("x").peerId(id("p"))
        .transportFactory(sim.addNat(NatBehavior.fullCone()).addHost()).build();
    assertThat(startFailure(config).reason()).isEqualTo("registration refused: 401 unknown app");
  }

  @Test
  void aSilentIntroducerFailsStartAfterTheRequestTimeout() throws Exception {
    try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      ClientConfig config = ClientConfig.builder().server("127.0.0.1", silent.getLocalPort())
          .appId(TestIntroducer.APP).appSecret(TestIntroducer.SECRET).peerId(id("p"))
          .bindAddress(new InetSocketAddress("127.0.0.1", 0)).natDiscovery(false)
          .requestTimeout(Duration.ofMillis(600)).build();
      assertThat(startFailure(config).reason()).startsWith("registration timed out");
      // RTO 250 ms, doubling: sent at 0 and 250 ms within the 600 ms, with the same transaction id.
      silent.setSoTimeout(1_000);
      DatagramPacket p = new DatagramPacket(new byte[1500], 1500);
      silent.receive(p);
      StunMessage first = StunMessage.decode(java.util.Arrays.copyOf(p.getData(), p.getLength()));
      silent.receive(p);
      StunMessage second = StunMessage.decode(java.util.Arrays.copyOf(p.getData(), p.getLength()));
      assertThat(first.is(StunMethods.REGISTER, StunClass.REQUEST)).isTrue();
      assertThat(second.transactionKey()).isEqualTo(first.transactionKey());
    }
  }

  @Test
  void aFallbackIntroducerIsUsedWhenThePrimaryIsSilent() throws Exception {
    try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      ClientConfig config = ClientConfig.builder()
          .server("127.0.0.1", silent.getLocalPort())
          .servers(List.of(introducer.address()))
          .appId(TestIntroducer.APP).appSecret(TestIntroducer.SECRET).peerId(id("p"))
          .bindAddress(new InetSocketAddress("127.0.0.1", 0))
          .requestTimeout(Duration.ofMillis(500)).build();
      IntroducerClient c = IntroducerClient.start(config).get(Peers.WAIT_SECONDS, TimeUnit.SECONDS);
      try {
        assertThat(c.publicAddress()).isEqualTo(c.localAddress());
      } finally {
        c.close();
      }
    }
  }

  @Test
  void theRegistrationIsLostWhenKeepalivesGoUnansweredAndRegainedWhenTheyReturn() throws Exception {
    SimulatedNat nat = sim.addNat(NatBehavior.portRestrictedCone());
    BlockingQueue<String> events = new LinkedBlockingQueue<>();
    peers.start(id("p"), nat.addHost(), b -> b.keepaliveInterval(Duration.ofMillis(100))
        .requestTimeout(Duration.ofMillis(400)).listener(new ClientListener() {
          @Override
          public void registered(InetSocketAddress publicAddress) {
            events.add("registered");
          }

          @Override
          public void registrationLost(String reason) {
            events.add("lost: " + reason);
          }
        }));
    assertThat(events.poll(Peers.WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo("registered");

    nat.setLinkUp(false);
    assertThat(events.poll(Peers.WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo("lost: keepalive timed out");
    nat.setLinkUp(true);

    assertThat(events.poll(Peers.WAIT_SECONDS, TimeUnit.SECONDS)).isEqualTo("registered");
  }

  @Test
  void closeDeregistersReleasesTheSocketAndStopsTheClientsThreads() throws Exception {
    String peerId = id("closing");
    IntroducerClient c = peers.start(peerId, new UdpTransportFactory(),
        b -> b.bindAddress(new InetSocketAddress("127.0.0.1", 0)));
    InetSocketAddress local = c.localAddress();
    assertThat(clientThreads(peerId)).isNotEmpty();

    c.close();

    try (DatagramChannel rebind = DatagramChannel.open()) {
      rebind.bind(local);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!clientThreads(peerId).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(clientThreads(peerId)).isEmpty();
    // Deregistered: nobody can be introduced to it any more.
    IntroducerClient other = peers.start(id("other"), sim.addNat(NatBehavior.fullCone()).addHost());
    assertThatThrownBy(() -> other.connect(peerId).get(Peers.WAIT_SECONDS, TimeUnit.SECONDS))
        .cause().isInstanceOf(ConnectException.class).hasMessage("unknown peer");
    assertThatThrownBy(() -> c.connect("anyone").get(Peers.WAIT_SECONDS, TimeUnit.SECONDS))
        .cause().isInstanceOf(ConnectException.class).hasMessage("client closed");
    c.close(); // idempotent
  }

  private static Set<String> clientThreads(String peerId) {
    return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
        .filter(n -> n.startsWith("introducer-client-" + peerId + "-")).collect(Collectors.toSet());
  }

  @Test
  void garbageAndForgedDatagramsAreCountedAndDroppedWithoutHarm() throws Exception {
    IntroducerClient c = peers.start(id("target"), new UdpTransportFactory(),
        b -> b.bindAddress(new InetSocketAddress("127.0.0.1", 0)));
    InetSocketAddress to = c.localAddress();
    byte[] sessionId = new byte[Rendezvous.SESSION_ID_LENGTH];
    byte[] punch = StunMessage.builder(StunMethods.PUNCH, StunClass.REQUEST).add(StunAttributes.SESSION_ID, sessionId)
        .addString(StunAttributes.PEER_ID, "mallory").integritySha256(new byte[32]).fingerprint().encode();
    byte[] introduce = StunMessage.builder(StunMethods.INTRODUCE, StunClass.REQUEST)
        .addString(StunAttributes.PEER_ID, c.peerId()).integritySha256(new byte[32]).fingerprint().encode();
    byte[] truncatedStun = java.util.Arrays.copyOf(punch, 30);
    byte[][] junk = {{(byte) 0xDA, 1, 2, 3}, {(byte) 0x99, 9}, truncatedStun, punch, introduce, {}};
    long before = c.droppedDatagrams();
    try (DatagramSocket mallory = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      for (byte[] j : junk) {
        mallory.send(new DatagramPacket(j, j.length, to));
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (c.droppedDatagrams() < before + junk.length && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(c.droppedDatagrams() - before).isEqualTo(junk.length);
    // Still fully working: it can be introduced to.
    IntroducerClient other = peers.start(id("other"), sim.addNat(NatBehavior.fullCone()).addHost());
    Peers.incoming(c);
    assertThat(Peers.connect(other, c.peerId()).isOpen()).isTrue();
  }

  @Test
  void aPreDerivedPeerKeyWorksLikeTheAppSecret() throws Exception {
    String peerId = id("keyed");
    ClientConfig config = ClientConfig.builder().server("127.0.0.1", introducer.address().getPort())
        .appId(TestIntroducer.APP).peerKey(Rendezvous.peerKey(TestIntroducer.SECRET, TestIntroducer.APP, peerId))
        .peerId(peerId).transportFactory(sim.addNat(NatBehavior.fullCone()).addHost()).build();
    IntroducerClient c = IntroducerClient.start(config).get(Peers.WAIT_SECONDS, TimeUnit.SECONDS);
    try {
      assertThat(c.publicAddress()).isNotNull();
    } finally {
      c.close();
    }
  }

  @Test
  void theListenerHearsOfIntroductionsOnBothSides() throws Exception {
    BlockingQueue<String> heard = new LinkedBlockingQueue<>();
    ClientListener listener = new ClientListener() {
      @Override
      public void introduced(String remotePeerId, String sessionId, List<Candidate> candidates, Strategy strategy) {
        heard.add(remotePeerId + " " + strategy + " " + !candidates.isEmpty());
      }
    };
    String aId = id("a");
    String bId = id("b");
    IntroducerClient a = peers.start(aId, sim.addNat(NatBehavior.fullCone()).addHost(), b -> b.listener(listener));
    IntroducerClient b = peers.start(bId, sim.addNat(NatBehavior.fullCone()).addHost(), x -> x.listener(listener));
    Peers.incoming(b);
    Peers.connect(a, bId);
    Set<String> both = Set.of(heard.poll(Peers.WAIT_SECONDS, TimeUnit.SECONDS),
        heard.poll(Peers.WAIT_SECONDS, TimeUnit.SECONDS));
    assertThat(both).containsExactlyInAnyOrder(bId + " SIMULTANEOUS true", aId + " SIMULTANEOUS true");
  }
}
