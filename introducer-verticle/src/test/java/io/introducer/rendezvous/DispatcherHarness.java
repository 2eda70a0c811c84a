package io.introducer.rendezvous;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.introducer.protocol.rendezvous.PeerTokens;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.rendezvous.impl.InMemoryRegistry;
import io.introducer.rendezvous.impl.InMemorySessionStore;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The introducer's protocol logic without its sockets, for fuzzing ({@link DispatcherFuzzTest}): a {@link Dispatcher}
 * wired as the verticle wires it, whose every outgoing datagram (Binding answers, rendezvous answers, INTRODUCE and
 * UPDATE, retransmissions included) is checked instead of sent. Datagrams come from {@link #SOURCE}, the registered
 * address of peer "alice"; "bob" is registered at {@link #BOB}. The clock stands still at {@link #T0}, so that
 * requests signed with that TIMESTAMP stay fresh in the corpus. Rate limits are off, so that nothing an input does is
 * hidden behind a drop. Properties, checked after each datagram:
 * <ul>
 *   <li>nothing thrown escapes, and nothing is caught as a bug inside (drop reason {@code internal-error}, error 500);
 *   <li>every datagram sent goes to the source, or (a Binding answer redirected by RESPONSE-PORT) to another port of
 *       the source's IP, or to an address a peer is registered at (INTRODUCE, UPDATE).
 * </ul>
 * The real Endpoints are bound on loopback only to get the socket objects the Dispatcher is given; nothing is sent
 * through them.
 */
final class DispatcherHarness implements AutoCloseable {
  static final long T0 = 1_800_000_000_000L;
  static final InetSocketAddress SOURCE = new InetSocketAddress("198.51.100.7", 40000);
  static final InetSocketAddress BOB = new InetSocketAddress("203.0.113.5", 50000);
  static final String APP = Fixtures.APP;
  static final String SECRET = Fixtures.SECRET;
  static final String TOKEN_APP = "strict-game";
  static final String TOKEN_SECRET = "strict-secret";

  private final Vertx vertx = Vertx.vertx();
  private final ContextInternal context = (ContextInternal) vertx.getOrCreateContext();
  private final IntroducerCounters counters = new IntroducerCounters();
  private final InMemoryRegistry registry = new InMemoryRegistry();
  private final List<String> violations = Collections.synchronizedList(new ArrayList<>());
  private final IntroducerConfig config;
  private final Dispatcher dispatcher;
  private final Endpoints endpoints;
  private final Endpoints.Endpoint primary;

  DispatcherHarness() throws Exception {
    config = IntroducerConfig.fromJson(Fixtures.config()
        .put("limits", new JsonObject().put("perSourcePerSecond", 0).put("perAppPerSecond", 0)
            .put("introducesPerTargetPerSecond", 0).put("amplificationFactor", 0))
        .put("relay", new JsonObject().put("address", "192.0.2.50:3479").put("restSecret", "relay-secret"))
        .put("apps", new JsonArray()
            .add(new JsonObject().put("id", APP).put("secret", SECRET))
            .add(new JsonObject().put("id", TOKEN_APP).put("secret", TOKEN_SECRET).put("requireTokens", true))));
    Clock clock = Clock.fixed(Instant.ofEpochMilli(T0), ZoneOffset.UTC);
    RateLimits limits = new RateLimits(config.limits(), counters);
    Outbound out = this::check;
    Replies replies = new Replies(counters);
    SessionStore sessions = new InMemorySessionStore(config.maxSessions());
    Introductions introductions = new Introductions(vertx, out, registry, sessions, counters, clock,
        config.maxSessions(), "local", (owner, request) -> violations.add("forwarded to another node: " + owner));
    RelaySelector relays =
        RelaySelector.fixed(new RelaySelector.Relay(config.relay().address(), config.relay().restSecret()));
    PeerRequests peerRequests = new PeerRequests(config, out, counters, replies, clock, limits,
        new RegistrationHandler(config, registry, counters, replies, relays),
        new ConnectHandler(config, registry, sessions, introductions,
            new StrategySelector(config.punchParams(), config.predictionWindow()), relays, counters, replies, limits),
        new ResultHandler(sessions, counters, replies),
        new UpdateHandler(config, registry, sessions, introductions, counters, replies, limits),
        new RelayRequestHandler(config, registry, sessions, relays, counters, replies));
    endpoints = new Endpoints(vertx, counters, limits);
    dispatcher = new Dispatcher(config, endpoints, counters, peerRequests, introductions, limits,
        (via, datagram, to) -> check(datagram, to));
    Instant now = clock.instant();
    registry.put(new Registration(APP, "alice", SOURCE, List.of(), now, now.plusSeconds(60)));
    registry.put(new Registration(APP, "bob", BOB, List.of(), now, now.plusSeconds(60)));

    CompletableFuture<Endpoints.Endpoint> local = new CompletableFuture<>();
    onContext(() -> endpoints.listen(config, (socket, packet) -> local.complete(socket))
        .onFailure(local::completeExceptionally));
    try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      for (int i = 0; i < 50 && !local.isDone(); i++) { // the socket may bind a moment after listen() returns
        int port = endpoints.port(0, false, false);
        if (port > 0) {
          probe.send(new DatagramPacket(new byte[] {'x'}, 1, InetAddress.getLoopbackAddress(), port));
        }
        Thread.sleep(20);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    primary = local.get(10, TimeUnit.SECONDS);
  }

  /** One datagram from {@link #SOURCE} on the primary socket; throws AssertionError when a property fails. */
  void feed(byte[] datagram) {
    onContext(() -> dispatcher.onDatagram(datagram, SOURCE, primary));
    if (!violations.isEmpty()) {
      throw new AssertionError("sent where it must not: " + violations);
    }
    if (counters.drops("internal-error") > 0 || counters.errors().containsKey(500)) {
      throw new AssertionError("a bug was caught while handling " + java.util.HexFormat.of().formatHex(datagram)
          + " (see the log)");
    }
  }

  /**
   * Feeds a rendezvous request re-signed the way its APP-ID, PEER-ID and TOKEN-EXPIRY say (with alice's peer key when
   * they name no key), so that fuzzing reaches the handlers behind authentication. Anything else is ignored.
   */
  void feedSigned(byte[] data) {
    StunMessage m;
    try {
      m = StunMessage.decode(data);
    } catch (StunParseException e) {
      return;
    }
    if (m.messageClass() != StunClass.REQUEST || m.method() < StunMethods.REGISTER || m.method() > StunMethods.UPDATE) {
      return;
    }
    StunMessage.Builder b = StunMessage.builder(m.method(), StunClass.REQUEST, m.transactionId());
    byte[] signed;
    try {
      for (int type : m.attributeTypes()) {
        if (type != StunAttributes.MESSAGE_INTEGRITY && type != StunAttributes.MESSAGE_INTEGRITY_SHA256
            && type != StunAttributes.FINGERPRINT) {
          for (byte[] v : m.getAll(type)) {
            b.add(type, v);
          }
        }
      }
      signed = b.integritySha256(keyFor(m)).fingerprint().encode();
    } catch (IllegalArgumentException | IllegalStateException tooLong) {
      return; // the re-signed message would not fit in a datagram
    }
    feed(signed);
  }

  private byte[] keyFor(StunMessage m) {
    String app = m.getString(StunAttributes.APP_ID);
    String peer = m.getString(StunAttributes.PEER_ID);
    String secret = app == null ? null : config.secret(app);
    if (secret == null || !Rendezvous.isValidId(peer)) {
      return Rendezvous.peerKey(SECRET, APP, "alice");
    }
    Long expiry = m.getU64(StunAttributes.TOKEN_EXPIRY);
    return expiry != null && expiry > 0 ? PeerTokens.key(secret, app, peer, expiry) : Rendezvous.peerKey(secret, app, peer);
  }

  /** Every outgoing datagram: allowed to the source, to another port of its IP for a Binding answer, or to a peer. */
  private void check(byte[] datagram, InetSocketAddress to) {
    if (to.equals(SOURCE)) {
      return;
    }
    // Binding success 0x0101 or error 0x0111.
    boolean bindingAnswer = datagram.length >= 2 && datagram[0] == 0x01 && (datagram[1] == 0x01 || datagram[1] == 0x11);
    if (bindingAnswer && to.getAddress().equals(SOURCE.getAddress())) {
      return; // RESPONSE-PORT: the port changes, never the IP
    }
    boolean registered = registry.all().stream().anyMatch(r -> r.serverReflexive().equals(to));
    boolean toPeer = datagram.length >= 2 && (datagram[0] & 0x01) == 0 && (datagram[1] & 0x10) == 0; // a request
    if (!(registered && toPeer)) {
      violations.add(describe(datagram) + " to " + to);
    }
  }

  private void onContext(Runnable action) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        action.run();
        done.complete(null);
      } catch (Throwable t) {
        done.completeExceptionally(t);
      }
    });
    try {
      done.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new AssertionError("escaped the dispatcher", e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static String describe(byte[] d) {
    try {
      return StunMessage.decode(d).toString();
    } catch (StunParseException e) {
      return d.length + " bytes";
    }
  }

  @Override
  public void close() {
    onContext(endpoints::close);
    try {
      vertx.close().await(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("Vert.x did not close", e);
    }
  }
}
