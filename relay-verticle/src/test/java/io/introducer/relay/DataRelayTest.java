package io.introducer.relay;

import static io.introducer.relay.RelayFixture.ALICE;
import static io.introducer.relay.RelayFixture.ALICE_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.ChannelData;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Permissions, channels and the data path both ways (RFC 8656 sections 9-12), over real UDP on loopback. */
class DataRelayTest {
  private static final Duration WAIT = Duration.ofSeconds(3);
  private static Vertx vertx;
  private RelayFixture relay;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeAll
  static void vertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void closeVertx() throws Exception {
    RelayFixture.await(vertx.close());
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    if (relay != null) {
      relay.close();
    }
  }

  private TurnClient allocatedClient() throws Exception {
    TurnClient c = relay.client();
    closeables.add(c);
    return c.allocated(ALICE, ALICE_PASSWORD);
  }

  private TurnClient.Peer peer() throws Exception {
    TurnClient.Peer p = new TurnClient.Peer();
    closeables.add(p);
    return p;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void sendIndicationReachesAPermittedPeerFromTheRelayedAddress() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();
    TurnClient.Peer peer = peer();
    assertThat(c.createPermission(peer.address()).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);

    c.sendIndication(peer.address(), bytes("hello peer"));

    DatagramPacket got = peer.receive(WAIT);
    assertThat(got).isNotNull();
    assertThat(TurnClient.Peer.payload(got)).isEqualTo(bytes("hello peer"));
    assertThat(got.getSocketAddress()).isEqualTo(c.relayed);
    assertThat(relay.counters().packetsToPeer()).isEqualTo(1);
    assertThat(relay.counters().bytesToPeer()).isEqualTo(10);
  }

  @Test
  void peerReplyArrivesAsADataIndicationWithThePeerAddress() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();
    TurnClient.Peer peer = peer();
    c.createPermission(peer.address());

    peer.send(bytes("hello client"), c.relayed);

