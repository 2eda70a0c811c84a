package io.introducer.client.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.HashSet;
import java.util.Set;

/** One external mapping: a real loopback UDP socket standing for an internal endpoint. Guarded by its NAT's lock. */
final class NatMapping {
  final VirtualTransport internal;
  final DatagramChannel socket;
  final InetSocketAddress external;
  private final Set<InetAddress> contactedAddresses = new HashSet<>();
  private final Set<InetSocketAddress> contactedEndpoints = new HashSet<>();
  private long lastOutboundNanos = System.nanoTime();
  private boolean closed;

  NatMapping(VirtualTransport internal, DatagramChannel socket, InetSocketAddress external) {
    this.internal = internal;
    this.socket = socket;
    this.external = external;
  }

  /** An outbound packet to {@code target}: refreshes the mapping and opens the filter for replies. */
  void outbound(InetSocketAddress target) {
    lastOutboundNanos = System.nanoTime();
    contactedAddresses.add(target.getAddress());
    contactedEndpoints.add(target);
  }

  boolean permits(NatBehavior.Filtering filtering, InetSocketAddress source) {
    return switch (filtering) {
      case ENDPOINT_INDEPENDENT -> true;
      case ADDRESS_DEPENDENT -> contactedAddresses.contains(source.getAddress());
      case ADDRESS_AND_PORT_DEPENDENT -> contactedEndpoints.contains(source);
    };
  }

  boolean expired(NatBehavior behavior, long now) {
    return behavior.mappingTimeout() != null && now - lastOutboundNanos > behavior.mappingTimeout().toNanos();
  }

  boolean isClosed() {
    return closed;
  }

  void close() {
    closed = true;
    try {
      socket.close();
    } catch (IOException e) {
      // closing a datagram socket does not fail in practice; nothing to do if it does
    }
  }
}
