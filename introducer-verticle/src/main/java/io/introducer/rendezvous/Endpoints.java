package io.introducer.rendezvous;

import io.introducer.protocol.StunAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.SocketAddress;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The UDP sockets of one introducer (docs/PROTOCOL.md section 6). Group 0 is in the family of {@code host}: the
 * primary socket IP1:P1, and as configured IP1:P2 ({@code alternatePort}), IP2:P1 and IP2:P2
 * ({@code alternateHost}). Without {@code alternateHost}, a clustered node's IP2:P1 and IP2:P2 are its partner
 * node's primary socket and alternate port ({@link #partner}): answers "sent" from them are handed to that node.
 * Group 1, when {@code host6} is set, is a second primary socket on IPv6 (and its alternate port). Primary sockets
 * serve everything; the others answer Binding only, for RFC 5780 tests.
 * Event-loop confined once listening; the port accessors may be read from any thread.
 *
 * <p>The sockets are netty channels on the verticle's event loop ({@link UdpChannel}); plain Binding requests are
 * answered on the spot by {@link BindingFastPath}, everything else is handed to the receiver on the verticle's
 * context, as Vert.x's own sockets do.
 */
final class Endpoints implements Outbound {
  /** Bind attempts when ephemeral ports are in play and a derived port (IP2:P1, IP2:P2) is taken. */
  static final int BIND_ATTEMPTS = 5;
  private static final Logger log = LoggerFactory.getLogger(Endpoints.class);

  /** Receives every datagram of every socket, with the socket it arrived on. */
  @FunctionalInterface
  interface Receiver {
    void receive(Endpoint local, DatagramPacket packet);
  }

  /** Hands a Binding answer to the RFC 5780 partner to send from its primary socket or alternate port. */
  @FunctionalInterface
  interface Forwarder {
    void forward(DiscoveryPartners.Partner partner, boolean alternatePort, byte[] datagram, InetSocketAddress to);
  }

  /** One listening socket and what Binding responses sent from it say about it. */
  final class Endpoint {
    final int group;
    final boolean alternateIp;
    final boolean alternatePort;
    private UdpChannel socket;
    private volatile InetSocketAddress bound;
    private String host;
    /** The address clients reach this socket at, or null when unknown (bound to a wildcard without publicHost). */
    private InetSocketAddress advertised;
    /** Volatile: read by every lane's event loop (the fast path), set once every socket is bound. */
    private volatile byte[] responseOrigin;
    private volatile byte[] otherAddress;
    /** The Binding fast path of each lane of {@link #socket} (it keeps a CRC: one per event loop). */
    private BindingFastPath[] fastPaths;
    /** Set when this is a socket of the RFC 5780 partner node, not ours: what is sent "from" it is forwarded. */
    private DiscoveryPartners.Partner partner;
    private Forwarder forwarder;

    private Endpoint(int group, boolean alternateIp, boolean alternatePort) {
      this.group = group;
      this.alternateIp = alternateIp;
      this.alternatePort = alternatePort;
    }

    /** The partner's primary socket or alternate port, as this node's IP2:P1 or IP2:P2 (group 0). */
    private Endpoint(DiscoveryPartners.Partner partner, boolean alternatePort, Forwarder forwarder) {
      this(0, true, alternatePort);
      this.partner = partner;
      this.forwarder = forwarder;
      this.bound = alternatePort ? partner.alternate() : partner.primary();
      this.host = bound.getAddress().getHostAddress();
      this.advertised = bound;
      this.responseOrigin = StunAddress.encodePlain(bound);
    }

    /** Rendezvous methods are served on primary sockets only. */
    boolean primary() {
      return !alternateIp && !alternatePort;
    }

    int port() {
      return bound.getPort();
    }

    /** RESPONSE-ORIGIN's value (MAPPED-ADDRESS layout) for responses sent from here, or null when unknown. */
    byte[] responseOrigin() {
      return responseOrigin;
    }

    /** OTHER-ADDRESS's value for requests received here, or null when this node has no alternate to name. */
    byte[] otherAddress() {
      return otherAddress;
    }

    InetSocketAddress advertised() {
      return advertised;
    }

    /** Sends from this socket; a partner's socket: hands the datagram to the partner, which sends it from there. */
    void send(byte[] datagram, InetSocketAddress to) {
      if (partner != null) {
        forwarder.forward(partner, alternatePort, datagram, to);
        return;
      }
      counters.packetsOut.increment();
      socket.send(datagram, to);
    }

