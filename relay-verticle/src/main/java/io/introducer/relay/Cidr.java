package io.introducer.relay;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** An IPv4 or IPv6 prefix such as {@code 10.0.0.0/8} or {@code fe80::/10}. Parsed without DNS. */
public final class Cidr {
  private final byte[] network;
  private final int prefixLength;
  private final String text;

  private Cidr(byte[] network, int prefixLength, String text) {
    this.network = network;
    this.prefixLength = prefixLength;
    this.text = text;
  }

  /**
   * Parses "address/prefix" (or a bare address, meaning a single host).
   *
   * @throws IllegalArgumentException naming the bad input
   */
  public static Cidr parse(String s) {
    if (s == null || s.isBlank()) {
      throw new IllegalArgumentException("CIDR must be a non-empty string like 10.0.0.0/8");
    }
    String t = s.trim();
    int slash = t.indexOf('/');
    String addr = slash < 0 ? t : t.substring(0, slash);
    byte[] bytes = IpLiterals.parse(addr);
    if (bytes == null) {
      throw new IllegalArgumentException("not an IP address literal in CIDR \"" + s + "\"");
    }
    int bits = bytes.length * 8;
    int prefix = bits;
    if (slash >= 0) {
      try {
        prefix = Integer.parseInt(t.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("bad prefix length in CIDR \"" + s + "\"");
      }
      if (prefix < 0 || prefix > bits) {
        throw new IllegalArgumentException("prefix length must be 0-" + bits + " in CIDR \"" + s + "\"");
      }
    }
    mask(bytes, prefix);
    return new Cidr(bytes, prefix, t);
  }

  /** True when {@code address} (same family) lies inside this prefix. */
  public boolean contains(InetAddress address) {
    return contains(address.getAddress());
  }

  public boolean contains(byte[] address) {
    if (address.length != network.length) {
      return false;
    }
    int full = prefixLength / 8;
    for (int i = 0; i < full; i++) {
      if (address[i] != network[i]) {
        return false;
      }
    }
    int rest = prefixLength % 8;
    if (rest == 0) {
      return true;
    }
    int m = (0xFF << (8 - rest)) & 0xFF;
    return (address[full] & m) == (network[full] & 0xFF);
  }

  public int prefixLength() {
    return prefixLength;
  }

  public InetAddress network() {
    try {
      return InetAddress.getByAddress(network.clone());
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e); // cannot happen: length is 4 or 16
    }
  }

  private static void mask(byte[] b, int prefix) {
    for (int i = 0; i < b.length; i++) {
      int keep = Math.max(0, Math.min(8, prefix - i * 8));
      b[i] &= (byte) ((0xFF << (8 - keep)) & 0xFF);
    }
  }

  @Override
  public String toString() {
    return text;
  }
}
