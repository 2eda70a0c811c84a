package io.introducer.relay;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.unix.UnixChannelOption;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.channel.socket.SocketProtocolFamily;
import io.vertx.core.impl.transports.EpollTransport;
import io.vertx.core.internal.VertxInternal;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;

/**
 * The relay's sockets: raw netty datagram channels registered on a Vert.x event loop, so their
 * handlers run on that loop's thread with no hop, created through Vert.x's transport (epoll when Vert.x
 * runs on the native transport, else NIO).
 *
 * <p>Why not Vert.x's {@code DatagramSocket}: per datagram it reads one packet per loop iteration
 * ({@code maxMessagesPerRead(1)} with a plain recvmsg), copies it into a heap buffer, makes a sender
 * {@code SocketAddress} and a packet object, and per send resolves the host string through a future and
 * flushes (one sendto per packet). Here epoll reads with recvmmsg into a reused buffer, writes are
 * queued and flushed once per loop iteration (sendmmsg when several wait on one socket), and the
 * listening socket can be opened once per event loop with SO_REUSEPORT.
 */
final class UdpChannels {
  /** Datagrams one recvmmsg may return (the listening socket; relayed sockets rarely have more than one queued). */
  static final int BATCH = 16;

  private UdpChannels() {}

  /**
   * A datagram channel of Vert.x's transport in the address family of the bind address. Vert.x's epoll transport
   * ignores the family it is given and always opens an IPv6 socket, so IPv4 traffic would take the kernel's
   * v4-mapped IPv6 path (udpv6_sendmsg, then udp_sendmsg) on every send: with epoll the channel is made here.
   */
  static DatagramChannel newChannel(VertxInternal vertx, boolean ipv6) {
    if (vertx.transport() instanceof EpollTransport) {
      return new EpollDatagramChannel(ipv6 ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET);
    }
    return vertx.transport().datagramChannel(ipv6 ? InternetProtocolFamily.IPv6 : InternetProtocolFamily.IPv4);
  }

  /**
   * Creates a channel with {@code handler}, registers it on {@code loop} and binds it.
   *
   * @param reusePort SO_REUSEPORT, for one listening socket per event loop on the same port
   * @param receiveBuffer SO_RCVBUF in bytes
   * @param recv the loop's receive buffers (used with epoll; NIO reads into pooled buffers)
   */
  static Future<DatagramChannel> bind(VertxInternal vertx, EventLoop loop, InetSocketAddress local, boolean reusePort,
      int receiveBuffer, RecvBuffers recv, ChannelHandler handler) {
    Promise<DatagramChannel> promise = Promise.promise();
    DatagramChannel ch;
    try {
      ch = newChannel(vertx, local.getAddress() instanceof Inet6Address);
    } catch (RuntimeException e) {
      promise.fail(e);
      return promise.future();
    }
    try {
      ch.config().setReceiveBufferSize(receiveBuffer);
      if (ch instanceof EpollDatagramChannel) {
        ch.config().setOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, RecvBuffers.SLOT);
        ch.config().setRecvByteBufAllocator(recv);
        if (reusePort) {
          ch.config().setOption(UnixChannelOption.SO_REUSEPORT, true);
        }
      } else {
        ch.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(RecvBuffers.SLOT).maxMessagesPerRead(BATCH));
        if (reusePort && !(ch instanceof NioDatagramChannel
            ? ch.config().setOption(NioChannelOption.of(StandardSocketOptions.SO_REUSEPORT), true)
            : ch.config().setOption(UnixChannelOption.SO_REUSEPORT, true))) {
          throw new IllegalStateException("SO_REUSEPORT is not supported by " + ch.getClass().getSimpleName());
        }
      }
      ch.config().setOption(ChannelOption.SO_REUSEADDR, false);
      ch.pipeline().addLast(handler);
    } catch (RuntimeException e) {
      // The socket is open from newChannel on: close it, or every failed setup leaks a descriptor (and an Allocate
      // tries up to AllocationManager.BIND_ATTEMPTS ports).
      ch.unsafe().closeForcibly();
      promise.fail(e);
      return promise.future();
    }
    loop.register(ch).addListener((ChannelFuture reg) -> {
      if (!reg.isSuccess()) {
        ch.close();
        promise.fail(reg.cause());
        return;
      }
      ch.bind(local).addListener((ChannelFuture b) -> {
        if (b.isSuccess()) {
          promise.complete(ch);
        } else {
          ch.close();
          promise.fail(b.cause());
        }
      });
    });
    return promise.future();
  }
}
