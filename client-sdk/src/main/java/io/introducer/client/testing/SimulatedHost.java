package io.introducer.client.testing;

import io.introducer.client.transport.DatagramTransport;
import io.introducer.client.transport.DatagramTransportFactory;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;

/**
 * A machine behind a {@link SimulatedNat}, with one private address. As a
 * {@link DatagramTransportFactory} it hands out virtual sockets on that address; pass it to
 * {@link io.introducer.client.ClientConfig.Builder#transportFactory}.
 */
public final class SimulatedHost implements DatagramTransportFactory {
  private final SimulatedNat nat;
  private final InetAddress address;

  SimulatedHost(SimulatedNat nat, InetAddress address) {
    this.nat = nat;
    this.address = address;
  }

  /** The host's private address (10.0.N.x), or the public one behind an {@link NatBehavior#open()} NAT. */
  public InetAddress address() {
    return address;
  }

  /** The NAT this host sits behind. */
  public SimulatedNat nat() {
    return nat;
  }

  /**
   * Opens a virtual socket. The bind address must be a wildcard address or this host's address; port 0
   * picks a free port.
   *
   * @throws BindException if the address is another one or the port is taken
   */
  @Override
  public DatagramTransport open(InetSocketAddress bindAddress) throws IOException {
    Objects.requireNonNull(bindAddress, "bindAddress");
    InetAddress a = bindAddress.getAddress();
    if (a == null || !(a.isAnyLocalAddress() || a.equals(address))) {
      throw new BindException("cannot assign requested address " + bindAddress + " on simulated host " + address);
    }
    return nat.open(address, bindAddress.getPort());
  }

  /** The host's one address. */
  @Override
  public List<InetAddress> hostAddresses() {
    return List.of(address);
  }

  @Override
  public String toString() {
    return "SimulatedHost[" + address.getHostAddress() + " behind " + nat.publicAddress().getHostAddress() + "]";
  }
}
