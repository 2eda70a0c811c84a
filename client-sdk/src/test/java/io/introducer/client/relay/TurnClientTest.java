package io.introducer.client.relay;

import static io.introducer.client.relay.TestRelay.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.introducer.client.testing.NatBehavior;
import io.introducer.client.testing.NatSimulator;
import io.introducer.client.testing.SimulatedNat;
import io.introducer.client.transport.UdpTransportFactory;
import io.introducer.relay.TurnRestCredentials;
import io.vertx.core.json.JsonArray;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link TurnClient} against a real relay verticle over loopback UDP. */
class TurnClientTest {
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final TurnClient.Settings SETTINGS = TurnClient.Settings.defaults(Duration.ofSeconds(3));

  private TestRelay relay;
  private TurnEndpoint endpoint;
  private DatagramSocket peer;
  private NatSimulator sim;

  @AfterEach
  void tearDown() throws Exception {
    if (endpoint != null) {
      endpoint.close();
    }
    if (peer != null) {
      peer.close();
    }
    if (sim != null) {
      sim.close();
    }
    if (relay != null) {
      relay.close();
    }
  }

  private TurnClient client(String user, String password, TurnClient.Settings settings) throws Exception {
    endpoint = new TurnEndpoint(new UdpTransportFactory());
    return endpoint.client(relay.address(), user, password, settings);
  }

  private InetSocketAddress allocate(TurnClient c) throws Exception {
    return endpoint.onControl(c::allocate).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void permit(TurnClient c, InetAddress ip) throws Exception {
    endpoint.onControl(() -> c.createPermission(List.of(ip))).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
  }

  private InetSocketAddress peerSocket() throws Exception {
    peer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    peer.setSoTimeout((int) WAIT.toMillis());
    return (InetSocketAddress) peer.getLocalSocketAddress();
  }

  private void peerSends(String text, InetSocketAddress to) throws Exception {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    peer.send(new DatagramPacket(b, b.length, to));
  }

  private String peerReceives(InetSocketAddress expectedSource) throws Exception {
    DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
    peer.receive(p);
    assertThat(p.getSocketAddress()).isEqualTo(expectedSource);
    return new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8);
  }

  private String clientReceives(InetSocketAddress expectedPeer) throws Exception {
    TurnClient.Relayed r = endpoint.next(WAIT);
    assertThat(r).as("relayed datagram").isNotNull();
    assertThat(r.peer()).isEqualTo(expectedPeer);
    return new String(r.data(), StandardCharsets.UTF_8);
  }

