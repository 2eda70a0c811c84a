package io.introducer.relay;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;

/**
 * The relay's per-packet work, both directions (RFC 8656 sections 11-12). Client to peer: ChannelData
 * (read in place from the receive buffer) and Send indications. Peer to client: permission check, then
 * ChannelData when the peer has a channel, else a Data indication, written straight into the outgoing
 * buffer. Everything that is not relayed is dropped and counted; nothing is answered. Runs on its
 * event loop; nothing here allocates per packet but the outgoing buffer (pooled) and its envelope.
 */
final class DataPlane {
  private final RelayCounters counters;
  private final ByteBufAllocator alloc;
  private final Flusher flusher;
  private Flusher.Target main;

  DataPlane(RelayCounters counters, ByteBufAllocator alloc, Flusher flusher) {
    this.counters = counters;
    this.alloc = alloc;
    this.flusher = flusher;
  }

  /** The listening socket data goes back to clients through; set once it is bound. */
  void mainSocket(Flusher.Target socket) {
    this.main = socket;
  }

  /** A ChannelData datagram (all readable bytes of {@code data}) from a client; {@code a} is its allocation (null if none). */
  void fromClientChannelData(Allocation a, ByteBuf data) {
    int at = data.readerIndex();
    int len = data.readableBytes();
    if (len < 4) {
      counters.drop("channel-data-truncated");
      return;
    }
    int payload = data.getUnsignedShort(at + 2);
    if (4 + payload > len) {
      counters.drop("channel-data-truncated");
      return;
    }
    if (a == null || a.state != Allocation.State.ACTIVE) {
      counters.drop("no-allocation");
      return;
    }
    ChannelBinding b = a.channel(data.getUnsignedShort(at));
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
    ByteBuf out = alloc.directBuffer(payload);
    out.writeBytes(data, at + 4, payload);
    flusher.write(a.relay, new DatagramPacket(out, b.peer));
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
    Permission p = a.permissions.get(peer.getAddress());
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
    ByteBuf out = alloc.directBuffer(payload.length);
    out.writeBytes(payload);
    flusher.write(a.relay, new DatagramPacket(out, peer));
  }

  /** A datagram from a peer on {@code a}'s relayed socket. */
  void fromPeer(Allocation a, DatagramPacket packet) {
    if (a.state != Allocation.State.ACTIVE) {
      counters.drop("no-allocation");
      return;
    }
    InetSocketAddress sender = packet.sender();
    Permission p = a.permissions.get(sender.getAddress());
    if (p == null || !p.alive) {
      counters.drop("no-permission");
      return;
    }
    ByteBuf data = packet.content();
    int len = data.readableBytes();
    int port = sender.getPort();
    ChannelBinding b = p.binding(port);
    if (len > (b != null ? TurnFrames.MAX_CHANNEL_PAYLOAD : TurnFrames.MAX_INDICATION_PAYLOAD)) {
      counters.drop("too-large");
      return;
    }
    if (a.toClientBucket != null && !a.toClientBucket.tryTake(len, System.nanoTime())) {
      counters.drop("bandwidth");
      return;
    }
    ByteBuf frame;
    if (b != null) {
      frame = alloc.directBuffer(TurnFrames.channelDataLength(len));
      TurnFrames.writeChannelData(frame, b.number, data, data.readerIndex(), len);
    } else {
      frame = alloc.directBuffer(TurnFrames.dataIndicationLength(p.addressBytes.length, len));
      TurnFrames.writeDataIndication(frame, p.addressBytes, port, data, data.readerIndex(), len);
    }
    a.bytesToClient += len;
    a.packetsToClient++;
    counters.bytesToClient.add(len);
    counters.packetsToClient.increment();
    flusher.write(main, new DatagramPacket(frame, a.client));
  }
}
