package io.introducer.relay;

import java.net.InetSocketAddress;

/**
 * A channel number bound to a peer transport address (RFC 8656 section 12). After it expires it is
 * kept, inactive, for a cool-down so neither the number nor the peer can be re-bound to something
 * else while stale ChannelData may still be in flight.
 */
final class ChannelBinding {
  final int number;
  /** The peer, also the destination of the datagrams the relay sends on this channel. */
  final InetSocketAddress peer;
  final int peerPort;
  final Permission permission;
  long expiresAt;
  long coolDownUntil;
  boolean active;

  ChannelBinding(int number, InetSocketAddress peer, Permission permission, long expiresAt) {
    this.number = number;
    this.peer = peer;
    this.peerPort = peer.getPort();
    this.permission = permission;
    this.expiresAt = expiresAt;
    this.active = true;
  }
}
