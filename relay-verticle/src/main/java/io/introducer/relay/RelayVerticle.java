package io.introducer.relay;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.VertxInternal;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TURN relay over UDP (RFC 8656) with long-term credentials (static users and TURN REST usernames).
 * Config keys are those of {@link RelayConfig#fromJson}. It runs on {@code threads} event loops (one
 * {@link RelayShard} each): every loop has its own listening socket on the relay port (SO_REUSEPORT when
 * there are several; the kernel sends a client's datagrams always to the same one), its own allocations
 * and their relayed sockets, so no packet ever changes threads. Counters, quotas, the port range and
 * the nonce secret are shared. The sockets are raw netty channels on the Vert.x event loops (see
 * {@link UdpChannels} for why); run Vert.x with the native transport for epoll's recvmmsg/sendmmsg.
 */
public final class RelayVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(RelayVerticle.class);
  /** SO_RCVBUF of each relayed socket (memory is used only while datagrams wait; capped by net.core.rmem_max). */
  static final int RECEIVE_BUFFER = 256 * 1024;

  private final Clock clock;
  private final RelayCounters counters = new RelayCounters();
  private volatile RelayConfig relayConfig;
  private volatile int actualPort = -1;
  private volatile List<RelayShard> shards = List.of();

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
    VertxInternal vx = (VertxInternal) vertx;
    List<ContextInternal> contexts = contexts(vx, (ContextInternal) context, cfg.threads());
    if (contexts.size() < cfg.threads()) {
      log.warn("relay threads {} > event loops {}: running on {}", cfg.threads(), contexts.size(), contexts.size());
    }
    PortPool ports = new PortPool(cfg.minPort(), cfg.maxPort(), new SecureRandom());
    Quotas quotas = new Quotas(cfg.maxAllocationsPerUser(), cfg.maxAllocations());
    Nonces nonces = RelayShard.nonces(cfg, clock);
    List<RelayShard> all = new ArrayList<>();
    for (ContextInternal c : contexts) {
      all.add(new RelayShard(vx, c, cfg, clock, counters, ports, quotas, nonces));
    }
    shards = List.copyOf(all);
    boolean reusePort = all.size() > 1;
    // The first shard binds the configured port (0 = ephemeral), the others join it on the bound port.
    return all.get(0).start(cfg.port(), reusePort).compose(port -> {
      List<Future<Integer>> rest = new ArrayList<>();
      for (RelayShard s : all.subList(1, all.size())) {
        rest.add(s.start(port, true));
      }
      return Future.all(rest).map(port);
    }).map(port -> {
      actualPort = port;
      log.info("Relay listening on udp/{}:{} (relay ports {}-{}, {} event loop{}, {} transport)", cfg.host(), port,
          cfg.minPort(), cfg.maxPort(), all.size(), all.size() == 1 ? "" : "s",
          vx.isNativeTransportEnabled() ? "native" : "NIO");
      return null;
    });
  }

  /** This verticle's context, then contexts on other event loops, up to {@code n} distinct loops. */
  private static List<ContextInternal> contexts(VertxInternal vx, ContextInternal own, int n) {
    List<ContextInternal> out = new ArrayList<>();
    out.add(own);
    List<EventLoop> used = new ArrayList<>();
    used.add(own.nettyEventLoop());
    for (EventExecutor e : vx.nettyEventLoopGroup()) {
      if (out.size() >= n) {
        break;
      }
      if (e instanceof EventLoop loop && !used.contains(loop)) {
        used.add(loop);
        out.add(vx.contextBuilder().withEventLoop(loop).withClassLoader(own.classLoader()).build());
      }
    }
    return out;
  }

  @Override
  public Future<?> stop() {
    List<Future<Void>> stopping = new ArrayList<>();
    for (RelayShard s : shards) {
      stopping.add(s.stop());
    }
    return Future.join(stopping);
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

  /** Counters of all the relay's event loops together. */
  public RelayCounters counters() {
    return counters;
  }

  /** A snapshot of the live allocations, each event loop's taken on that loop. */
  public Future<List<AllocationInfo>> allocations() {
    List<RelayShard> all = shards;
    if (all.isEmpty() || actualPort < 0) {
      return Future.failedFuture(new IllegalStateException("relay not started"));
    }
    List<Future<List<AllocationInfo>>> parts = new ArrayList<>();
    for (RelayShard s : all) {
      parts.add(s.allocations());
    }
    return Future.all(parts).map(cf -> {
      List<AllocationInfo> out = new ArrayList<>();
      for (int i = 0; i < cf.size(); i++) {
        out.addAll(cf.<List<AllocationInfo>>resultAt(i));
      }
      return List.copyOf(out);
    });
  }
}
