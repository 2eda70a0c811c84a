package io.introducer.rendezvous;

import io.introducer.rendezvous.impl.InMemoryRegistry;
import io.introducer.rendezvous.impl.InMemorySessionStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public UDP introducer: STUN Binding plus the rendezvous protocol of docs/PROTOCOL.md (REGISTER,
 * KEEPALIVE, CONNECT, INTRODUCE, RESULT, DEREGISTER). Configured by its deployment config, see
 * {@link IntroducerConfig#fromJson}. All state is touched on this verticle's event loop only; the read
 * accessors may be used from any thread once {@link #start()} has completed.
 */
public final class IntroducerVerticle extends VerticleBase {
  private static final Logger log = LoggerFactory.getLogger(IntroducerVerticle.class);

  private final IntroducerCounters counters = new IntroducerCounters();
  private final Clock clock = Clock.systemUTC();
  private volatile IntroducerConfig settings;
  private volatile Registry registry;
  private volatile SessionStore sessions;
  private volatile int actualPort = -1;
  private DatagramSocket socket;
  private Introductions introductions;
  private PeerRequests peerRequests;
  private long sweepTimer = -1;

  @Override
  public Future<?> start() {
    IntroducerConfig cfg;
    try {
      cfg = IntroducerConfig.fromJson(config());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    if (cfg.exposesDemoSecret()) {
      log.warn("The demo app with its well-known secret is enabled on non-loopback host {}: anyone can register."
          + " Configure your own apps for anything but local tests.", cfg.host());
    }
    settings = cfg;
    registry = new InMemoryRegistry();
    sessions = new InMemorySessionStore(cfg.maxSessions());
    socket = vertx.createDatagramSocket(new DatagramSocketOptions().setIpV6(cfg.host().contains(":")));
    Dispatcher dispatcher = wire(cfg);
    socket.handler(packet -> receive(dispatcher, packet));
    socket.exceptionHandler(e -> log.warn("UDP socket error", e));
    return socket.listen(cfg.port(), cfg.host()).onSuccess(s -> {
      actualPort = s.localAddress().port();
      String host = cfg.host().contains(":") ? "[" + cfg.host() + "]" : cfg.host();
      log.info("Introducer listening on udp/{}:{}", host, actualPort);
      sweepTimer = vertx.setPeriodic(sweepPeriodMillis(cfg), id -> sweep());
    }).onFailure(e -> socket.close());
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweepTimer);
    if (introductions != null) {
      introductions.cancelAll();
    }
    return socket == null ? Future.succeededFuture() : socket.close();
  }

  /** The bound UDP port (useful when configured with port 0); -1 before start. */
  public int actualPort() {
    return actualPort;
  }

  /** The validated configuration in use; null before start. */
  public IntroducerConfig introducerConfig() {
    return settings;
  }

  /** Registered peers; null before start. */
  public Registry registry() {
    return registry;
  }

  /** Session history; null before start. */
  public SessionStore sessions() {
    return sessions;
  }

  public IntroducerCounters counters() {
    return counters;
  }

  /** INTRODUCE transactions awaiting their answer (for tests). */
  int pendingIntroductions() {
    return introductions.pending();
  }

  private Dispatcher wire(IntroducerConfig cfg) {
    Outbound out = this::send;
    Replies replies = new Replies(counters);
    introductions = new Introductions(vertx, out, registry, sessions, counters, clock, cfg.maxSessions());
    peerRequests = new PeerRequests(cfg, out, counters, replies, clock,
        new RegistrationHandler(cfg, registry, counters, replies),
        new ConnectHandler(cfg, registry, sessions, introductions, StrategySelector.SIMULTANEOUS, counters, replies),
        new ResultHandler(sessions, counters, replies));
    return new Dispatcher(cfg, out, counters, peerRequests, introductions);
  }

  private void receive(Dispatcher dispatcher, DatagramPacket packet) {
    InetSocketAddress from;
    try {
      from = new InetSocketAddress(InetAddress.getByName(packet.sender().hostAddress()), packet.sender().port());
    } catch (UnknownHostException | RuntimeException e) {
      counters.packetsIn.increment();
      counters.drop("bad-source");
      return;
    }
    dispatcher.onDatagram(packet.data().getBytes(), from);
  }

  private void send(byte[] datagram, InetSocketAddress to) {
    counters.packetsOut.increment();
    socket.send(Buffer.buffer(datagram), to.getPort(), to.getAddress().getHostAddress()).onFailure(e -> {
      counters.drop("send-failed");
      log.debug("Send to {} failed", to, e);
    });
  }

  private void sweep() {
    long now = clock.millis();
    registry.expire(clock.instant());
    sessions.expire(clock.instant().minusSeconds(settings.sessionRetentionSeconds()));
    peerRequests.expire(now);
  }

  /** A quarter of the registration lifetime, within 250 ms - 5 s: expiry is timely without busy sweeping. */
  static long sweepPeriodMillis(IntroducerConfig cfg) {
    return Math.max(250, Math.min(5_000, cfg.registrationLifetimeSeconds() * 250L));
  }
}
