package io.introducer.relay;

import io.introducer.protocol.TransactionId;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.VertxInternal;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the allocations of one relay event loop: the client-address index the data path looks up,
 * binding relayed sockets, and expiry. Per-user quotas, total capacity and the port range are shared
 * with the other loops ({@link Quotas}, {@link PortPool}). Used only on its event loop; relayed sockets
 * are registered on that loop, so a datagram never changes threads.
 */
final class AllocationManager {
  private static final Logger log = LoggerFactory.getLogger(AllocationManager.class);
  /** Bind attempts per Allocate before answering 508: ports may be held by other processes. */
  static final int BIND_ATTEMPTS = 8;

  private final VertxInternal vertx;
  private final EventLoop loop;
  private final RecvBuffers recv;
  private final RelayConfig config;
  private final RelayCounters counters;
  private final PortPool ports;
  private final Quotas quotas;
  private final InetSocketAddress relayBindAny;
  private final InetAddress publicAddress;
  private final BiConsumer<Allocation, DatagramPacket> peerHandler;
  private final Map<InetSocketAddress, Allocation> byClient = new HashMap<>();
  private boolean closed;

  AllocationManager(VertxInternal vertx, EventLoop loop, RecvBuffers recv, RelayConfig config, RelayCounters counters,
      PortPool ports, Quotas quotas, BiConsumer<Allocation, DatagramPacket> peerHandler) {
    this.vertx = vertx;
    this.loop = loop;
    this.recv = recv;
    this.config = config;
    this.counters = counters;
    this.ports = ports;
    this.quotas = quotas;
    this.relayBindAny = new InetSocketAddress(IpLiterals.address(config.relayHost()), 0);
    this.publicAddress = config.publicAddress();
    this.peerHandler = peerHandler;
  }

  /** The allocation of this client address (any state), or null: the one lookup of the data path. */
  Allocation get(InetSocketAddress client) {
    return byClient.get(client);
  }

  boolean ipv6() {
    return publicAddress instanceof Inet6Address;
  }

  /** Takes quota and capacity for one allocation of {@code account}; on OK, {@link #create} must follow. */
  Quotas.Admission admit(String account) {
    return quotas.acquire(account);
  }

  /** Registers a PENDING allocation (admitted, so counted against quota and capacity) while its socket is bound. */
  Allocation create(InetSocketAddress client, Authenticator.Identity id, TransactionId txid, long now) {
    long rate = config.bandwidthBytesPerSecond();
    long nanos = System.nanoTime();
    // Burst of one second's worth, and never less than one maximal datagram so any packet can pass.
    double burst = Math.max(rate, 65_535);
    Allocation a = new Allocation(client, id.username(), id.account(), id.rest(), txid, now,
        rate == 0 ? null : new TokenBucket(rate, burst, nanos),
        rate == 0 ? null : new TokenBucket(rate, burst, nanos));
    byClient.put(client, a);
    counters.allocationsActive.increment();
    return a;
  }

  /** Binds a relayed socket for {@code a} from the port range; fails when no port could be bound. */
  Future<Allocation> bind(Allocation a, boolean evenPort) {
    Promise<Allocation> promise = Promise.promise();
    attempt(a, evenPort, new HashSet<>(), promise);
    return promise.future();
  }

  private void attempt(Allocation a, boolean evenPort, Set<Integer> tried, Promise<Allocation> promise) {
    int port = tried.size() >= BIND_ATTEMPTS ? -1 : ports.acquire(evenPort, tried);
    if (port < 0) {
      promise.fail("no relay port available in " + config.minPort() + "-" + config.maxPort());
      return;
    }
    UdpChannels.bind(vertx, loop, new InetSocketAddress(relayBindAny.getAddress(), port), false,
        RelayVerticle.RECEIVE_BUFFER, recv, new PeerSocketHandler(a)).onComplete(ar -> {
          if (ar.succeeded() && !closed && a.state == Allocation.State.PENDING) {
            // Sent at once: a relayed socket rarely has two datagrams in one loop iteration, so waiting for the
            // end of the iteration would only add latency.
            a.relay = new Flusher.Target(ar.result(), 1);
            a.relayPort = port;
            a.relayedAddress = new InetSocketAddress(publicAddress, port);
            a.state = Allocation.State.ACTIVE;
            counters.allocationsCreated.increment();
            promise.complete(a);
            return;
          }
          if (ar.succeeded()) {
            ar.result().close();
          }
          ports.release(port);
          if (ar.succeeded()) {
            promise.fail("relay stopped");
            return;
          }
          log.debug("relay port {} not bindable: {}", port, ar.cause().toString());
          tried.add(port);
          attempt(a, evenPort, tried, promise);
        });
  }

