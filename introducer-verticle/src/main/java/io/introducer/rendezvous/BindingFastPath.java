package io.introducer.rendezvous;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.zip.CRC32;

/**
 * The common STUN Binding request answered straight from the received bytes: a request with no attribute, or
 * with only a valid FINGERPRINT. The answer is written in place into one buffer, byte for byte what
 * {@link Dispatcher} builds for it (XOR-MAPPED-ADDRESS, MAPPED-ADDRESS, RESPONSE-ORIGIN and OTHER-ADDRESS of the
 * socket when known, SOFTWARE, FINGERPRINT when the request had one), with no decoding, no message object and
 * no intermediate arrays. Anything else (CHANGE-REQUEST, RESPONSE-PORT, unknown attributes, malformed input, any
 * other method) returns null and goes the general way. Stateless; one instance per event loop (it keeps a CRC).
 */
final class BindingFastPath {
  private static final int BINDING_REQUEST = 0x0001;
  private static final int BINDING_SUCCESS = 0x0101;
  private static final int COOKIE = StunMessage.MAGIC_COOKIE;

  private final byte[] software;
  private final int softwarePadded;
  private final CRC32 crc = new CRC32();

  BindingFastPath(String software) {
    this.software = software.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    this.softwarePadded = (this.software.length + 3) & ~3;
  }

  /**
   * The answer to {@code req} (its readable bytes) from {@code from}, sent from a socket whose RESPONSE-ORIGIN and
   * OTHER-ADDRESS values are given (null when unknown); null when the request needs the general path.
   */
  ByteBuf answer(ByteBuf req, InetSocketAddress from, byte[] responseOrigin, byte[] otherAddress, ByteBufAllocator alloc) {
    int r = req.readerIndex();
    int len = req.readableBytes();
    if (len != 20 && len != 28) {
      return null;
    }
    if (req.getUnsignedShort(r) != BINDING_REQUEST || req.getInt(r + 4) != COOKIE || req.getUnsignedShort(r + 2) != len - 20) {
      return null;
    }
    boolean fingerprint = len == 28;
    if (fingerprint) {
      if (req.getUnsignedShort(r + 20) != StunAttributes.FINGERPRINT || req.getUnsignedShort(r + 22) != 4
          || req.getInt(r + 24) != crc(req, r, 20)) {
        return null; // let the codec count what is wrong with it
      }
    }
    boolean v4 = from.getAddress() instanceof Inet4Address;
    byte[] ip = from.getAddress().getAddress();
    int address = 4 + (v4 ? 8 : 20);
    int body = 2 * address + (responseOrigin == null ? 0 : 4 + responseOrigin.length)
        + (otherAddress == null ? 0 : 4 + otherAddress.length) + 4 + softwarePadded + (fingerprint ? 8 : 0);
    ByteBuf out = alloc.directBuffer(20 + body);
    out.writeShort(BINDING_SUCCESS).writeShort(body).writeInt(COOKIE).writeBytes(req, r + 8, 12);
    int port = from.getPort();
    // XOR-MAPPED-ADDRESS (RFC 8489 14.2): port and address XORed with the cookie, IPv6 also with the transaction id.
    out.writeShort(StunAttributes.XOR_MAPPED_ADDRESS).writeShort(address - 4).writeByte(0).writeByte(v4 ? 1 : 2)
        .writeShort(port ^ (COOKIE >>> 16)).writeInt(int32(ip, 0) ^ COOKIE);
    if (!v4) {
      out.writeLong(((long) int32(ip, 4) << 32 | (int32(ip, 8) & 0xFFFFFFFFL)) ^ req.getLong(r + 8))
          .writeInt(int32(ip, 12) ^ req.getInt(r + 16));
    }
    out.writeShort(StunAttributes.MAPPED_ADDRESS).writeShort(address - 4).writeByte(0).writeByte(v4 ? 1 : 2)
        .writeShort(port).writeBytes(ip);
    if (responseOrigin != null) {
      out.writeShort(StunAttributes.RESPONSE_ORIGIN).writeShort(responseOrigin.length).writeBytes(responseOrigin);
    }
    if (otherAddress != null) {
      out.writeShort(StunAttributes.OTHER_ADDRESS).writeShort(otherAddress.length).writeBytes(otherAddress);
    }
    out.writeShort(StunAttributes.SOFTWARE).writeShort(software.length).writeBytes(software)
        .writeZero(softwarePadded - software.length);
    if (fingerprint) {
      int at = out.writerIndex();
      out.writeShort(StunAttributes.FINGERPRINT).writeShort(4).writeInt(crc(out, out.readerIndex(), at));
    }
    return out;
  }

  /** FINGERPRINT over {@code len} bytes of {@code b} at {@code off} (RFC 8489 14.7). */
  private int crc(ByteBuf b, int off, int len) {
    crc.reset();
    if (b.nioBufferCount() == 1) {
      crc.update(b.nioBuffer(off, len));
    } else {
      for (int i = 0; i < len; i++) {
        crc.update(b.getByte(off + i));
      }
    }
    return (int) crc.getValue() ^ StunMessage.FINGERPRINT_XOR;
  }

  private static int int32(byte[] b, int off) {
    return (b[off] & 0xFF) << 24 | (b[off + 1] & 0xFF) << 16 | (b[off + 2] & 0xFF) << 8 | (b[off + 3] & 0xFF);
  }
}