  private static io.introducer.protocol.StunMessage decodes(byte[] d) {
    try {
      return io.introducer.protocol.StunMessage.decode(d);
    } catch (io.introducer.protocol.StunParseException e) {
      throw new AssertionError("the relay sent a malformed STUN message", e);
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void allocatesAfterTheChallengeAndRelaysBothWaysThroughIndicationsThenAChannel() throws Exception {
    relay = new TestRelay();
    TurnClient c = client(TestRelay.USER, TestRelay.PASSWORD, SETTINGS);

    InetSocketAddress relayed = allocate(c);

    assertThat(relayed.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
    assertThat(c.relayedAddress()).isEqualTo(relayed);
    assertThat(c.mappedAddress()).isEqualTo(endpoint.transport.localAddress());
    // The challenge (once, or again for a retransmission) and nothing else was refused.
    assertThat(relay.counters().errors()).containsOnlyKeys(401);
    assertThat(relay.counters().authFailures()).isZero();
    assertThat(relay.counters().allocationsActive()).isEqualTo(1);
    assertThat(relay.allocations()).singleElement().satisfies(a -> assertThat(a.username())
        .isEqualTo(TestRelay.USER));

    InetSocketAddress p = peerSocket();
    permit(c, p.getAddress());
    assertThat(relay.counters().permissionsCreated()).isEqualTo(1);

    peerSends("hello", relayed);
    assertThat(clientReceives(p)).isEqualTo("hello");
    assertThat(endpoint.indicationsReceived.get()).isEqualTo(1);

    c.send(p, utf8("first answer")); // a Send indication, which also starts a ChannelBind
    assertThat(peerReceives(relayed)).isEqualTo("first answer");
    assertThat(eventually(WAIT.toMillis(), () -> c.channelOf(p) != null)).isTrue();
    assertThat(c.channelOf(p)).isEqualTo(0x4000);
    assertThat(relay.counters().channelsBound()).isEqualTo(1);

    peerSends("over the channel", relayed);
    assertThat(clientReceives(p)).isEqualTo("over the channel");
    assertThat(endpoint.channelDataReceived.get()).isEqualTo(1);
    c.send(p, utf8("channel answer"));
    assertThat(peerReceives(relayed)).isEqualTo("channel answer");
    assertThat(relay.counters().packetsToPeer()).isEqualTo(2);
    assertThat(relay.counters().packetsToClient()).isEqualTo(2);
  }

  @Test
  void turnRestCredentialsAllocate() throws Exception {
    relay = new TestRelay();
    TurnRestCredentials.Credentials creds =
        TurnRestCredentials.mint(TestRelay.REST_SECRET, "peer-7", Duration.ofMinutes(10), Clock.systemUTC());
    TurnClient c = client(creds.username(), creds.password(), SETTINGS);

    allocate(c);

    assertThat(relay.allocations()).singleElement()
        .satisfies(a -> assertThat(a.username()).endsWith(":peer-7"));
  }

  @Test
  void aWrongPasswordFailsTheAllocationWithTheRelaysError() throws Exception {
    relay = new TestRelay();
    TurnClient c = client(TestRelay.USER, "not-the-password", SETTINGS);

    assertThatThrownBy(() -> allocate(c)).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(TurnException.class).hasMessageContaining("401");
    assertThat(c.isActive()).isFalse();
    assertThat(relay.counters().allocationsCreated()).isZero();
  }

  @Test
  void aRefusedPermissionFailsWithTheRelaysError() throws Exception {
    relay = new TestRelay(cfg -> cfg.put("allowPeers", new JsonArray())); // loopback peers are refused now
    TurnClient c = client(TestRelay.USER, TestRelay.PASSWORD, SETTINGS);
    allocate(c);

    assertThatThrownBy(() -> permit(c, InetAddress.getByName("127.0.0.1"))).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOf(TurnException.class).hasMessageContaining("403");
    assertThat(endpoint.onControl(c::permissions)).isEmpty();
  }

  @Test
  void aStaleNonceIsRetriedWithTheRelaysNewNonce() throws Exception {
    relay = new TestRelay(cfg -> cfg.put("nonceLifetimeSeconds", 1));
    TurnClient c = client(TestRelay.USER, TestRelay.PASSWORD, SETTINGS);
    allocate(c);
    InetSocketAddress p = peerSocket();
    Thread.sleep(1_200); // the nonce of the allocation is stale now

    permit(c, p.getAddress());

    assertThat(relay.counters().errors(438)).isPositive();
    assertThat(endpoint.onControl(c::permissions)).containsExactly(p.getAddress());
  }

  @Test
  void refreshesKeepTheAllocationItsPermissionAndItsChannelAlive() throws Exception {
    // Everything on the relay lives 2 s; the client refreshes the allocation after 1 s (half its lifetime)
    // and permissions and channels every 700 ms.
    relay = new TestRelay(cfg -> cfg.put("defaultLifetimeSeconds", 2).put("maxLifetimeSeconds", 2)
        .put("permissionLifetimeSeconds", 2).put("channelLifetimeSeconds", 2));
    TurnClient c = client(TestRelay.USER, TestRelay.PASSWORD,
        new TurnClient.Settings(Duration.ofSeconds(3), Duration.ofMillis(700), Duration.ofMillis(700)));
    InetSocketAddress relayed = allocate(c);
    InetSocketAddress p = peerSocket();
    endpoint.onControl(() -> c.bindChannel(p)).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);

    Thread.sleep(3_500);

    assertThat(relay.counters().allocationsExpired()).isZero();
    assertThat(relay.counters().allocationsActive()).isEqualTo(1);
    assertThat(c.isActive()).isTrue();
    peerSends("still here", relayed);
    assertThat(clientReceives(p)).isEqualTo("still here");
    assertThat(endpoint.channelDataReceived.get()).as("arrived in ChannelData: the channel lives").isEqualTo(1);
    c.send(p, utf8("me too"));
    assertThat(peerReceives(relayed)).isEqualTo("me too");
    assertThat(relay.counters().drops()).doesNotContainKeys("no-permission", "unbound-channel", "no-allocation");
  }

  @Test
  void channelDataOnANumberBeingBoundIsAcceptedBeforeTheBindSucceeds() throws Exception {
    // The relay binds on our request and may relay the peer's next datagram on the channel before its success
    // reaches us: that datagram is the peer's (dropping it cost a whole punch round, ~140 ms in the kernel lab).
    relay = new TestRelay();
    TurnClient c = client(TestRelay.USER, TestRelay.PASSWORD, SETTINGS);
    allocate(c);
    InetSocketAddress p = peerSocket();
    byte[] early = new io.introducer.protocol.ChannelData(io.introducer.protocol.ChannelData.MIN_CHANNEL, utf8("early")).encode();
    byte[] unknown = new io.introducer.protocol.ChannelData(io.introducer.protocol.ChannelData.MIN_CHANNEL + 1, utf8("x")).encode();

    TurnClient.Relayed got = endpoint.onControl(() -> {
      c.bindChannel(p); // in flight: the control thread is busy, so its success cannot have been taken yet
      return c.onChannelData(early);
    });

    assertThat(got).isNotNull();
    assertThat(got.peer()).isEqualTo(p);
    assertThat(new String(got.data(), StandardCharsets.UTF_8)).isEqualTo("early");
    assertThat(c.onChannelData(unknown)).as("a number we never asked for").isNull();
  }

  @Test
  void anAllocateWhoseSuccessIsLostIsDeletedRatherThanLeftToHoldTheAddress() throws Exception {
    relay = new TestRelay();
    // A proxy in front of the relay that loses every Allocate success: the relay allocates, the client times out.
    try (DatagramSocket proxy = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      proxy.setSoTimeout(100);
      Thread pump = new Thread(() -> {
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        InetSocketAddress client = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!proxy.isClosed() && System.nanoTime() < deadline) {
          try {
            proxy.receive(p);
          } catch (java.net.SocketTimeoutException e) {
            continue;
          } catch (java.io.IOException e) {
            return;
          }
          byte[] d = java.util.Arrays.copyOf(p.getData(), p.getLength());
          boolean fromRelay = p.getSocketAddress().equals(relay.address());
          if (!fromRelay) {
            client = (InetSocketAddress) p.getSocketAddress();
          }
          if (fromRelay && io.introducer.protocol.Demux.classify(d[0]) == io.introducer.protocol.Demux.Kind.STUN
              && decodes(d).is(io.introducer.protocol.StunMethods.ALLOCATE,
              io.introducer.protocol.StunClass.SUCCESS_RESPONSE)) {
            continue;
          }
          try {
            proxy.send(new DatagramPacket(d, d.length, fromRelay ? client : relay.address()));
          } catch (java.io.IOException e) {
            return;
          }
        }
      }, "allocate-success-eater");
      pump.setDaemon(true);
      pump.start();
      endpoint = new TurnEndpoint(new UdpTransportFactory());
      TurnClient c = endpoint.client((InetSocketAddress) proxy.getLocalSocketAddress(), TestRelay.USER,
          TestRelay.PASSWORD, TurnClient.Settings.defaults(Duration.ofMillis(800)));

      assertThatThrownBy(() -> allocate(c)).hasRootCauseInstanceOf(java.util.concurrent.TimeoutException.class);

      assertThat(eventually(3_000, () -> relay.counters().allocationsDeleted() == 1)).isTrue();
      assertThat(relay.counters().allocationsActive()).isZero();
      proxy.close();
      pump.join(2_000);
    }
  }

  @Test
  void closeDeletesTheAllocation() throws Exception {
    relay = new TestRelay();
    TurnClient c = client(TestRelay.USER, TestRelay.PASSWORD, SETTINGS);
    allocate(c);

    endpoint.onControl(c::close).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);

    assertThat(c.isActive()).isFalse();
    assertThat(relay.counters().allocationsActive()).isZero();
    assertThat(relay.counters().allocationsDeleted()).isEqualTo(1);
    // Idempotent, and sending afterwards is a no-op rather than an error.
    endpoint.onControl(c::close).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    int sentBefore = endpoint.sent.get();
    c.send(new InetSocketAddress("127.0.0.1", 9), utf8("nobody"));
    assertThat(endpoint.sent.get()).isEqualTo(sentBefore);
  }

