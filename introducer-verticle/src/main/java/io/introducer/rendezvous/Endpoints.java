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
 * ({@code alternateHost}). Group 1, when {@code host6} is set, is a second primary socket on IPv6 (and its
 * alternate port). Primary sockets serve everything; the others answer Binding only, for RFC 5780 tests.
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
    private byte[] responseOrigin;
    private byte[] otherAddress;

    private Endpoint(int group, boolean alternateIp, boolean alternatePort) {
      this.group = group;
      this.alternateIp = alternateIp;
      this.alternatePort = alternatePort;
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

    void send(byte[] datagram, InetSocketAddress to) {
      counters.packetsOut.increment();
      socket.send(datagram, to);
    }

    /**
     * A datagram arrived: charged to its source first (the cheapest place to drop a flood: nothing copied or
     * dispatched yet), then plain Bindings are answered here, the rest goes to the receiver on the verticle's context.
     */
    private void receive(io.netty.channel.socket.DatagramPacket packet) {
      InetSocketAddress from = packet.sender();
      ByteBuf data = packet.content();
      if (!limits.admit(from, data.readableBytes())) {
        counters.packetsIn.increment(); // over its source's rate, or a new source with the table full; counted there
        return;
      }
      ByteBuf answer = null;
      try {
        answer = fastPath.answer(data, from, responseOrigin, otherAddress, socket.alloc());
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
        socket.send(answer, from);
        return;
      }
      DatagramPacket p = new Packet(SocketAddress.inetSocketAddress(from), Buffer.buffer(ByteBufUtil.getBytes(data)));
      context.dispatch(p, x -> receiver.receive(this, x));
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
  private BindingFastPath fastPath;
  /** [group][alternate IP][alternate port]; null where nothing listens. */
  private final Endpoint[][][] slots = new Endpoint[2][2][2];
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
    this.fastPath = new BindingFastPath(cfg.software());
    boolean ephemeral = cfg.port() == 0 || cfg.alternatePort() == 0;
    return attempt(ephemeral ? BIND_ATTEMPTS : 1).onSuccess(v -> {
      advertise();
      for (Endpoint e : all) {
        log.info("Introducer listening on udp/{}:{} ({})", hostText(e.host), e.port(), e.role());
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
    return address.compose(a -> UdpChannel.bind(context, new InetSocketAddress(a, port), e::receive, err -> {
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
    for (Endpoint e : all) {
      boolean flipIp = slots[e.group][1][0] != null || slots[e.group][1][1] != null;
      boolean flipPort = slots[e.group][0][1] != null;
      Endpoint other = flipIp || flipPort ? changed(e, flipIp, flipPort) : null;
      if (other != null && other != e && other.advertised != null) {
        e.otherAddress = StunAddress.encodePlain(other.advertised);
      }
    }
  }

  /** The socket a CHANGE-REQUEST received on {@code from} asks to answer from, or null when there is none. */
  Endpoint changed(Endpoint from, boolean changeIp, boolean changePort) {
    boolean ip = from.alternateIp ^ changeIp;
    boolean port = from.alternatePort ^ changePort;
    return slots[from.group][ip ? 1 : 0][port ? 1 : 0];
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
