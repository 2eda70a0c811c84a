package io.introducer.rendezvous;

import io.introducer.rendezvous.impl.InMemoryRegistry;
import io.introducer.rendezvous.impl.InMemorySessionStore;
import io.introducer.rendezvous.impl.PublishingSessionStore;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.datagram.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The public UDP introducer: STUN Binding with the RFC 5780 NAT behaviour discovery attributes, plus the
 * rendezvous protocol of docs/PROTOCOL.md (REGISTER, KEEPALIVE, CONNECT, INTRODUCE, RESULT, DEREGISTER, UPDATE).
 * Configured by its deployment config, see {@link IntroducerConfig#fromJson}; the relay whose credentials it hands
 * out comes from the {@code relay} key, or from a {@link RelaySelector} given to the constructor. All state is
 * touched on this verticle's event loop only; the read accessors may be used from any thread once
 * {@link #start()} has completed.
 */
public final class IntroducerVerticle extends VerticleBase {
  /**
   * Event-bus address on which every session change is published (cluster-wide when Vert.x is clustered); see
   * {@link PublishingSessionStore} for the message and {@link SessionJson} for the session's form.
   */
  public static final String SESSION_EVENTS = "introducer.session";

  private static final Logger log = LoggerFactory.getLogger(IntroducerVerticle.class);

  private final IntroducerCounters counters = new IntroducerCounters();
  private final Clock clock = Clock.systemUTC();
  private volatile IntroducerConfig settings;
  private volatile Registry registry;
  private volatile SessionStore sessions;
  private final RelaySelector relaySelector;
  private final Cluster cluster;
  private ClusterLink link;
  private PartnerLink partnerLink;
  private volatile DiscoveryPartners.Partner partner;
  private volatile int actualPort = -1;
  private volatile int alternatePort = -1;
  private volatile int actualPort6 = -1;
  private Endpoints endpoints;
  private RateLimits limits;
  private Introductions introductions;
  private PeerRequests peerRequests;
  private long sweepTimer = -1;
  /** The timer of the next slice of a registry expiry that did not fit in one ({@link #expireRegistrations}); -1 if none. */
  private long expiryTimer = -1;

  /**
   * What a clustered node gives its introducer.
   *
   * @param nodeId this node's id: registrations made here are owned by it, and other nodes deliver to it by it
   * @param registry the cluster-wide registry (every registration, with its owner); null for an in-memory one
   * @param relays how sessions get a relay; null for the {@code relay} config key
   * @param partners where a node without {@code alternateHost} finds its RFC 5780 second IP (another node); null
   *     for none (change-IP is then 420)
   */
  public record Cluster(String nodeId, Registry registry, RelaySelector relays, DiscoveryPartners partners) {
    public Cluster {
      if (nodeId == null || nodeId.isBlank()) {
        throw new IllegalArgumentException("a clustered introducer needs a node id");
      }
    }

    /** Without RFC 5780 partners. */
    public Cluster(String nodeId, Registry registry, RelaySelector relays) {
      this(nodeId, registry, relays, null);
    }
  }

  /** An introducer handing out the credentials of the relay in its {@code relay} config key, if any. */
  public IntroducerVerticle() {
    this((RelaySelector) null);
  }

  /** One introducer among others: it shares registrations and sessions with them and delivers for them. */
  public IntroducerVerticle(Cluster cluster) {
    this.relaySelector = cluster.relays();
    this.cluster = cluster;
  }

  /**
   * An introducer whose sessions get relays from {@code relaySelector} (for instance by load, across a cluster);
   * null means the {@code relay} config key (a fixed relay, or none).
   */
  public IntroducerVerticle(RelaySelector relaySelector) {
    this.relaySelector = relaySelector;
    this.cluster = null;
  }

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
    registry = cluster != null && cluster.registry() != null ? cluster.registry() : new InMemoryRegistry();
    sessions = new PublishingSessionStore(new InMemorySessionStore(cfg.maxSessions()), vertx.eventBus(),
        SESSION_EVENTS, clock, cluster == null ? null : cluster.nodeId());
    limits = new RateLimits(cfg.limits(), counters);
    endpoints = new Endpoints(vertx, counters, limits);
    Dispatcher dispatcher = wire(cfg);
    Future<Void> linked = link == null ? Future.succeededFuture() : link.start(introductions);
    if (cluster != null && cluster.partners() != null) {
      partnerLink = new PartnerLink(vertx, cluster.nodeId(), endpoints, counters);
      linked = linked.compose(ok -> partnerLink.start());
    }
    return linked.compose(ok -> endpoints.listen(cfg, (local, packet) -> receive(dispatcher, local, packet)).onSuccess(v -> {
      actualPort = endpoints.port(0, false, false);
      alternatePort = endpoints.port(0, false, true);
      actualPort6 = endpoints.port(1, false, false);
      sweepTimer = vertx.setPeriodic(sweepPeriodMillis(cfg), id -> sweep());
      joinPartners(cfg);
    }));
  }

  /**
   * Publishes this node's primary address and alternate port to the other nodes and, without an {@code alternateHost}
   * of its own, takes the partner they give as its RFC 5780 second IP (docs/PROTOCOL.md section 6).
   */
  private void joinPartners(IntroducerConfig cfg) {
    InetSocketAddress primary = endpoints.advertisedPrimary(0);
    if (partnerLink == null || primary == null) {
      return; // not clustered, or no concrete address to tell the others (a wildcard host without publicHost)
    }
    boolean ownIp2 = cfg.alternateHost() != null;
    io.vertx.core.Context context = vertx.getOrCreateContext();
    cluster.partners().join(new DiscoveryPartners.Partner(cluster.nodeId(), primary, alternatePort), p -> {
      if (!ownIp2) {
        context.runOnContext(v -> usePartner(p));
      }
    });
  }

  private void usePartner(DiscoveryPartners.Partner p) {
    if (java.util.Objects.equals(p, partner)) {
      return;
    }
    partner = p;
    endpoints.partner(p, partnerLink::forward);
    if (p != null) {
      log.info("RFC 5780: node {} ({}, alternate port {}) is this node's second IP", p.nodeId(),
          p.primary().getAddress().getHostAddress() + ":" + p.primary().getPort(), p.alternatePort());
    } else {
      log.info("RFC 5780: no other node to serve as second IP; change-IP requests are answered with 420");
    }
  }

  /** The node whose IP serves as this one's RFC 5780 second IP; null when none (for tests and diagnostics). */
  public DiscoveryPartners.Partner discoveryPartner() {
    return partner;
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(sweepTimer);
    if (expiryTimer != -1) {
      vertx.cancelTimer(expiryTimer);
    }
    if (introductions != null) {
      introductions.cancelAll();
    }
    Future<Void> unlinked = link == null ? Future.succeededFuture() : link.stop();
    if (partnerLink != null) {
      cluster.partners().leave();
      unlinked = unlinked.compose(v -> partnerLink.stop());
    }
    return unlinked.compose(v -> endpoints == null ? Future.succeededFuture() : endpoints.close());
  }

  /** The bound UDP port of the primary socket (useful when configured with port 0); -1 before start. */
  public int actualPort() {
    return actualPort;
  }

  /** The bound RFC 5780 alternate port P2 (on host, and on alternateHost when set); -1 when disabled or before start. */
  public int alternatePort() {
    return alternatePort;
  }

  /** The bound port of the IPv6 primary socket ({@code host6}); -1 when not configured or before start. */
  public int actualPort6() {
    return actualPort6;
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

  /** Datagrams read by each event loop of the primary (IPv4 or {@code host}) socket (for tests). */
  Future<long[]> receivedPerLane() {
    return endpoints.receivedPerLane(0);
  }

  /** INTRODUCE transactions awaiting their answer (for tests). */
  int pendingIntroductions() {
    return introductions.pending();
  }

  private Dispatcher wire(IntroducerConfig cfg) {
    Outbound out = endpoints;
    Replies replies = new Replies(counters);
    RelaySelector relays = relaySelector != null ? relaySelector
        : cfg.relay() == null ? RelaySelector.NONE
        : RelaySelector.fixed(new RelaySelector.Relay(cfg.relay().address(), cfg.relay().restSecret()));
    String nodeId = cluster == null ? "local" : cluster.nodeId();
    link = cluster == null ? null : new ClusterLink(vertx, nodeId, cfg, registry, sessions, counters, clock);
    introductions = new Introductions(vertx, out, registry, sessions, counters, clock, cfg.maxSessions(), nodeId,
        link != null ? link : (owner, request) -> {
          throw new IllegalStateException("a single introducer has no other node to deliver through");
        });
    peerRequests = new PeerRequests(cfg, out, counters, replies, clock, limits,
        new RegistrationHandler(cfg, registry, counters, replies, relays),
        new ConnectHandler(cfg, registry, sessions, introductions,
            new StrategySelector(cfg.punchParams(), cfg.predictionWindow()), relays, counters, replies, limits),
        new ResultHandler(sessions, counters, replies),
        new UpdateHandler(cfg, registry, sessions, introductions, counters, replies, limits),
        new RelayRequestHandler(cfg, registry, sessions, relays, counters, replies));
    return new Dispatcher(cfg, endpoints, counters, peerRequests, introductions, limits);
  }

  private void receive(Dispatcher dispatcher, Endpoints.Endpoint local, DatagramPacket packet) {
    InetSocketAddress from;
    try {
      from = new InetSocketAddress(InetAddress.getByName(packet.sender().hostAddress()), packet.sender().port());
    } catch (UnknownHostException | RuntimeException e) {
      counters.packetsIn.increment();
      counters.drop("bad-source");
      return;
    }
    dispatcher.onDatagram(packet.data().getBytes(), from, local);
  }

  private void sweep() {
    long now = clock.millis();
    if (expiryTimer == -1) { // else the slices of the last sweep's expiry are still going, and go on
      expireRegistrations();
    }
    sessions.expire(clock.instant().minusSeconds(settings.sessionRetentionSeconds()));
    peerRequests.expire(now);
  }

  /**
   * Removes expired registrations in slices of {@link #EXPIRY_SLICE} index steps, a 1-ms timer apart while more is
   * due, rather than in one pass. The registries' expiry index makes a pass proportional to what is due, but that
   * can still be most registrations at once: all the peers of a node whose uplink failed expire within one lifetime,
   * and a registration refreshed since it was indexed is due once per lifetime to move (a twelfth of them per 5-s
   * sweep at the default 60 s, a quarter at lifetimes up to 20 s). A million due took 90-160 ms in one pass in
   * memory (docs/BENCHMARKS.md, Registry expiry), and SharedRegistry's removal also decodes the shared record and
   * queues a cluster write. A timer, not runOnContext, whose tasks Netty may run back to back, lets the loop read
   * its sockets between slices.
   */
  private void expireRegistrations() {
    expiryTimer = -1;
    if (!registry.expireSome(clock.instant(), EXPIRY_SLICE)) {
      expiryTimer = vertx.setTimer(1, id -> expireRegistrations());
    }
  }

  /**
   * Index steps per slice of registry expiry: a median 0.12 ms in memory at 1 M registrations (more with
   * SharedRegistry); a million due take 1,000 slices, one or two seconds.
   */
  static final int EXPIRY_SLICE = 1_000;

  /** A quarter of the registration lifetime, within 250 ms - 5 s: expiry is timely without busy sweeping. */
  static long sweepPeriodMillis(IntroducerConfig cfg) {
    return Math.max(250, Math.min(5_000, cfg.registrationLifetimeSeconds() * 250L));
  }
}
