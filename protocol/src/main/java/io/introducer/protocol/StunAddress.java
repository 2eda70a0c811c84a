package io.introducer.protocol;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** Codec for the (XOR-)MAPPED-ADDRESS value layout shared by many attributes (RFC 8489 14.1-14.2). */
public final class StunAddress {
  public static final int FAMILY_IPV4 = 0x01;
  public static final int FAMILY_IPV6 = 0x02;

  private StunAddress() {}

  public static byte[] encodePlain(InetSocketAddress a) {
    byte[] ip = a.getAddress().getAddress();
    byte[] v = new byte[4 + ip.length];
    v[1] = (byte) (ip.length == 4 ? FAMILY_IPV4 : FAMILY_IPV6);
    StunMessage.writeShort(v, 2, a.getPort());
    System.arraycopy(ip, 0, v, 4, ip.length);
    return v;
  }

  /** XOR encoding: port with the cookie's top 16 bits, address with cookie (+ transaction id for IPv6). */
  public static byte[] encodeXor(InetSocketAddress a, byte[] transactionId) {
    byte[] v = encodePlain(a);
    xor(v, 0, v.length, transactionId, 0);
    return v;
  }

  public static InetSocketAddress decodePlain(byte[] v, int off, int len) {
    if (len < 4) {
      return null;
    }
    int family = v[off + 1] & 0xFF;
    int alen = family == FAMILY_IPV4 ? 4 : family == FAMILY_IPV6 ? 16 : -1;
    if (alen < 0 || len != 4 + alen) {
      return null;
    }
    byte[] ip = new byte[alen];
    System.arraycopy(v, off + 4, ip, 0, alen);
    InetAddress addr = StunMessage.address(ip);
    return addr == null ? null : new InetSocketAddress(addr, StunMessage.readShort(v, off + 2));
  }

  /**
   * Decodes an XOR address. {@code txSource}/{@code txOffset} locate the 12-byte transaction id
   * (within a raw message, offset 8).
   */
  public static InetSocketAddress decodeXor(byte[] v, int off, int len, byte[] txSource, int txOffset) {
    byte[] copy = new byte[len];
    System.arraycopy(v, off, copy, 0, len);
    byte[] tx = new byte[12];
    System.arraycopy(txSource, txOffset, tx, 0, 12);
    xor(copy, 0, len, tx, 0);
    return decodePlain(copy, 0, len);
  }

  private static void xor(byte[] v, int off, int len, byte[] tx, int txOff) {
    if (len < 4) {
      return;
    }
    v[off + 2] ^= 0x21;
    v[off + 3] ^= 0x12;
    byte[] pad = {0x21, 0x12, (byte) 0xA4, 0x42};
    for (int i = 4; i < len && i < 20; i++) {
      v[off + i] ^= i < 8 ? pad[i - 4] : tx[txOff + i - 8];
    }
  }

  public static boolean isIpv4(InetSocketAddress a) {
    return a.getAddress() instanceof Inet4Address;
  }

  public static boolean isIpv6(InetSocketAddress a) {
    return a.getAddress() instanceof Inet6Address;
  }
}
