package io.introducer.rendezvous;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.channel.socket.SocketProtocolFamily;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.impl.transports.EpollTransport;
import io.vertx.core.internal.ContextInternal;
import java.net.InetSocketAddress;
import java.util.function.Consumer;

/**
 * One introducer socket as a raw netty datagram channel on the verticle's event loop, instead of Vert.x's
 * {@code DatagramSocket}, which per datagram reads one packet per loop iteration, copies it to the heap, and per
 * send resolves the host through a future and flushes. Here epoll reads up to {@link #BATCH} datagrams with one
 * recvmmsg, and sends are queued and flushed once per loop iteration (sendmmsg when several wait). Datagrams
 * arrive on the event-loop thread, outside any Vert.x context: the receiver dispatches onto the verticle's context
 * for anything but the Binding fast path. Event-loop confined.
 */
final class UdpChannel {
  /** Datagrams per recvmmsg. */
  static final int BATCH = 32;
  /**
   * Largest datagram read, as before with Vert.x's default (netty's 2048): longer ones arrive truncated and fail the
   * STUN length check. Rendezvous messages are far shorter.
   */
  static final int MAX_DATAGRAM = 2048;
  /**
   * SO_RCVBUF: what the kernel queues while the loop does not run (another process has the core, a GC pause); capped
   * by net.core.rmem_max (212992 by default: raise it on a busy introducer).
   */
  static final int RECEIVE_BUFFER = 4 * 1024 * 1024;

  /** Receives a datagram; {@code packet} is released by the caller afterwards. */
  interface Receiver {
    void receive(DatagramPacket packet);
  }

  private final DatagramChannel channel;
  private final Runnable flushTask = this::flush;
  private boolean flushScheduled;

  private UdpChannel(DatagramChannel channel) {
    this.channel = channel;
  }

  /** Creates, registers on {@code context}'s event loop and binds a channel delivering to {@code receiver}. */
  static Future<UdpChannel> bind(ContextInternal context, InetSocketAddress local, Receiver receiver,
      Consumer<Throwable> errors) {
    Promise<UdpChannel> promise = Promise.promise();
    boolean ipv6 = local.getAddress() instanceof java.net.Inet6Address;
    // Vert.x's epoll transport ignores the family and always opens an IPv6 socket, which sends IPv4 through the
    // kernel's v4-mapped path: with epoll the channel is made here, in the family of the bind address.
    DatagramChannel ch = context.owner().transport() instanceof EpollTransport
        ? new EpollDatagramChannel(ipv6 ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET)
        : context.owner().transport().datagramChannel(ipv6 ? InternetProtocolFamily.IPv6 : InternetProtocolFamily.IPv4);
    UdpChannel udp = new UdpChannel(ch);
    try {
      ch.config().setReceiveBufferSize(RECEIVE_BUFFER);
      if (ch instanceof EpollDatagramChannel) {
        ch.config().setOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, MAX_DATAGRAM);
        // One recvmmsg per readiness (level-triggered epoll reports the socket again when more is queued).
        ch.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(BATCH * MAX_DATAGRAM).maxMessagesPerRead(1));
      } else {
        ch.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(MAX_DATAGRAM).maxMessagesPerRead(16));
      }
      ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
          DatagramPacket packet = (DatagramPacket) msg;
          try {
            receiver.receive(packet);
          } finally {
            packet.release();
          }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
          errors.accept(cause); // sends use void promises: their failures arrive here
        }
      });
    } catch (RuntimeException e) {
      promise.fail(e);
      return promise.future();
    }
    context.nettyEventLoop().register(ch).addListener((ChannelFuture reg) -> {
      if (!reg.isSuccess()) {
        promise.fail(reg.cause());
        return;
      }
      ch.bind(local).addListener((ChannelFuture b) -> {
        if (b.isSuccess()) {
          promise.complete(udp);
        } else {
          ch.close();
          promise.fail(b.cause());
        }
      });
    });
    return promise.future();
  }

  InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.localAddress();
  }

  void send(byte[] datagram, InetSocketAddress to) {
    send(Unpooled.wrappedBuffer(datagram), to);
  }

  /** Queues {@code datagram} (ownership passes); it leaves at the end of this event-loop iteration. */
  void send(ByteBuf datagram, InetSocketAddress to) {
    if (!channel.eventLoop().inEventLoop()) {
      channel.writeAndFlush(new DatagramPacket(datagram, to), channel.voidPromise());
      return;
    }
    channel.write(new DatagramPacket(datagram, to), channel.voidPromise());
    if (!flushScheduled) {
      flushScheduled = true;
      channel.eventLoop().execute(flushTask);
    }
  }

  private void flush() {
    flushScheduled = false;
    channel.flush();
  }

  ByteBufAllocator alloc() {
    return channel.alloc();
  }

  Future<Void> close() {
    Promise<Void> done = Promise.promise();
    if (!channel.isOpen()) {
      done.complete();
    } else {
      channel.flush();
      channel.close().addListener(f -> done.complete());
    }
    return done.future();
  }

}
