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
import io.netty.channel.EventLoop;
import io.netty.channel.unix.UnixChannelOption;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.internal.ContextInternal;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One introducer socket as raw netty datagram channels on Vert.x event loops, instead of Vert.x's
 * {@code DatagramSocket}, which per datagram reads one packet per loop iteration, copies it to the heap, and per
 * send resolves the host through a future and flushes. Here epoll reads up to {@link #BATCH} datagrams with one
 * recvmmsg, and sends are queued and flushed once per loop iteration (sendmmsg when several wait).
 *
 * <p>One logical socket may be several channels ({@link Lane}s): with the native transport and {@code lanes} &gt; 1,
 * the address is bound once per event loop with SO_REUSEPORT (the first lane on the verticle's own loop, the others on
 * other loops of Vert.x's group), and the kernel spreads the datagrams over them by hashing the 4-tuple, so a source
 * address:port always meets the same lane. Every lane reads and answers on its own loop; they all send from the same
 * address. With NIO (no native transport) there is one lane whatever is asked. Datagrams arrive on a lane's
 * event-loop thread, outside any Vert.x context: the receiver dispatches onto the verticle's context for anything but
 * the Binding fast path. A lane is confined to its loop; {@link #send} picks the caller's lane.
 */
final class UdpChannel {
  private static final Logger log = LoggerFactory.getLogger(UdpChannel.class);
  /** Datagrams per recvmmsg. */
  static final int BATCH = 32;
  /**
   * Largest datagram read, as before with Vert.x's default (netty's 2048): longer ones arrive truncated and fail the
   * STUN length check. Rendezvous messages are far shorter.
   */
  static final int MAX_DATAGRAM = 2048;
  /**
   * SO_RCVBUF: what the kernel queues while the loop does not run (another process has the core, a GC pause); capped
   * by net.core.rmem_max (212992 by default: raise it on a busy introducer). Per lane.
   */
  static final int RECEIVE_BUFFER = 4 * 1024 * 1024;

  /** Receives a datagram on {@code lane}'s loop; {@code packet} is released by the caller afterwards. */
  interface Receiver {
    void receive(Lane lane, DatagramPacket packet);
  }

  /** One channel of the socket, on one event loop; confined to it. */
  static final class Lane {
    /** 0 = the channel on the verticle's own event loop. */
    final int index;
    private final DatagramChannel channel;
    /** Writes go straight to the channel's unsafe on its loop: there is no outbound handler to walk the pipeline for. */
    private final io.netty.channel.Channel.Unsafe unsafe;
    private final io.netty.channel.ChannelPromise voidPromise;
    private final Runnable flushTask = this::flush;
    private boolean flushScheduled;
    /** Datagrams read (for tests: read on the lane's loop). */
    private long received;

    private Lane(int index, DatagramChannel channel) {
      this.index = index;
      this.channel = channel;
      this.unsafe = channel.unsafe();
      this.voidPromise = channel.voidPromise();
    }

    /** Queues {@code datagram} (ownership passes) on this channel; it leaves at the end of this loop iteration. */
    void send(ByteBuf datagram, InetSocketAddress to) {
      if (!channel.eventLoop().inEventLoop()) {
        channel.writeAndFlush(new DatagramPacket(datagram, to), voidPromise);
        return;
      }
      unsafe.write(new DatagramPacket(datagram, to), voidPromise);
      if (!flushScheduled) {
        flushScheduled = true;
        channel.eventLoop().execute(flushTask);
      }
    }

    ByteBufAllocator alloc() {
      return channel.alloc();
    }

    private void flush() {
      flushScheduled = false;
      unsafe.flush();
    }
  }

  private final Lane[] lanes;

  private UdpChannel(Lane[] lanes) {
    this.lanes = lanes;
  }

  /**
   * Binds {@code local} on up to {@code lanes} event loops ({@code context}'s first) delivering to {@code receiver};
   * one lane without the native transport or when Vert.x has fewer event loops (logged).
   */
  static Future<UdpChannel> bind(ContextInternal context, int lanes, InetSocketAddress local, Receiver receiver,
      Consumer<Throwable> errors) {
    List<EventLoop> loops = loops(context, lanes, local);
    boolean reusePort = loops.size() > 1;
    Lane[] bound = new Lane[loops.size()];
    // The first lane binds the configured port (0 = ephemeral), the others join it on the bound port.
    Future<Void> chain = bindLane(context, loops.get(0), 0, local, reusePort, receiver, errors).map(l -> {
      bound[0] = l;
      return null;
    });
    for (int i = 1; i < loops.size(); i++) {
      int index = i;
      chain = chain.compose(v -> bindLane(context, loops.get(index), index,
          new InetSocketAddress(local.getAddress(), ((InetSocketAddress) bound[0].channel.localAddress()).getPort()),
          true, receiver, errors).map(l -> {
            bound[index] = l;
            return null;
          }));
    }
    return chain.transform(ar -> {
      if (ar.succeeded()) {
        return Future.succeededFuture(new UdpChannel(bound));
      }
      UdpChannel partial = new UdpChannel(java.util.Arrays.stream(bound).filter(java.util.Objects::nonNull)
          .toArray(Lane[]::new));
      return partial.close().transform(x -> Future.failedFuture(ar.cause()));
    });
  }

  /** {@code context}'s event loop, then others of Vert.x's group, up to {@code n}; one without native epoll. */
  private static List<EventLoop> loops(ContextInternal context, int n, InetSocketAddress local) {
    List<EventLoop> out = new ArrayList<>();
    out.add(context.nettyEventLoop());
    if (n <= 1) {
      return out;
    }
    if (!(context.owner().transport() instanceof EpollTransport)) {
      log.info("udp/{}: {} event loops asked, one used: SO_REUSEPORT sockets need Vert.x's native (epoll) transport",
          local, n);
      return out;
    }
    for (EventExecutor e : context.owner().nettyEventLoopGroup()) {
      if (out.size() >= n) {
        break;
      }
      if (e instanceof EventLoop loop && !out.contains(loop)) {
        out.add(loop);
      }
    }
    if (out.size() < n) {
      log.warn("udp/{}: {} event loops asked, Vert.x has {}: using {}", local, n, out.size(), out.size());
    }
    return out;
  }

  private static Future<Lane> bindLane(ContextInternal context, EventLoop loop, int index, InetSocketAddress local,
      boolean reusePort, Receiver receiver, Consumer<Throwable> errors) {
    Promise<Lane> promise = Promise.promise();
    boolean ipv6 = local.getAddress() instanceof java.net.Inet6Address;
    // Vert.x's epoll transport ignores the family and always opens an IPv6 socket, which sends IPv4 through the
    // kernel's v4-mapped path: with epoll the channel is made here, in the family of the bind address.
    DatagramChannel ch = context.owner().transport() instanceof EpollTransport
        ? new EpollDatagramChannel(ipv6 ? SocketProtocolFamily.INET6 : SocketProtocolFamily.INET)
        : context.owner().transport().datagramChannel(ipv6 ? InternetProtocolFamily.IPv6 : InternetProtocolFamily.IPv4);
    Lane lane = new Lane(index, ch);
    try {
      ch.config().setReceiveBufferSize(RECEIVE_BUFFER);
      if (ch instanceof EpollDatagramChannel) {
        ch.config().setOption(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, MAX_DATAGRAM);
        // One recvmmsg per readiness (level-triggered epoll reports the socket again when more is queued).
        ch.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(BATCH * MAX_DATAGRAM).maxMessagesPerRead(1));
        if (reusePort) {
          ch.config().setOption(UnixChannelOption.SO_REUSEPORT, true);
        }
      } else {
        ch.config().setRecvByteBufAllocator(new FixedRecvByteBufAllocator(MAX_DATAGRAM).maxMessagesPerRead(16));
      }
      ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
          DatagramPacket packet = (DatagramPacket) msg;
          lane.received++;
          try {
            receiver.receive(lane, packet);
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
      ch.unsafe().closeForcibly(); // not registered yet: close the descriptor now
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
          promise.complete(lane);
        } else {
          ch.close();
          promise.fail(b.cause());
        }
      });
    });
    return promise.future();
  }

  /** The channels of this socket: 1 = one event loop. */
  int lanes() {
    return lanes.length;
  }

  InetSocketAddress localAddress() {
    return (InetSocketAddress) lanes[0].channel.localAddress();
  }

  void send(byte[] datagram, InetSocketAddress to) {
    send(Unpooled.wrappedBuffer(datagram), to);
  }

  /**
   * Queues {@code datagram} (ownership passes) on the lane of the calling event loop (the verticle's context: lane 0),
   * else hands it to lane 0's loop; it leaves at the end of that loop iteration.
   */
  void send(ByteBuf datagram, InetSocketAddress to) {
    Lane[] all = lanes;
    for (int i = 1; i < all.length; i++) {
      if (all[i].channel.eventLoop().inEventLoop()) {
        all[i].send(datagram, to);
        return;
      }
    }
    all[0].send(datagram, to);
  }

  ByteBufAllocator alloc() {
    return lanes[0].alloc();
  }

  /** Datagrams read by each lane so far (each read on its loop); for tests. */
  Future<long[]> receivedPerLane() {
    long[] out = new long[lanes.length];
    List<Future<Void>> reads = new ArrayList<>();
    for (Lane l : lanes) {
      Promise<Void> p = Promise.promise();
      l.channel.eventLoop().execute(() -> {
        out[l.index] = l.received;
        p.complete();
      });
      reads.add(p.future());
    }
    return Future.all(reads).map(v -> out);
  }

  Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>();
    for (Lane l : lanes) {
      Promise<Void> done = Promise.promise();
      if (!l.channel.isOpen()) {
        done.complete();
      } else {
        l.channel.flush(); // both hand over to the lane's loop when called from another thread
        l.channel.close().addListener(f -> done.complete());
      }
      closing.add(done.future());
    }
    return Future.join(closing).mapEmpty();
  }
}
