package io.introducer.relay;

import io.introducer.protocol.Demux;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay on one event loop: a listening socket (SO_REUSEPORT when there are several shards, so the
 * kernel spreads clients over them by 5-tuple and a client always meets the same shard), the
 * allocations made through it with their relayed sockets, and the request handling. Everything of a
 * shard runs on its loop; shards share only thread-safe things (counters, quotas, port range, nonce
 * secret), so a datagram never changes threads.
 */
final class RelayShard {
  private static final Logger log = LoggerFactory.getLogger(RelayShard.class);
  /**
   * SO_RCVBUF of the listening socket: what the kernel queues while the loop does not run (another process has the
   * core, a GC pause). Linux caps it at net.core.rmem_max (212992 by default: raise it on a busy relay) and charges
   * twice the value; at ~1 KiB per small datagram, 4 MiB rides out about 100 ms at 80,000 datagrams per second.
   */
  static final int LISTEN_RECEIVE_BUFFER = 4 * 1024 * 1024;

  private final VertxInternal vertx;
  private final ContextInternal context;
  private final EventLoop loop;
  private final RelayConfig config;
  private final Clock clock;
  private final RelayCounters counters;
  private final boolean legacyChannels;
  private final RecvBuffers recv = new RecvBuffers(UdpChannels.BATCH);
  private final Flusher flusher;
  private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
  private final DataPlane dataPlane;
  private final TransactionCache cache = new TransactionCache();
  private final SourceRateLimiter unauthLimiter;
  private final AllocationManager allocations;
  private final RequestHandler requests;
  private Flusher.Target main;
  private long sweepTimer = -1;

  RelayShard(VertxInternal vertx, ContextInternal context, RelayConfig config, Clock clock, RelayCounters counters,
      PortPool ports, Quotas quotas, Nonces nonces) {
    this.vertx = vertx;
    this.context = context;
    this.loop = context.nettyEventLoop();
    this.config = config;
    this.clock = clock;
    this.counters = counters;
    this.legacyChannels = config.legacyChannelRange();
    this.flusher = new Flusher(loop);
    this.dataPlane = new DataPlane(counters, alloc, flusher);
    this.unauthLimiter = new SourceRateLimiter(config.unauthRatePerSecond());
    this.allocations = new AllocationManager(vertx, loop, recv, config, counters, ports, quotas, dataPlane::fromPeer);
    PeerPolicy policy = new PeerPolicy(config.allowPeers(), new java.util.HashSet<>(config.ownAddresses()));
    Authenticator auth = new Authenticator(config, nonces, clock);
    this.requests = new RequestHandler(config, clock, auth, allocations, policy, cache, unauthLimiter, counters, this::send);
  }

  /** A secret for stateless nonces, shared by the shards so a nonce issued by one is good at all. */
  static Nonces nonces(RelayConfig config, Clock clock) {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    return new Nonces(secret, config.nonceLifetimeSeconds(), clock);
  }

  /** Binds the listening socket on {@code port} (0 = ephemeral) and starts the sweep timer; the bound port. */
  Future<Integer> start(int port, boolean reusePort) {
    InetSocketAddress local = new InetSocketAddress(IpLiterals.address(config.host()), port);
    return UdpChannels.bind(vertx, loop, local, reusePort, LISTEN_RECEIVE_BUFFER, recv, new ClientSocketHandler())
        .map(ch -> {
          main = new Flusher.Target(ch, UdpChannels.BATCH);
          dataPlane.mainSocket(main);
          sweepTimer = context.setPeriodic(config.sweepIntervalMillis(), t -> sweep());
          return ((InetSocketAddress) ch.localAddress()).getPort();
        });
  }

  /** Closes the relayed sockets, then the listening socket. */
  Future<Void> stop() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      if (sweepTimer >= 0) {
        vertx.cancelTimer(sweepTimer);
      }
      allocations.closeAll().onComplete(ar -> {
        if (main == null) {
          done.complete();
        } else {
          main.channel.close().addListener(f -> done.complete());
        }
      });
    });
    return done.future();
  }

  /** A snapshot of this shard's live allocations, taken on its loop. */
  Future<List<AllocationInfo>> allocations() {
    Promise<List<AllocationInfo>> promise = Promise.promise();
    context.runOnContext(v -> promise.complete(List.copyOf(allocations.snapshot())));
    return promise.future();
  }

  /** Datagrams from clients on the listening socket. */
  private final class ClientSocketHandler extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      DatagramPacket packet = (DatagramPacket) msg;
      try {
        onClientPacket(packet.content(), packet.sender());
      } catch (RuntimeException e) {
        // A bug, not bad input (bad input is dropped and counted): keep serving, but say so.
        counters.drop("internal-error");
        log.warn("relay packet from {} failed", packet.sender(), e);
      } finally {
        packet.release();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // Write failures arrive here (datagrams are written with void promises).
      counters.drop("send-failed");
      log.debug("relay socket: {}", cause.toString());
    }
  }

  private void onClientPacket(ByteBuf data, InetSocketAddress from) {
    int len = data.readableBytes();
    if (len == 0) {
      counters.drop("empty");
      return;
    }
    int first = data.getUnsignedByte(data.readerIndex());
    switch (Demux.classify(first)) {
      case CHANNEL_DATA -> dataPlane.fromClientChannelData(allocations.get(from), data);
      case STUN -> onStun(data, from);
      default -> {
        if (first >= 0x50 && first <= 0x7F && legacyChannels) {
          dataPlane.fromClientChannelData(allocations.get(from), data);
        } else {
          counters.drop("not-turn");
        }
      }
    }
  }

  private void onStun(ByteBuf data, InetSocketAddress from) {
    byte[] bytes = new byte[data.readableBytes()];
    data.getBytes(data.readerIndex(), bytes);
    StunMessage msg;
    try {
      msg = StunMessage.decode(bytes);
    } catch (StunParseException e) {
      counters.drop(e.reason());
      return;
    }
    switch (msg.messageClass()) {
      // On this shard's Vert.x context (same thread, no hop): the request path uses Vert.x futures.
      case REQUEST -> context.dispatch(() -> requests.onRequest(msg, from));
      case INDICATION -> {
        if (msg.method() == StunMethods.SEND) {
          dataPlane.fromClientSend(allocations.get(from), msg);
        } else {
          counters.drop("unexpected-indication");
        }
      }
      default -> counters.drop("unexpected-response");
    }
  }

  /** Answers to requests: queued on the listening socket, flushed with the rest of the iteration. */
  private void send(InetSocketAddress to, Buffer bytes) {
    flusher.write(main, new DatagramPacket(Unpooled.wrappedBuffer(bytes.getBytes()), to));
  }

  private void sweep() {
    long now = clock.millis();
    allocations.sweep(now);
    cache.sweep(now);
    unauthLimiter.sweep(System.nanoTime());
  }
}
