package io.introducer.client.transport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;

/** Opens {@link DatagramTransport}s: the operating system's sockets, or simulated ones in tests. */
public interface DatagramTransportFactory {

  /**
   * Opens a transport bound to {@code bindAddress} (a wildcard address and/or port 0 let the
   * implementation choose).
   *
   * @throws IOException if the address cannot be bound
   */
  DatagramTransport open(InetSocketAddress bindAddress) throws IOException;

  /**
   * The local interface addresses a client bound to a wildcard address offers as host candidates:
   * non-loopback, non-link-local addresses of the interfaces that are up.
   */
  List<InetAddress> hostAddresses();
}