  /** Datagrams from peers on one allocation's relayed socket. */
  private final class PeerSocketHandler extends ChannelInboundHandlerAdapter {
    private final Allocation a;

    PeerSocketHandler(Allocation a) {
      this.a = a;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      DatagramPacket packet = (DatagramPacket) msg;
      try {
        peerHandler.accept(a, packet);
      } catch (RuntimeException e) {
        counters.drop("internal-error");
        log.warn("datagram from {} on relayed port {} failed", packet.sender(), a.relayPort, e);
      } finally {
        packet.release();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      // Write failures arrive here (datagrams are written with void promises).
      counters.drop("send-failed");
      log.debug("relayed socket {} of {}: {}", a.relayPort, a.client, cause.toString());
    }
  }

  /** Removes {@code a} and frees its port and quota; idempotent. */
  void delete(Allocation a, boolean expired) {
    if (a.state == Allocation.State.CLOSED) {
      return;
    }
    boolean wasActive = a.state == Allocation.State.ACTIVE;
    a.state = Allocation.State.CLOSED;
    if (byClient.get(a.client) == a) {
      byClient.remove(a.client);
    }
    quotas.release(a.account);
    counters.allocationsActive.decrement();
    if (wasActive) {
      a.relay.channel.close();
      ports.release(a.relayPort);
      (expired ? counters.allocationsExpired : counters.allocationsDeleted).increment();
      log.debug("allocation {} of {} for {} {}", a.relayedAddress, a.username, a.client, expired ? "expired" : "deleted");
    }
  }

  /** Expires allocations, then permissions and channels of the live ones. */
  void sweep(long now) {
    long coolDown = config.permissionLifetimeSeconds() * 1000L;
    List<Allocation> expired = new ArrayList<>();
    for (Allocation a : byClient.values()) {
      if (a.state != Allocation.State.ACTIVE) {
        continue;
      }
      if (a.expiresAt <= now) {
        expired.add(a);
      } else {
        a.sweep(now, coolDown);
      }
    }
    for (Allocation a : expired) {
      delete(a, true);
    }
  }

  List<AllocationInfo> snapshot() {
    List<AllocationInfo> out = new ArrayList<>(byClient.size());
    for (Allocation a : byClient.values()) {
      if (a.state != Allocation.State.ACTIVE) {
        continue;
      }
      out.add(new AllocationInfo(a.username, format(a.client.getAddress().getHostAddress(), a.client.getPort()),
          format(a.relayedAddress.getAddress().getHostAddress(), a.relayedAddress.getPort()),
          Instant.ofEpochMilli(a.createdAt), Instant.ofEpochMilli(a.expiresAt), a.alivePermissions(),
          a.activeChannels(), a.bytesToPeer, a.packetsToPeer, a.bytesToClient, a.packetsToClient));
    }
    return out;
  }

  /** Closes every relayed socket; pending binds close theirs when they complete. */
  Future<Void> closeAll() {
    closed = true;
    List<Future<Void>> closing = new ArrayList<>();
    for (Allocation a : byClient.values()) {
      if (a.state == Allocation.State.ACTIVE) {
        Promise<Void> done = Promise.promise();
        a.relay.channel.close().addListener(f -> done.complete());
        closing.add(done.future());
        ports.release(a.relayPort);
        counters.allocationsDeleted.increment();
      }
      a.state = Allocation.State.CLOSED;
      quotas.release(a.account);
      counters.allocationsActive.decrement();
    }
    byClient.clear();
    return Future.join(closing).mapEmpty();
  }

  static String format(String host, int port) {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
