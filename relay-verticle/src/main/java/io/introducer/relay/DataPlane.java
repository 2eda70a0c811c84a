package io.introducer.relay;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import java.net.InetSocketAddress;

/**
 * The relay's per-packet work, both directions (RFC 8656 sections 11-12). Client to peer: ChannelData
 * (read in place, forwarded as a slice of the received buffer) and Send indications. Peer to client:
 * permission check, then ChannelData when the peer has a channel, else a Data indication. Everything
 * that is not relayed is dropped and counted; nothing is answered. Runs on the relay's event loop.
 */
final class DataPlane {
  private final RelayCounters counters;
  private final Handler<Throwable> sendFailed;
  private DatagramSocket main;

  DataPlane(RelayCounters counters) {
    this.counters = counters;
    this.sendFailed = e -> counters.drop("send-failed");
  }

  /** The listening socket answers go out of; set once it is bound. */
  void mainSocket(DatagramSocket socket) {
    this.main = socket;
  }

  /** A ChannelData datagram from a client; {@code a} is its allocation (null if none). */
  void fromClientChannelData(Allocation a, Buffer data) {
    int len = data.length();
    if (len < 4) {
      counters.drop("channel-data-truncated");
      return;
    }
    int payload = data.getUnsignedShort(2);
    if (4 + payload > len) {
      counters.drop("channel-data-truncated");
      return;
    }
    if (a == null || a.state != Allocation.State.ACTIVE) {
      counters.drop("no-allocation");
      return;
    }
    ChannelBinding b = a.channel(data.getUnsignedShort(0));
    if (b == null) {
      counters.drop("unbound-channel");
      return;
    }
    if (!b.permission.alive) {
      counters.drop("no-permission");
      return;
    }
    if (a.toPeerBucket != null && !a.toPeerBucket.tryTake(payload, System.nanoTime())) {
      counters.drop("bandwidth");
      return;
    }
    // Counted before sending so a reader that sees the datagram also sees it counted.
    a.bytesToPeer += payload;
    a.packetsToPeer++;
    counters.bytesToPeer.add(payload);
    counters.packetsToPeer.increment();
    a.relaySocket.send(data.slice(4, 4 + payload), b.peerPort, b.peerHost).onFailure(sendFailed);
  }

  /** A Send indication from a client (RFC 8656 11.2): no answer either way. */
  void fromClientSend(Allocation a, StunMessage msg) {
    if (a == null || a.state != Allocation.State.ACTIVE) {
      counters.drop("no-allocation");
      return;
    }
    if (!msg.unknownComprehensionRequired().isEmpty()) {
      counters.drop("send-unknown-attribute");
      return;
    }
    InetSocketAddress peer = msg.getXorAddress(StunAttributes.XOR_PEER_ADDRESS);
    byte[] payload = msg.get(StunAttributes.DATA);
    if (peer == null || payload == null) {
      counters.drop("send-malformed");
      return;
    }
    Permission p = a.permissions.get(peer.getAddress().getHostAddress());
    if (p == null || !p.alive) {
      counters.drop("no-permission");
      return;
    }
    if (a.toPeerBucket != null && !a.toPeerBucket.tryTake(payload.length, System.nanoTime())) {
      counters.drop("bandwidth");
      return;
    }
    a.bytesToPeer += payload.length;
    a.packetsToPeer++;
    counters.bytesToPeer.add(payload.length);
    counters.packetsToPeer.increment();
    a.relaySocket.send(Buffer.buffer(payload), peer.getPort(), p.key).onFailure(sendFailed);
  }

  /** A datagram from a peer on {@code a}'s relayed socket. */
  void fromPeer(Allocation a, DatagramPacket packet) {
    if (a.state != Allocation.State.ACTIVE) {
      counters.drop("no-allocation");
      return;
    }
    Permission p = a.permissions.get(packet.sender().host());
    if (p == null || !p.alive) {
      counters.drop("no-permission");
      return;
    }
    Buffer data = packet.data();
    int len = data.length();
    int port = packet.sender().port();
    ChannelBinding b = p.binding(port);
    if (len > (b != null ? TurnFrames.MAX_CHANNEL_PAYLOAD : TurnFrames.MAX_INDICATION_PAYLOAD)) {
      counters.drop("too-large");
      return;
    }
    if (a.toClientBucket != null && !a.toClientBucket.tryTake(len, System.nanoTime())) {
      counters.drop("bandwidth");
      return;
    }
    Buffer frame = b != null ? TurnFrames.channelData(b.number, data) : TurnFrames.dataIndication(p.address, port, data);
    a.bytesToClient += len;
    a.packetsToClient++;
    counters.bytesToClient.add(len);
    counters.packetsToClient.increment();
    main.send(frame, a.client.port(), a.client.host()).onFailure(sendFailed);
  }
}