    /**
     * A datagram arrived on {@code lane}'s event loop: charged to its source first (the cheapest place to drop a
     * flood: nothing copied or dispatched yet), then plain Bindings are answered here, on that loop and from that
     * lane; the rest goes to the receiver on the verticle's context (a hop when the lane is on another loop).
     */
    private void receive(UdpChannel.Lane lane, io.netty.channel.socket.DatagramPacket packet) {
      InetSocketAddress from = packet.sender();
      ByteBuf data = packet.content();
      if (!limits.admit(from, data.readableBytes())) {
        counters.packetsIn.increment(); // over its source's rate, or a new source with the table full; counted there
        return;
      }
      ByteBuf answer = null;
      try {
        answer = fastPaths[lane.index].answer(data, from, responseOrigin, otherAddress, lane.alloc());
      } catch (RuntimeException e) {
        log.error("Bug in the Binding fast path for a datagram from {}", from, e);
      }
      if (answer != null) {
        counters.packetsIn.increment();
        if (!limits.spend(from, answer.readableBytes())) {
          answer.release(); // beyond the source's amplification credit (docs/SECURITY.md); counted there
          return;
        }
        counters.bindings.increment();
        counters.packetsOut.increment();
        lane.send(answer, from);
        return;
      }
      DatagramPacket p = new Packet(SocketAddress.inetSocketAddress(from), Buffer.buffer(ByteBufUtil.getBytes(data)));
      if (context.nettyEventLoop().inEventLoop()) {
        context.dispatch(p, x -> receiver.receive(this, x));
      } else {
        context.runOnContext(v -> receiver.receive(this, p)); // the rendezvous state lives on the verticle's context
      }
    }

    String role() {
      String r = alternateIp ? (alternatePort ? "alternate address and port" : "alternate address")
          : alternatePort ? "alternate port" : "primary";
      return group == 1 ? r + ", IPv6" : r;
    }
  }

  /** A received datagram as the receiver sees it. */
  private record Packet(SocketAddress sender, Buffer data) implements DatagramPacket {}

  private final Vertx vertx;
  private final IntroducerCounters counters;
  private final RateLimits limits;
  private ContextInternal context;
  /** [group][alternate IP][alternate port]; null where nothing listens. */
  private final Endpoint[][][] slots = new Endpoint[2][2][2];
  /** The RFC 5780 partner's primary socket and alternate port, standing in for IP2:P1 and IP2:P2; null: none. */
  private volatile Endpoint[] partnerSockets;
  /** Whether RESPONSE-ORIGIN and OTHER-ADDRESS have been filled in (every socket bound). */
  private boolean advertised;
  private final List<Endpoint> all = new ArrayList<>();
  private IntroducerConfig config;
  private Receiver receiver;

  /**
   * Every datagram is {@link RateLimits#admit admitted} here before anything else; the Binding fast path's answers are
   * paid for here too, the {@link Dispatcher}'s where it sends them.
   */
  Endpoints(Vertx vertx, IntroducerCounters counters, RateLimits limits) {
    this.vertx = vertx;
    this.counters = counters;
    this.limits = limits;
  }

  /** Binds every configured socket, retrying when an ephemeral port could not be mirrored on IP2; logs each one. */
  Future<Void> listen(IntroducerConfig cfg, Receiver receiver) {
    this.config = cfg;
    this.receiver = receiver;
    this.context = (ContextInternal) vertx.getOrCreateContext();
    boolean ephemeral = cfg.port() == 0 || cfg.alternatePort() == 0;
    return attempt(ephemeral ? BIND_ATTEMPTS : 1).onSuccess(v -> {
      advertise();
      for (Endpoint e : all) {
        int lanes = e.socket.lanes();
        log.info("Introducer listening on udp/{}:{} ({}{})", hostText(e.host), e.port(), e.role(),
            lanes > 1 ? ", " + lanes + " event loops" : "");
      }
    });
  }

  private Future<Void> attempt(int remaining) {
    return bindAll().recover(e -> close().transform(ignored -> {
      if (remaining > 1) {
        log.debug("Binding the introducer's sockets failed ({}); retrying with new ephemeral ports", e.getMessage());
        return attempt(remaining - 1);
      }
      return Future.failedFuture(e);
    }));
  }

