package io.introducer.relay;

import io.introducer.protocol.TransactionId;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.SocketAddress;
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
 * Owns the allocations of one relay: the client-address index the data path looks up, per-user
 * quotas and total capacity, the relay port range, binding relayed sockets, and expiry. Used only on
 * the relay's event loop; relayed sockets are created from it, so they share that loop.
 */
final class AllocationManager {
  private static final Logger log = LoggerFactory.getLogger(AllocationManager.class);
  /** Bind attempts per Allocate before answering 508: ports may be held by other processes. */
  static final int BIND_ATTEMPTS = 8;

  enum Admission { OK, QUOTA, CAPACITY }

  private final Vertx vertx;
  private final RelayConfig config;
  private final RelayCounters counters;
  private final PortPool ports;
  private final InetAddress publicAddress;
  private final BiConsumer<Allocation, DatagramPacket> peerHandler;
  private final Map<SocketAddress, Allocation> byClient = new HashMap<>();
  private final Map<String, Integer> perUser = new HashMap<>();
  private boolean closed;

  AllocationManager(Vertx vertx, RelayConfig config, RelayCounters counters, PortPool ports,
      BiConsumer<Allocation, DatagramPacket> peerHandler) {
    this.vertx = vertx;
    this.config = config;
    this.counters = counters;
    this.ports = ports;
    this.publicAddress = config.publicAddress();
    this.peerHandler = peerHandler;
  }

  /** The allocation of this client address (any state), or null: the one lookup of the data path. */
  Allocation get(SocketAddress client) {
    return byClient.get(client);
  }

  boolean ipv6() {
    return publicAddress instanceof Inet6Address;
  }

  Admission admit(String username) {
    if (perUser.getOrDefault(username, 0) >= config.maxAllocationsPerUser()) {
      return Admission.QUOTA;
    }
    if (byClient.size() >= config.maxAllocations()) {
      return Admission.CAPACITY;
    }
    return Admission.OK;
  }

  /** Registers a PENDING allocation (counted against quota and capacity) while its socket is bound. */
  Allocation create(SocketAddress client, String username, TransactionId txid, long now) {
    long rate = config.bandwidthBytesPerSecond();
    long nanos = System.nanoTime();
    // Burst of one second's worth, and never less than one maximal datagram so any packet can pass.
    double burst = Math.max(rate, 65_535);
    Allocation a = new Allocation(client, username, txid, now,
        rate == 0 ? null : new TokenBucket(rate, burst, nanos),
        rate == 0 ? null : new TokenBucket(rate, burst, nanos));
    byClient.put(client, a);
    perUser.merge(username, 1, Integer::sum);
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
    DatagramSocket socket = vertx.createDatagramSocket(new DatagramSocketOptions()
        .setIpV6(IpLiterals.address(config.relayHost()) instanceof Inet6Address)
        .setReceiveBufferSize(RelayVerticle.RECEIVE_BUFFER));
    socket.handler(packet -> peerHandler.accept(a, packet));
    socket.exceptionHandler(e -> log.debug("relayed socket {} of {}: {}", port, a.client, e.toString()));
    socket.listen(port, config.relayHost()).onComplete(ar -> {
      if (ar.succeeded() && !closed && a.state == Allocation.State.PENDING) {
        a.relaySocket = socket;
        a.relayPort = port;
        a.relayedAddress = new InetSocketAddress(publicAddress, port);
        a.state = Allocation.State.ACTIVE;
        counters.allocationsCreated.increment();
        promise.complete(a);
        return;
      }
      socket.close();
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
    perUser.computeIfPresent(a.username, (u, n) -> n > 1 ? n - 1 : null);
    counters.allocationsActive.decrement();
    if (wasActive) {
      a.relaySocket.close();
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
      out.add(new AllocationInfo(a.username, format(a.client.host(), a.client.port()),
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
        closing.add(a.relaySocket.close());
        a.relaySocket = null;
        ports.release(a.relayPort);
        counters.allocationsDeleted.increment();
      }
      a.state = Allocation.State.CLOSED;
      counters.allocationsActive.decrement();
    }
    byClient.clear();
    perUser.clear();
    return Future.join(closing).mapEmpty();
  }

  static String format(String host, int port) {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