  @Test
  void closingWhileTheAllocateIsInFlightStillDeletesWhatTheRelayGrants() throws Exception {
    relay = new TestRelay();
    TurnClient c = client(TestRelay.USER, TestRelay.PASSWORD, SETTINGS);
    CompletableFuture<CompletableFuture<Void>> closing = new CompletableFuture<>();
    // Right after the 401, in the same control-thread task: the authenticated Allocate is on its way.
    endpoint.afterResponse = () -> closing.complete(c.close());

    CompletableFuture<InetSocketAddress> allocation = endpoint.onControl(c::allocate);

    closing.get(WAIT.toMillis(), TimeUnit.MILLISECONDS).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    assertThat(allocation).isCompletedExceptionally();
    assertThat(relay.counters().allocationsCreated()).isEqualTo(1);
    assertThat(relay.counters().allocationsActive()).isZero();
    assertThat(relay.counters().allocationsDeleted()).isEqualTo(1);
  }

  @Test
  void whatWasSentJustBeforeCloseStillReachesThePeer() throws Exception {
    relay = new TestRelay();
    InetSocketAddress p = peerSocket();
    for (int i = 0; i < 5; i++) {
      String words = "last words " + i;
      endpoint = new TurnEndpoint(new UdpTransportFactory());
      TurnClient c = endpoint.client(relay.address(), TestRelay.USER, TestRelay.PASSWORD, SETTINGS);
      InetSocketAddress relayed = allocate(c);
      permit(c, p.getAddress());

      endpoint.onControl(() -> {
        c.send(p, utf8(words));
        return c.close();
      }).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);

      assertThat(peerReceives(relayed)).isEqualTo(words);
      endpoint.close();
    }
    endpoint = null;
    assertThat(relay.counters().allocationsActive()).isZero();
    assertThat(relay.counters().drops()).doesNotContainKey("send-failed");
  }

  @Test
  void requestsAreRetransmittedWhenTheRelaysAnswersAreLost() throws Exception {
    relay = new TestRelay();
    sim = new NatSimulator(5);
    InetSocketAddress server = relay.address();
    SimulatedNat nat = sim.addNat(NatBehavior.fullCone().toBuilder().dropFirstInbound(2, server::equals).build());
    endpoint = new TurnEndpoint(nat.addHost(), new InetSocketAddress(0));
    TurnClient c = endpoint.client(server, TestRelay.USER, TestRelay.PASSWORD, SETTINGS);

    InetSocketAddress relayed = allocate(c);

    assertThat(relayed).isNotNull();
    assertThat(nat.stats().droppedByHook()).isEqualTo(2);
    assertThat(c.mappedAddress().getAddress()).isEqualTo(nat.publicAddress());
    assertThat(relay.counters().allocationsCreated()).isEqualTo(1);
  }
}
