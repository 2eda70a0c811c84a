package io.introducer.relay;

import io.introducer.protocol.StunAddress;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import java.net.InetAddress;
import java.util.concurrent.ThreadLocalRandom;

/** The two data-path frames the relay writes per packet, straight into the outgoing buffer (no builder, one copy). */
final class TurnFrames {
  /** Data indication message type: method 0x007, class indication. */
  static final int DATA_INDICATION = 0x0017;
  /** Largest UDP payload over IPv4 and IPv6 alike. */
  static final int MAX_DATAGRAM = 65_507;
  static final int MAX_CHANNEL_PAYLOAD = MAX_DATAGRAM - 4;
  /** Header, XOR-PEER-ADDRESS (IPv6 worst case) and DATA header. */
  static final int MAX_INDICATION_PAYLOAD = MAX_DATAGRAM - 20 - 24 - 4 - 3;

  private TurnFrames() {}

  /** Bytes a ChannelData frame for {@code len} payload bytes takes. */
  static int channelDataLength(int len) {
    return 4 + len;
  }

  /** ChannelData, unpadded (RFC 8656 12.5 allows that over UDP): header, then {@code len} bytes of {@code src} at {@code off}. */
  static void writeChannelData(ByteBuf out, int channel, ByteBuf src, int off, int len) {
    out.writeShort(channel).writeShort(len).writeBytes(src, off, len);
  }

  /** Bytes a Data indication for a peer with {@code addressLength} address bytes and {@code len} payload bytes takes. */
  static int dataIndicationLength(int addressLength, int len) {
    return StunMessage.HEADER_LENGTH + 4 + 4 + addressLength + 4 + len + ((4 - (len & 3)) & 3);
  }

  /**
   * A Data indication (random transaction id) carrying {@code len} bytes of {@code src} at {@code off} from
   * the peer {@code address} (4 or 16 bytes) : {@code port}; XOR-PEER-ADDRESS is computed in place.
   */
  static void writeDataIndication(ByteBuf out, byte[] address, int port, ByteBuf src, int off, int len) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long tx0 = random.nextLong();
    int tx1 = random.nextInt();
    int pad = (4 - (len & 3)) & 3;
    int xpa = 4 + address.length;
    out.writeShort(DATA_INDICATION)
        .writeShort(4 + xpa + 4 + len + pad)
        .writeInt(StunMessage.MAGIC_COOKIE)
        .writeLong(tx0)
        .writeInt(tx1)
        .writeShort(StunAttributes.XOR_PEER_ADDRESS)
        .writeShort(xpa)
        .writeByte(0)
        .writeByte(address.length == 4 ? StunAddress.FAMILY_IPV4 : StunAddress.FAMILY_IPV6)
        .writeShort(port ^ (StunMessage.MAGIC_COOKIE >>> 16));
    // RFC 8489 14.2: the address is XORed with the magic cookie, then (IPv6) with the transaction id.
    out.writeInt(int32(address, 0) ^ StunMessage.MAGIC_COOKIE);
    if (address.length == 16) {
      out.writeLong(int64(address, 4) ^ tx0).writeInt(int32(address, 12) ^ tx1);
    }
    out.writeShort(StunAttributes.DATA).writeShort(len).writeBytes(src, off, len).writeZero(pad);
  }

  /** ChannelData as a Buffer (tests and tools; the relay writes frames with {@link #writeChannelData}). */
  static Buffer channelData(int channel, Buffer payload) {
    ByteBuf src = Unpooled.wrappedBuffer(payload.getBytes());
    ByteBuf out = Unpooled.buffer(channelDataLength(src.readableBytes()));
    writeChannelData(out, channel, src, 0, src.readableBytes());
    return Buffer.buffer(bytes(out));
  }

  /** A Data indication as a Buffer (tests and tools; the relay writes frames with {@link #writeDataIndication}). */
  static Buffer dataIndication(InetAddress peer, int port, Buffer payload) {
    byte[] address = peer.getAddress();
    ByteBuf src = Unpooled.wrappedBuffer(payload.getBytes());
    ByteBuf out = Unpooled.buffer(dataIndicationLength(address.length, src.readableBytes()));
    writeDataIndication(out, address, port, src, 0, src.readableBytes());
    return Buffer.buffer(bytes(out));
  }

  private static byte[] bytes(ByteBuf b) {
    byte[] out = new byte[b.readableBytes()];
    b.readBytes(out);
    return out;
  }

  private static int int32(byte[] b, int off) {
    return (b[off] & 0xFF) << 24 | (b[off + 1] & 0xFF) << 16 | (b[off + 2] & 0xFF) << 8 | (b[off + 3] & 0xFF);
  }

  private static long int64(byte[] b, int off) {
    return (long) int32(b, off) << 32 | (int32(b, off + 4) & 0xFFFFFFFFL);
  }
}
