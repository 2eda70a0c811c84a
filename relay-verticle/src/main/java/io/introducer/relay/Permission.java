package io.introducer.relay;

import java.net.InetAddress;
import java.util.Arrays;

/**
 * A permission of one allocation for one peer IP (RFC 8656 section 9; ports do not matter). It stays
 * in its allocation's table while expired if channel bindings still reference it, so those bindings
 * see it come back to life when the client refreshes it.
 */
final class Permission {
  private static final ChannelBinding[] NONE = new ChannelBinding[0];

  /** The peer IP, also the key of its allocation's permission table. */
  final InetAddress address;
  /** Its bytes, for XOR-PEER-ADDRESS in Data indications. */
  final byte[] addressBytes;
  long expiresAt;
  boolean alive;
  /** Channel bindings to peers at this IP (any port), usually zero or one: scanned per packet. */
  ChannelBinding[] bindings = NONE;

  Permission(InetAddress address, long expiresAt) {
    this.address = address;
    this.addressBytes = address.getAddress();
    this.expiresAt = expiresAt;
    this.alive = true;
  }

  /** The active binding to this IP at {@code port}, or null. */
  ChannelBinding binding(int port) {
    for (ChannelBinding b : bindings) {
      if (b.peerPort == port && b.active) {
        return b;
      }
    }
    return null;
  }

  void addBinding(ChannelBinding b) {
    ChannelBinding[] next = new ChannelBinding[bindings.length + 1];
    System.arraycopy(bindings, 0, next, 0, bindings.length);
    next[bindings.length] = b;
    bindings = next;
  }

  void removeBinding(ChannelBinding b) {
    int n = 0;
    ChannelBinding[] next = new ChannelBinding[bindings.length];
    for (ChannelBinding x : bindings) {
      if (x != b) {
        next[n++] = x;
      }
    }
    bindings = n == 0 ? NONE : Arrays.copyOf(next, n);
  }
}
