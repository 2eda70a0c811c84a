package io.introducer.client.transport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** The default {@link DatagramTransportFactory}: real UDP sockets through {@link DatagramChannel}. */
public final class UdpTransportFactory implements DatagramTransportFactory {

  /** Creates the factory; it holds no state. */
  public UdpTransportFactory() {}

  /**
   * Opens a blocking {@link DatagramChannel} bound to {@code bindAddress}; an IPv4 bind address gives an
   * IPv4-only socket so that sends to IPv4 peers never depend on dual-stack support.
   */
  @Override
  public DatagramTransport open(InetSocketAddress bindAddress) throws IOException {
    DatagramChannel channel = bindAddress.getAddress() instanceof Inet4Address
        ? DatagramChannel.open(StandardProtocolFamily.INET)
        : DatagramChannel.open();
    try {
      channel.bind(bindAddress);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    return new UdpTransport(channel);
  }

  /** Addresses of every interface that is up, skipping loopback, link-local and multicast addresses. */
  @Override
  public List<InetAddress> hostAddresses() {
    List<InetAddress> out = new ArrayList<>();
    try {
      for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (!nif.isUp() || nif.isLoopback()) {
          continue;
        }
        for (InetAddress a : Collections.list(nif.getInetAddresses())) {
          if (!a.isLoopbackAddress() && !a.isLinkLocalAddress() && !a.isMulticastAddress() && !a.isAnyLocalAddress()) {
            out.add(a);
          }
        }
      }
    } catch (SocketException e) {
      throw new UncheckedIOException("cannot list network interfaces", e);
    }
    return out;
  }

  private static final class UdpTransport implements DatagramTransport {
    private final DatagramChannel channel;
    private final InetSocketAddress local;

    UdpTransport(DatagramChannel channel) throws IOException {
      this.channel = channel;
      this.local = (InetSocketAddress) channel.getLocalAddress();
    }

    @Override
    public InetSocketAddress localAddress() {
      return local;
    }

    @Override
    public void send(ByteBuffer data, InetSocketAddress target) throws IOException {
      channel.send(data, target);
    }

    @Override
    public InetSocketAddress receive(ByteBuffer dst) throws IOException {
      return (InetSocketAddress) channel.receive(dst);
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }

    @Override
    public String toString() {
      return "udp:" + local;
    }
  }
}
