package io.introducer.relay;

import io.introducer.protocol.Demux;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.SocketAddress;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HashSet;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TURN relay over UDP (RFC 8656) with long-term credentials (static users and TURN REST usernames).
 * Config keys are those of {@link RelayConfig#fromJson}. One listening socket; each allocation gets a
 * relayed socket from the port range, created on this verticle's event loop so no packet ever changes
 * threads. Deploy one instance per relay address (the allocation table is per instance).
 */
public final class RelayVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(RelayVerticle.class);
  /**
   * Vert.x uses receiveBufferSize both as SO_RCVBUF and as the size of netty's per-read buffer; unset,
   * netty reads at most 2048 bytes and silently truncates larger datagrams. 64 KiB holds any UDP payload.
   */
  static final int RECEIVE_BUFFER = 65_536;

  private final Clock clock;
  private final RelayCounters counters = new RelayCounters();
  private volatile RelayConfig relayConfig;
  private volatile int actualPort = -1;
  private DatagramSocket socket;
  private AllocationManager allocations;
  private RequestHandler requests;
  private DataPlane dataPlane;
  private TransactionCache cache;
  private SourceRateLimiter unauthLimiter;
  private long sweepTimer = -1;
  private boolean legacyChannels;

  public RelayVerticle() {
    this(Clock.systemUTC());
  }

  /** With an explicit clock for lifetimes, nonces and REST expiry (tests move time forward). */
  public RelayVerticle(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    RelayConfig cfg;
    try {
      cfg = RelayConfig.fromJson(config());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    relayConfig = cfg;
    legacyChannels = cfg.legacyChannelRange();
    dataPlane = new DataPlane(counters);
    cache = new TransactionCache();
    unauthLimiter = new SourceRateLimiter(cfg.unauthRatePerSecond());
    allocations = new AllocationManager(vertx, cfg, counters,
        new PortPool(cfg.minPort(), cfg.maxPort(), new SecureRandom()), dataPlane::fromPeer);
    PeerPolicy policy = new PeerPolicy(cfg.allowPeers(), new HashSet<>(cfg.ownAddresses()));
    Authenticator auth = new Authenticator(cfg, new Nonces(cfg.nonceLifetimeSeconds(), clock), clock);
    requests = new RequestHandler(cfg, clock, auth, allocations, policy, cache, unauthLimiter, counters, this::send);

    socket = vertx.createDatagramSocket(new DatagramSocketOptions()
        .setIpV6(IpLiterals.address(cfg.host()) instanceof Inet6Address)
        .setReceiveBufferSize(RECEIVE_BUFFER));
    socket.handler(this::onClientPacket);
    socket.exceptionHandler(e -> log.debug("relay socket: {}", e.toString()));
    return socket.listen(cfg.port(), cfg.host()).map(s -> {
      actualPort = s.localAddress().port();
      dataPlane.mainSocket(s);
      sweepTimer = vertx.setPeriodic(cfg.sweepIntervalMillis(), t -> sweep());
      log.info("Relay listening on udp/{}:{} (relay ports {}-{})", cfg.host(), actualPort, cfg.minPort(), cfg.maxPort());
      return null;
    });
  }

  @Override
  public Future<?> stop() {
    if (sweepTimer >= 0) {
      vertx.cancelTimer(sweepTimer);
    }
    Future<Void> relayed = allocations == null ? Future.succeededFuture() : allocations.closeAll();
    return relayed.eventually(() -> socket == null ? Future.succeededFuture() : socket.close());
  }

  /** The bound listening port (useful with port 0); -1 before the verticle has started. */
  public int actualPort() {
    return actualPort;
  }

  /** The address clients should use: publicHost and the listening port; null before start. */
  public InetSocketAddress publicAddress() {
    RelayConfig cfg = relayConfig;
    return cfg == null || actualPort < 0 ? null : new InetSocketAddress(cfg.publicAddress(), actualPort);
  }

  /** The validated configuration, once started. */
  public RelayConfig relayConfig() {
    return relayConfig;
  }

  public RelayCounters counters() {
    return counters;
  }

  /** A snapshot of the live allocations, taken on the relay's event loop. */
  public Future<List<AllocationInfo>> allocations() {
    if (context == null || allocations == null) {
      return Future.failedFuture(new IllegalStateException("relay not started"));
    }
    Promise<List<AllocationInfo>> promise = Promise.promise();
    context.runOnContext(v -> promise.complete(List.copyOf(allocations.snapshot())));
    return promise.future();
  }

  private void onClientPacket(DatagramPacket packet) {
    try {
      Buffer data = packet.data();
      if (data.length() == 0) {
        counters.drop("empty");
        return;
      }
      SocketAddress from = packet.sender();
      int first = data.getUnsignedByte(0);
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
    } catch (RuntimeException e) {
      // A bug, not bad input (bad input is dropped above): keep serving, but say so.
      counters.drop("internal-error");
      log.warn("relay packet from {} failed", packet.sender(), e);
    }
  }

  private void onStun(Buffer data, SocketAddress from) {
    StunMessage msg;
    try {
      msg = StunMessage.decode(data.getBytes());
    } catch (StunParseException e) {
      counters.drop(e.reason());
      return;
    }
    switch (msg.messageClass()) {
      case REQUEST -> requests.onRequest(msg, from);
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

  private void send(SocketAddress to, Buffer bytes) {
    socket.send(bytes, to.port(), to.host()).onFailure(e -> counters.drop("send-failed"));
  }

  private void sweep() {
    long now = clock.millis();
    allocations.sweep(now);
    cache.sweep(now);
    unauthLimiter.sweep(System.nanoTime());
  }
}