  private Future<Void> bindAll() {
    IntroducerConfig cfg = config;
    boolean v6 = cfg.host().contains(":");
    Future<Void> chain = bindGroup(0, v6, cfg.host(), cfg.alternateHost());
    if (cfg.host6() != null) {
      chain = chain.compose(v -> bindGroup(1, true, cfg.host6(), null));
    }
    return chain;
  }

  private Future<Void> bindGroup(int group, boolean v6, String host, String alternateHost) {
    IntroducerConfig cfg = config;
    return bind(group, false, false, v6, host, cfg.port()).compose(p1 -> {
      Future<Endpoint> p2 = cfg.alternatePort() < 0 ? Future.succeededFuture(null)
          : bind(group, false, true, v6, host, cfg.alternatePort()).recover(e -> {
            if (!cfg.alternatePortOptional()) {
              return Future.failedFuture(e);
            }
            log.warn("Could not bind the default alternate port {} on {} ({}); RFC 5780 change-port tests will be"
                + " answered with 420. Set alternatePort to choose a free port, or -1 to disable it.",
                cfg.alternatePort(), host, e.getMessage());
            return Future.succeededFuture(null);
          });
      return p2.compose(alt -> {
        if (alternateHost == null) {
          return Future.<Void>succeededFuture();
        }
        Future<Endpoint> ip2 = bind(group, true, false, v6, alternateHost, p1.port());
        return alt == null ? ip2.mapEmpty() : ip2.compose(x -> bind(group, true, true, v6, alternateHost, alt.port()))
            .mapEmpty();
      });
    });
  }

  private Future<Endpoint> bind(int group, boolean altIp, boolean altPort, boolean v6, String host, int port) {
    Endpoint e = new Endpoint(group, altIp, altPort);
    InetAddress literal = IntroducerConfig.tryLiteral(host);
    // A host name (not an IP literal) is looked up off the event loop, as Vert.x's sockets did.
    Future<InetAddress> address = literal != null ? Future.succeededFuture(literal)
        : vertx.executeBlocking(() -> InetAddress.getByName(host), false);
    // Primary sockets are read on config.threads() event loops (SO_REUSEPORT); the RFC 5780 ones see little traffic.
    int lanes = e.primary() ? config.threads() : 1;
    // Made before any lane reads (registering a channel on its loop publishes them to that loop).
    e.fastPaths = new BindingFastPath[lanes];
    for (int i = 0; i < lanes; i++) {
      e.fastPaths[i] = new BindingFastPath(config.software());
    }
    return address.compose(a -> UdpChannel.bind(context, lanes, new InetSocketAddress(a, port), e::receive, err -> {
      // Datagrams are sent with void promises: a failed send is reported here.
      counters.drop("send-failed");
      log.debug("UDP socket {}: {}", e.bound, err.toString());
    })).map(s -> {
      e.socket = s;
      InetAddress ip = IntroducerConfig.tryLiteral(host);
      int actual = s.localAddress().getPort();
      e.host = host;
      e.bound = ip == null ? InetSocketAddress.createUnresolved(host, actual) : new InetSocketAddress(ip, actual);
      slots[group][altIp ? 1 : 0][altPort ? 1 : 0] = e;
      all.add(e);
      return e;
    }).recover(err -> Future.failedFuture(
        new IllegalStateException("cannot listen on udp/" + host + ":" + port + ": " + err.getMessage(), err)));
  }

  /** Fills in RESPONSE-ORIGIN and OTHER-ADDRESS once every socket is bound. */
  private void advertise() {
    InetAddress ip1 = config.advertisedHost();
    InetAddress ip2 = IntroducerConfig.tryLiteral(config.alternateHost());
    InetAddress ip6 = IntroducerConfig.tryLiteral(config.host6());
    for (Endpoint e : all) {
      InetAddress ip = e.group == 1 ? ip6 : e.alternateIp ? ip2 : ip1;
      if (ip != null && !ip.isAnyLocalAddress()) {
        e.advertised = new InetSocketAddress(ip, e.port());
        e.responseOrigin = StunAddress.encodePlain(e.advertised);
      }
    }
    advertised = true;
    otherAddresses();
  }