    StunMessage data = StunMessage.decode(c.receive(WAIT));
    assertThat(data.is(StunMethods.DATA, StunClass.INDICATION)).isTrue();
    assertThat(data.getXorAddress(StunAttributes.XOR_PEER_ADDRESS)).isEqualTo(peer.address());
    assertThat(data.get(StunAttributes.DATA)).isEqualTo(bytes("hello client"));
    assertThat(relay.counters().packetsToClient()).isEqualTo(1);
  }

  @Test
  void createPermissionInstallsEveryPeerAddressGiven() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();
    TurnClient.Peer one = peer();
    TurnClient.Peer two = peer();

    assertThat(c.createPermission(one.address(), new InetSocketAddress("127.0.0.2", 9)).messageClass())
        .isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(relay.allocations()).singleElement().satisfies(a -> assertThat(a.permissions()).isEqualTo(2));

    // A permission is per IP: another port of a permitted IP gets through too.
    c.sendIndication(two.address(), bytes("x"));
    assertThat(two.receive(WAIT)).isNotNull();
  }

  @Test
  void channelBindThenChannelDataFlowsBothWays() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();
    TurnClient.Peer peer = peer();
    assertThat(c.channelBind(0x4001, peer.address()).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);

    c.sendChannelData(0x4001, bytes("to peer"));
    DatagramPacket got = peer.receive(WAIT);
    assertThat(TurnClient.Peer.payload(got)).isEqualTo(bytes("to peer"));
    assertThat(got.getSocketAddress()).isEqualTo(c.relayed);

    peer.send(bytes("to client"), c.relayed);
    byte[] back = c.receive(WAIT);
    assertThat(ChannelData.decode(back, 0, back.length)).isEqualTo(new ChannelData(0x4001, bytes("to client")));
    assertThat(relay.allocations()).singleElement().satisfies(a -> {
      assertThat(a.channels()).isEqualTo(1);
      assertThat(a.bytesToPeer()).isEqualTo(7);
      assertThat(a.bytesToClient()).isEqualTo(9);
    });
  }

  @Test
  void datagramsLargerThanAnMtuAreRelayedWholeBothWays() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();
    TurnClient.Peer peer = peer();
    c.channelBind(0x4001, peer.address());
    byte[] big = new byte[8000];
    new java.util.Random(7).nextBytes(big);

    c.sendChannelData(0x4001, big);
    assertThat(TurnClient.Peer.payload(peer.receive(WAIT))).isEqualTo(big);
    peer.send(big, c.relayed);
    byte[] back = c.receive(WAIT);
    assertThat(ChannelData.decode(back, 0, back.length).data()).isEqualTo(big);
  }

  @Test
  void paddedChannelDataIsAcceptedAndOnlyTheClaimedLengthRelayed() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();
    TurnClient.Peer peer = peer();
    c.channelBind(0x4FFF, peer.address());

    c.sendRaw(new ChannelData(0x4FFF, bytes("abcde")).encode(true));
    assertThat(TurnClient.Peer.payload(peer.receive(WAIT))).isEqualTo(bytes("abcde"));
  }

  @Test
  void channelBindIsRefreshableAndAlsoPermitsSendIndications() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();
    TurnClient.Peer peer = peer();
    c.channelBind(0x4002, peer.address());

    assertThat(c.channelBind(0x4002, peer.address()).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    c.sendIndication(peer.address(), bytes("via send"));
    assertThat(TurnClient.Peer.payload(peer.receive(WAIT))).isEqualTo(bytes("via send"));
    assertThat(relay.counters().channelsBound()).isEqualTo(1);
  }

  @Test
  void trafficFromAnUnpermittedPeerIsDroppedAndCounted() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();
    TurnClient.Peer stranger = peer();

    stranger.send(bytes("let me in"), c.relayed);

    assertThat(RelayFixture.eventually(WAIT, () -> relay.counters().drops("no-permission") == 1)).isTrue();
    assertThat(relay.counters().packetsToClient()).isZero();
    // The drop is counted on arrival, so had it been relayed it would already be queued here.
    assertThat(c.receive(Duration.ofMillis(50))).isNull();
  }

  @Test
  void sendIndicationToAnUnpermittedPeerIsDroppedAndCounted() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();
    TurnClient.Peer peer = peer();

    c.sendIndication(peer.address(), bytes("no permission"));

    assertThat(RelayFixture.eventually(WAIT, () -> relay.counters().drops("no-permission") == 1)).isTrue();
    assertThat(relay.counters().packetsToPeer()).isZero();
  }

  @Test
  void channelDataOnAnUnboundChannelIsDroppedAndCounted() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();

    c.sendChannelData(0x4123, bytes("nobody"));

    assertThat(RelayFixture.eventually(WAIT, () -> relay.counters().drops("unbound-channel") == 1)).isTrue();
  }

  @Test
  void loopbackPeerIsRefused403WithoutAllowPeers() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("allowPeers", new JsonArray()));
    TurnClient c = allocatedClient();
    TurnClient.Peer peer = peer();

    assertThat(c.createPermission(peer.address()).errorCode().code()).isEqualTo(403);
    assertThat(c.channelBind(0x4001, peer.address()).errorCode().code()).isEqualTo(403);
    assertThat(relay.allocations()).singleElement().satisfies(a -> {
      assertThat(a.permissions()).isZero();
      assertThat(a.channels()).isZero();
    });
  }

  @Test
  void privateAndMetadataPeersAreRefused403AllOrNothing() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();
    TurnClient.Peer allowed = peer();

    for (String ip : List.of("10.1.2.3", "192.168.1.1", "172.16.0.1", "100.64.0.1", "169.254.169.254", "224.0.0.1", "0.0.0.0")) {
      assertThat(c.createPermission(allowed.address(), new InetSocketAddress(ip, 80)).errorCode().code())
          .as(ip).isEqualTo(403);
    }
    assertThat(relay.allocations()).singleElement().satisfies(a -> assertThat(a.permissions()).isZero());
  }

  @Test
  void ipv6PeerOnAnIpv4RelayIs443() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();

    assertThat(c.createPermission(new InetSocketAddress("2001:db8::1", 80)).errorCode().code()).isEqualTo(443);
  }

  @Test
  void channelNumberOutsideTheRangeIs400() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();
    TurnClient.Peer peer = peer();

    assertThat(c.channelBind(0x3FFF, peer.address()).errorCode().code()).isEqualTo(400);
    assertThat(c.channelBind(0x5000, peer.address()).errorCode().code()).isEqualTo(400);
  }

  @Test
  void legacyChannelRangeAcceptsRfc5766NumbersWhenConfigured() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("legacyChannelRange", true));
    TurnClient c = allocatedClient();
    TurnClient.Peer peer = peer();
    assertThat(c.channelBind(0x7FFF, peer.address()).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(c.channelBind(0x8000, peer().address()).errorCode().code()).isEqualTo(400);

    c.sendRaw(new byte[] {0x7F, (byte) 0xFF, 0, 2, 'h', 'i'});
    assertThat(TurnClient.Peer.payload(peer.receive(WAIT))).isEqualTo(bytes("hi"));
    peer.send(bytes("back"), c.relayed);
    assertThat(c.receive(WAIT)).containsExactly(0x7F, 0xFF, 0, 4, 'b', 'a', 'c', 'k');
  }

  @Test
  void channelAlreadyBoundToAnotherPeerIs400() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();
    TurnClient.Peer one = peer();
    TurnClient.Peer two = peer();
    c.channelBind(0x4001, one.address());

    assertThat(c.channelBind(0x4001, two.address()).errorCode().code()).isEqualTo(400);
  }

  @Test
  void peerAlreadyBoundToAnotherChannelIs400() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = allocatedClient();
    TurnClient.Peer peer = peer();
    c.channelBind(0x4001, peer.address());

    assertThat(c.channelBind(0x4002, peer.address()).errorCode().code()).isEqualTo(400);
  }

  @Test
  void malformedDatagramsAreDroppedSilentlyAndCountedByReason() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = relay.client();
    closeables.add(c);
    byte[] binding = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).encode();
    byte[] badCookie = binding.clone();
    badCookie[4] = 0;
    byte[] truncated = java.util.Arrays.copyOf(binding, 12);
    byte[] badLength = java.util.Arrays.copyOf(binding, 24);

    c.sendRaw(badCookie);
    c.sendRaw(truncated);
    c.sendRaw(badLength);
    c.sendRaw(new byte[] {0x40, 0x01, 0x00, 0x10, 1, 2}); // ChannelData shorter than it claims
    c.sendRaw(new byte[] {(byte) 0xFF, 1, 2, 3});
    assertThat(RelayFixture.eventually(WAIT, () -> relay.counters().drops().values().stream()
        .mapToLong(Long::longValue).sum() == 5)).isTrue();
    assertThat(relay.counters().drops()).containsEntry("bad-cookie", 1L).containsEntry("truncated", 1L)
        .containsEntry("bad-length", 1L).containsEntry("channel-data-truncated", 1L).containsEntry("not-turn", 1L);

    // Nothing answered: the first thing back is the answer to a good request sent afterwards.
    StunMessage r = c.exchange(binding);
    assertThat(r).isNotNull();
    assertThat(c.receive(Duration.ofMillis(50))).isNull();
  }

  @Test
  void bandwidthBeyondTheCapIsDroppedAndCounted() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("bandwidthBytesPerSecond", 1000));
    TurnClient c = allocatedClient();
    TurnClient.Peer peer = peer();
    c.channelBind(0x4001, peer.address());
    byte[] kilobyte = new byte[1000];

    int sent = 200; // 200 kB against a burst of 64 KiB and 1 kB/s
    RelayCounters n = relay.counters();
    for (int i = 0; i < sent; i++) {
      c.sendChannelData(0x4001, kilobyte);
      // One at a time, so the kernel's socket buffer never drops any: every packet is the relay's call.
      long accounted = i + 1;
      assertThat(RelayFixture.eventually(WAIT, () -> n.packetsToPeer() + n.drops("bandwidth") == accounted)).isTrue();
    }
    assertThat(n.packetsToPeer()).isBetween(60L, 75L);
    assertThat(relay.counters().drops("bandwidth")).isGreaterThan(100L);
  }

  @Test
  void expiredPermissionStopsTrafficUntilRefreshed() throws Exception {
    MutableClock clock = new MutableClock();
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("permissionLifetimeSeconds", 30), clock);
    TurnClient c = allocatedClient();
    TurnClient.Peer peer = peer();
    c.createPermission(peer.address());

    clock.advance(Duration.ofSeconds(31));
    assertThat(RelayFixture.eventually(WAIT, () -> {
      try {
        return relay.allocations().get(0).permissions() == 0;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    })).isTrue();
    peer.send(bytes("too late"), c.relayed);
    assertThat(RelayFixture.eventually(WAIT, () -> relay.counters().drops("no-permission") == 1)).isTrue();

    c.createPermission(peer.address());
    peer.send(bytes("again"), c.relayed);
    assertThat(StunMessage.decode(c.receive(WAIT)).get(StunAttributes.DATA)).isEqualTo(bytes("again"));
  }

  @Test
  void expiredChannelStopsChannelDataAndItsNumberStaysReserved() throws Exception {
    MutableClock clock = new MutableClock();
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig()
        .put("channelLifetimeSeconds", 60).put("permissionLifetimeSeconds", 300), clock);
    TurnClient c = allocatedClient();
    TurnClient.Peer one = peer();
    TurnClient.Peer two = peer();
    c.channelBind(0x4001, one.address());

    clock.advance(Duration.ofSeconds(61));
    assertThat(RelayFixture.eventually(WAIT, () -> {
      try {
        return relay.allocations().get(0).channels() == 0;
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    })).isTrue();
    c.sendChannelData(0x4001, bytes("stale"));
    assertThat(RelayFixture.eventually(WAIT, () -> relay.counters().drops("unbound-channel") == 1)).isTrue();
    assertThat(c.channelBind(0x4001, two.address()).errorCode().code()).isEqualTo(400);
    assertThat(c.channelBind(0x4001, one.address()).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
  }
}