  /**
   * OTHER-ADDRESS of every socket (RFC 5780 7.4): the one with the other IP, if any (ours, or the partner's), and the
   * other port, if any (the partner always has both).
   */
  private void otherAddresses() {
    Endpoint[] remote = partnerSockets;
    for (Endpoint e : all) {
      boolean flipIp = slots[e.group][1][0] != null || slots[e.group][1][1] != null || e.group == 0 && remote != null;
      boolean flipPort = slots[e.group][0][1] != null || e.group == 0 && remote != null;
      Endpoint other = flipIp || flipPort ? changed(e, flipIp, flipPort) : null;
      e.otherAddress = other != null && other != e && other.advertised != null
          ? StunAddress.encodePlain(other.advertised) : null;
    }
  }

  /**
   * The socket a CHANGE-REQUEST received on {@code from} asks to answer from, or null when there is none. Without a
   * second IP of our own, the other IP is the partner's ({@link #partner}), when there is one.
   */
  Endpoint changed(Endpoint from, boolean changeIp, boolean changePort) {
    boolean ip = from.alternateIp ^ changeIp;
    boolean port = from.alternatePort ^ changePort;
    Endpoint local = slots[from.group][ip ? 1 : 0][port ? 1 : 0];
    Endpoint[] remote = partnerSockets;
    if (local == null && ip && from.group == 0 && remote != null) {
      return remote[port ? 1 : 0];
    }
    return local;
  }

  /**
   * Makes {@code partner} (null: none) this node's second IP for RFC 5780 (docs/PROTOCOL.md section 6): OTHER-ADDRESS
   * names its sockets, and what CHANGE-REQUEST asks to send from its IP is handed to {@code via}. Ignored when this
   * node has an {@code alternateHost} of its own or no concrete address of its own. Called on the verticle's context;
   * the Binding fast path of every event loop sees the new OTHER-ADDRESS values (volatile).
   */
  void partner(DiscoveryPartners.Partner partner, Forwarder via) {
    if (slots[0][1][0] != null || slots[0][1][1] != null || slots[0][0][0] == null) {
      return;
    }
    partnerSockets = partner == null ? null
        : new Endpoint[] {new Endpoint(partner, false, via), new Endpoint(partner, true, via)};
    if (advertised) {
      otherAddresses();
    }
  }

  /** The address clients reach the primary socket of {@code group} at; null when unknown or not listening. */
  InetSocketAddress advertisedPrimary(int group) {
    Endpoint e = slots[group][0][0];
    return e == null ? null : e.advertised;
  }

  /**
   * Sends a datagram from our IPv4-or-{@code host} primary socket or alternate port (for the partner whose second IP we
   * are); false when that socket does not listen.
   */
  boolean sendFromOwn(boolean alternatePort, byte[] datagram, InetSocketAddress to) {
    Endpoint e = slots[0][0][alternatePort ? 1 : 0];
    if (e == null) {
      return false;
    }
    e.send(datagram, to);
    return true;
  }

  /**
   * Outbound for the rendezvous protocol: from the primary socket of the destination's family (a peer's NAT
   * mapping is towards the address it registered with), else from the first primary.
   */
  @Override
  public void send(byte[] datagram, InetSocketAddress to) {
    boolean v6 = to.getAddress() instanceof Inet6Address;
    Endpoint g1 = slots[1][0][0];
    Endpoint primary = g1 != null && v6 ? g1 : slots[0][0][0];
    if (primary == null) {
      counters.drop("not-listening");
      return;
    }
    primary.send(datagram, to);
  }

  /** Datagrams read by each event loop of the primary socket of {@code group} (for tests). */
  Future<long[]> receivedPerLane(int group) {
    Endpoint e = slots[group][0][0];
    return e == null ? Future.succeededFuture(new long[0]) : e.socket.receivedPerLane();
  }

  /** The bound port of a socket, or -1 when it does not listen. */
  int port(int group, boolean alternateIp, boolean alternatePort) {
    Endpoint e = slots[group][alternateIp ? 1 : 0][alternatePort ? 1 : 0];
    return e == null || e.bound == null ? -1 : e.port();
  }

  Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>();
    for (Endpoint e : all) {
      if (e.socket != null) {
        closing.add(e.socket.close());
      }
    }
    all.clear();
    partnerSockets = null;
    advertised = false;
    for (Endpoint[][] g : slots) {
      for (Endpoint[] ip : g) {
        ip[0] = null;
        ip[1] = null;
      }
    }
    return Future.join(closing).mapEmpty();
  }

  /** The host as configured, IPv6 literals in brackets. */
  private static String hostText(String host) {
    return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
  }
}
