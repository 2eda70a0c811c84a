package io.introducer.client;

import io.introducer.client.transport.DatagramTransport;
import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.protocol.rendezvous.Strategy;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session table: connect() attempts, INTRODUCE handling, dispatch of peer messages to their
 * session, RESULT reports, and the routes the receiver uses to find a channel by source address.
 *
 * <p>At most one session per remote peer. When two peers connect to each other at once (each sends
 * CONNECT before seeing the other's INTRODUCE), both keep the session initiated by the peer with the
 * smaller id and hand their connect() callers its channel, so each side ends up with one channel.
 * Control thread only, except {@link #route}.
 */
final class Sessions implements Session.Owner {
  private static final Logger log = LoggerFactory.getLogger(Sessions.class);
  /** Session ids seen and finished are remembered this long, so retransmitted INTRODUCEs are only acked. */
  static final long RETIRED_NANOS = TimeUnit.SECONDS.toNanos(120);
  /** Incoming channels kept while no onIncoming listener is set. */
  static final int MAX_UNCLAIMED = 64;

  private final ClientRuntime rt;
  private final Transactions transactions;
  private final Registration registration;
  /** The relay side of sessions (PROTOCOL.md section 8): policies, allocations, UPDATE. */
  private final Relaying relaying;
  private final Map<String, Session> byId = new HashMap<>();
  private final Map<String, Session> byPeer = new HashMap<>();
  private final Map<String, Attempt> attempts = new HashMap<>();
  private final LinkedHashMap<String, Long> retired = new LinkedHashMap<>();
  private final Map<InetSocketAddress, Channel> routes = new ConcurrentHashMap<>();
  /** Data that arrived from a proven address before our side of the punch completed, delivered on open. */
  private final Map<InetSocketAddress, ArrayDeque<byte[]>> early = new ConcurrentHashMap<>();
  static final int MAX_EARLY_FRAMES = 32;
  static final int MAX_EARLY_ADDRESSES = 256;
  private final ArrayDeque<Channel> unclaimed = new ArrayDeque<>();
  /**
   * UPDATEs that arrived before the INTRODUCE of their session (a lost INTRODUCE waits for the introducer's
   * retransmission, while the initiator's UPDATE may already be on its way): applied when the session starts.
   */
  private final LinkedHashMap<String, EarlyUpdate> earlyUpdates = new LinkedHashMap<>();
  static final int MAX_EARLY_UPDATES = 64;
  static final long EARLY_UPDATE_NANOS = TimeUnit.SECONDS.toNanos(10);
  private Consumer<PeerChannel> incomingListener;

  /** Late candidates for a session not (yet) known here. */
  private record EarlyUpdate(String from, List<Candidate> candidates, long atNanos) {}
  private boolean closed;

  /** A CONNECT in flight to the introducer. */
  private static final class Attempt {
    final String peer;
    /** The relay policy of the connect() that started the attempt; later callers join it. */
    final ConnectPolicy policy;
    final long startNanos = ClientRuntime.nowNanos();
    final List<Waiter> waiters = new ArrayList<>();
    boolean superseded;

    Attempt(String peer, ConnectPolicy policy) {
      this.peer = peer;
      this.policy = policy;
    }
  }

  Sessions(ClientRuntime rt, Transactions transactions, Registration registration) {
    this.rt = rt;
    this.transactions = transactions;
    this.registration = registration;
    this.relaying = new Relaying(rt, transactions, registration);
  }

  /** Receiver thread: the open channel data from {@code source} belongs to, or null. */
  Channel route(InetSocketAddress source) {
    return routes.get(source);
  }

  /**
   * Receiver thread: keeps a data frame from an address that proved itself in a session still punching (the peer
   * connected one round trip before we did and already sends). False when not held: drop it.
   */
  boolean holdEarly(InetSocketAddress source, byte[] payload) {
    ArrayDeque<byte[]> q = early.get(source);
    if (q == null) {
      return false;
    }
    synchronized (q) {
      if (q.size() >= MAX_EARLY_FRAMES) {
        return false;
      }
      q.add(payload);
      return true;
    }
  }

  // ------------------------------------------------------------------------------------------ connect

  /**
   * A connect() call; {@code policy} applies to the session it starts (a call that joins an attempt or session
   * under way, or finds an open channel, gets that one whatever its policy).
   */
  void connect(String peer, ConnectPolicy policy, CompletableFuture<PeerChannel> future) {
    Waiter w = new Waiter(future);
    if (closed) {
      w.fail(rt, "client closed");
      return;
    }
    w.timer(rt.schedule(() -> waiterTimedOut(w, peer), rt.config.connectTimeout().toMillis()));
    Session s = byPeer.get(peer);
    if (s != null && s.isOpen()) {
      w.succeed(rt, s.channel());
      return;
    }
    if (s != null) {
      s.addWaiters(List.of(w));
      return;
    }
    Attempt a = attempts.get(peer);
    if (a != null) {
      a.waiters.add(w);
      return;
    }
    Attempt attempt = new Attempt(peer, policy);
    attempt.waiters.add(w);
    attempts.put(peer, attempt);
    transactions.send(rt.wire.connect(peer), registration.server(), rt.config.requestTimeout())
        .whenComplete((m, err) -> connectAnswered(attempt, m, err));
  }

  private void connectAnswered(Attempt a, StunMessage m, Throwable err) {
    if (closed) {
      return;
    }
    attempts.remove(a.peer, a);
    if (err != null) {
      failAll(a.waiters, "introducer did not answer");
      return;
    }
    if (m.messageClass() == StunClass.ERROR_RESPONSE) {
      ErrorCode e = m.errorCode();
      if (e.code() == ErrorCode.FORBIDDEN) {
        registration.lostOnServer();
      }
      failAll(a.waiters, e.reason().isEmpty() ? "connect refused: " + e.code() : e.reason());
      return;
    }
    Introduction intro = Introduction.parse(m, rt.wire);
    if (intro == null || !intro.remotePeerId().equals(a.peer) || intro.role() != Rendezvous.ROLE_INITIATOR) {
      failAll(a.waiters, "malformed introduction from the introducer");
      return;
    }
    if (byId.containsKey(intro.sessionHex()) || retired.containsKey(intro.sessionHex())) {
      return;
    }
    if (a.superseded) {
      // The peer's own connect to us won (see class comment); our waiters already wait on its session.
      reportFailure(intro, "superseded by a concurrent session");
      return;
    }
    Session existing = byPeer.get(a.peer);
    if (existing != null) {
      existing.addWaiters(a.waiters);
      reportFailure(intro, "superseded by a concurrent session");
      return;
    }
    if (a.waiters.stream().noneMatch(Waiter::live)) {
      reportFailure(intro, "connect timed out");
      return;
    }
    startSession(intro, a.startNanos, a.waiters, a.policy);
  }

  private void waiterTimedOut(Waiter w, String peer) {
    if (!w.live()) {
      return;
    }
    Session s = byPeer.get(peer);
    boolean punching = s != null && s.isPunching();
    w.fail(rt, punching ? "punch timed out" : "connect timed out");
    if (punching && s.isInitiator() && !s.hasLiveWaiters()) {
      s.fail("punch timed out");
    }
  }

  // ---------------------------------------------------------------------------------------- introduce

  /** INTRODUCE from the introducer: verify, ack, and start (or, for a duplicate, only ack) the session. */
  boolean onIntroduce(StunMessage m, InetSocketAddress source) {
    if (!registration.isServer(source) || !rt.wire.verifiedByIntroducer(m)
        || !rt.wire.peerId().equals(m.getString(StunAttributes.PEER_ID))
        || !rt.wire.appId().equals(m.getString(StunAttributes.APP_ID))) {
      return false;
    }
    Introduction intro = Introduction.parse(m, rt.wire);
    if (intro == null || intro.role() != Rendezvous.ROLE_RESPONDER || intro.remotePeerId().equals(rt.wire.peerId())) {
      return false;
    }
    rt.send(rt.wire.introduceAck(m, intro.sessionId()), source);
    String id = intro.sessionHex();
    if (closed || byId.containsKey(id) || retired.containsKey(id)) {
      return true;
    }
    String peer = intro.remotePeerId();
    boolean peerWins = peer.compareTo(rt.wire.peerId()) < 0;
    List<Waiter> adopted = new ArrayList<>();
    ConnectPolicy policy = rt.config.defaultPolicy();
    Attempt attempt = attempts.get(peer);
    Session existing = byPeer.get(peer);
    if (attempt != null || (existing != null && existing.isPunching() && existing.isInitiator())) {
      log.info("{} and {} connect to each other at once; keeping the session {} started", rt.wire.peerId(), peer,
          peerWins ? peer : rt.wire.peerId());
    }
    if (attempt != null) {
      if (!peerWins) {
        retire(id); // our CONNECT wins; the peer adopts our session when our INTRODUCE reaches it
        return true;
      }
      attempts.remove(peer);
      attempt.superseded = true;
      adopted.addAll(attempt.waiters);
      policy = attempt.policy;
    } else if (existing != null && existing.isOpen() && existing.isInitiator() && !peerWins
        && existing.ageNanos() < intro.punchWindow().toNanos()) {
      // The peer's half of a crossed connect, arriving after ours already opened: ours wins, as it does while
      // both are punching.
      retire(id);
      return true;
    } else if (existing != null && existing.isOpen()) {
      existing.close("replaced by a new session", true); // the peer lost its channel and connects anew
    } else if (existing != null) {
      if (existing.isInitiator() && !peerWins) {
        retire(id);
        return true;
      }
      adopted.addAll(existing.takeWaiters());
      policy = relaying.policy(existing);
      existing.fail("superseded by a concurrent session");
    }
    startSession(intro, ClientRuntime.nowNanos(), adopted, policy);
    return true;
  }

  private void startSession(Introduction intro, long startNanos, List<Waiter> waiters, ConnectPolicy policy) {
    Session s = new Session(rt, this, intro, startNanos);
    s.addWaiters(waiters);
    byId.put(s.id(), s);
    byPeer.put(intro.remotePeerId(), s);
    log.info("{} punching {} for session {} ({} candidates {}, strategy {})", rt.wire.peerId(), intro.remotePeerId(),
        s.id(), intro.candidates().size(), intro.candidates(), intro.strategy().wireName());
    ClientListener listener = rt.config.listener();
    rt.callback(() -> listener.introduced(intro.remotePeerId(), s.id(), intro.candidates(), intro.strategy()));
    relaying.begin(s, policy);
    s.start();
    EarlyUpdate early = earlyUpdates.remove(s.id());
    if (early != null && early.from().equals(s.remotePeerId())) {
      log.info("{} got late candidates {} from {} for session {} before its introduction", rt.wire.peerId(),
          early.candidates(), s.remotePeerId(), s.id());
      relaying.updated(s, early.candidates());
    }
  }

  private void keepEarlyUpdate(String sessionHex, EarlyUpdate update) {
    long now = update.atNanos();
    earlyUpdates.values().removeIf(u -> now - u.atNanos() > EARLY_UPDATE_NANOS);
    if (earlyUpdates.size() >= MAX_EARLY_UPDATES) {
      Iterator<String> oldest = earlyUpdates.keySet().iterator();
      oldest.next();
      oldest.remove();
    }
    earlyUpdates.merge(sessionHex, update, (a, b) -> {
      List<Candidate> all = new ArrayList<>(a.candidates());
      b.candidates().stream().filter(c -> !all.contains(c)).forEach(all::add);
      return new EarlyUpdate(a.from(), List.copyOf(all), a.atNanos());
    });
    log.debug("{} holds an UPDATE for session {} it does not know yet", rt.wire.peerId(), sessionHex);
  }

  // ----------------------------------------------------------------------------------- peer messages

  /**
   * PUNCH request/success and CLOSE, received on {@code via} (the client's socket or a birthday socket):
   * dispatched to the session named by SESSION-ID.
   */
  boolean onPeerMessage(StunMessage m, InetSocketAddress source, DatagramTransport via) {
    byte[] sid = m.get(StunAttributes.SESSION_ID);
    if (sid == null || sid.length != Rendezvous.SESSION_ID_LENGTH) {
      return false;
    }
    Session s = byId.get(HexFormat.of().formatHex(sid));
    if (s == null) {
      return false;
    }
    if (m.is(StunMethods.PUNCH, StunClass.REQUEST)) {
      return s.onPunchRequest(m, source, via);
    }
    if (m.is(StunMethods.PUNCH, StunClass.SUCCESS_RESPONSE)) {
      return s.onPunchSuccess(m, source, via);
    }
    if (m.is(StunMethods.CLOSE, StunClass.INDICATION)) {
      return s.onClose(m);
    }
    return false;
  }

  /**
   * UPDATE from the introducer (PROTOCOL.md section 8): verify, ack, and hand the late candidates to their
   * session. An UPDATE for a session we no longer hold is acked and ignored.
   */
  boolean onUpdate(StunMessage m, InetSocketAddress source) {
    if (!registration.isServer(source) || !rt.wire.verifiedByIntroducer(m)
        || !rt.wire.peerId().equals(m.getString(StunAttributes.PEER_ID))
        || !rt.wire.appId().equals(m.getString(StunAttributes.APP_ID))) {
      return false;
    }
    byte[] sid = m.get(StunAttributes.SESSION_ID);
    if (sid == null || sid.length != Rendezvous.SESSION_ID_LENGTH) {
      return false;
    }
    rt.send(rt.wire.updateAck(m, sid), source);
    String sessionHex = HexFormat.of().formatHex(sid);
    Session s = byId.get(sessionHex);
    String from = m.getString(StunAttributes.TARGET_PEER_ID);
    List<Candidate> candidates = new ArrayList<>();
    for (byte[] v : m.getAll(StunAttributes.CANDIDATE)) {
      Candidate c = Candidate.decode(v, m.transactionId());
      if (c != null) {
        candidates.add(c);
      }
    }
    if (s == null && !closed && !retired.containsKey(sessionHex) && from != null && !candidates.isEmpty()) {
      keepEarlyUpdate(sessionHex, new EarlyUpdate(from, List.copyOf(candidates), ClientRuntime.nowNanos()));
      return true;
    }
    if (s == null || !s.remotePeerId().equals(from)) {
      return true;
    }
    log.info("{} got late candidates {} from {} for session {}", rt.wire.peerId(), candidates, s.remotePeerId(),
        s.id());
    relaying.updated(s, candidates);
    return true;
  }

  // ------------------------------------------------------------------------------- session callbacks

  @Override
  public void opened(Session s) {
    Introduction intro = s.introduction();
    report(intro, s.strategyUsed(), s.isRelayed() ? Outcome.CONNECTED_RELAY : Outcome.CONNECTED_DIRECT,
        s.connectedAfterMillis(), s.srttMicros(), rt.relays.peerAddress(s.path()), null);
    relaying.opened(s);
    boolean claimed = false;
    for (Waiter w : s.waiters()) {
      if (w.live()) {
        w.succeed(rt, s.channel());
        claimed = true;
      }
    }
    s.waiters().clear();
    if (!claimed && !s.isInitiator()) {
      deliverIncoming(s.channel());
    } else if (!claimed) {
      s.close("connect abandoned", true); // every connect() caller gave up meanwhile
    }
  }

  @Override
  public void failed(Session s, String reason) {
    forget(s);
    relaying.forget(s);
    failAll(s.takeWaiters(), reason);
    if (!closed) {
      reportFailure(s.introduction(), reason);
    }
  }

  @Override
  public void closed(Session s) {
    forget(s);
    relaying.forget(s);
    Channel ch = s.channel();
    routes.values().removeIf(c -> c == ch);
    s.provenAddresses().forEach(early::remove);
  }

  @Override
  public void route(InetSocketAddress address, Channel channel) {
    routes.put(address, channel);
    ArrayDeque<byte[]> held = early.remove(address);
    if (held != null) {
      synchronized (held) {
        for (byte[] frame; (frame = held.poll()) != null;) {
          channel.deliver(frame);
        }
      }
    }
  }

  @Override
  public void provenWhilePunching(InetSocketAddress address) {
    if (early.size() < MAX_EARLY_ADDRESSES) {
      early.putIfAbsent(address, new ArrayDeque<>());
    }
  }

  @Override
  public String punchWindowEnded(Session s) {
    return relaying.windowEnded(s);
  }

  @Override
  public void pathChanged(Session s) {
    report(s.introduction(), s.strategyUsed(), Outcome.CONNECTED_DIRECT, s.connectedAfterMillis(), s.srttMicros(),
        s.path(), null);
    relaying.movedToDirect(s);
  }

  @Override
  public void relayedPathSilent(Session s) {
    relaying.relayedPathSilent(s);
  }

  @Override
  public void relayedPathRestored(Session s) {
    relaying.relayedPathRestored(s);
  }

  private void forget(Session s) {
    byId.remove(s.id(), s);
    byPeer.remove(s.remotePeerId(), s);
    retire(s.id());
  }

  private void retire(String sessionId) {
    long now = ClientRuntime.nowNanos();
    retired.put(sessionId, now);
    Iterator<Long> it = retired.values().iterator();
    while (it.hasNext() && now - it.next() > RETIRED_NANOS) {
      it.remove();
    }
  }

  private void failAll(List<Waiter> waiters, String reason) {
    for (Waiter w : waiters) {
      w.fail(rt, reason);
    }
  }

  // --------------------------------------------------------------------------------------- incoming

  void onIncoming(Consumer<PeerChannel> listener) {
    incomingListener = listener;
    while (!unclaimed.isEmpty()) {
      Channel ch = unclaimed.poll();
      if (ch.isOpen()) {
        rt.callback(() -> listener.accept(ch));
      }
    }
  }

  private void deliverIncoming(Channel ch) {
    Consumer<PeerChannel> l = incomingListener;
    if (l != null) {
      rt.callback(() -> l.accept(ch));
      return;
    }
    if (unclaimed.size() >= MAX_UNCLAIMED) {
      unclaimed.poll().close();
    }
    unclaimed.add(ch);
  }

  // ---------------------------------------------------------------------------------------- results

  private void reportFailure(Introduction intro, String reason) {
    report(intro, intro.strategy(), Outcome.FAILED, 0, 0, null, reason);
  }

  /** RESULT, naming the strategy actually used (RELAY for a relayed path). */
  private void report(Introduction intro, Strategy used, Outcome outcome, long timeToConnectMillis, long srttMicros,
      InetSocketAddress chosen, String reason) {
    byte[] request = rt.wire.result(intro.sessionId(), outcome, used, timeToConnectMillis, srttMicros, chosen,
        reason);
    transactions.send(request, registration.server(), rt.config.requestTimeout()).whenComplete((m, err) -> {
      if (err != null) {
        log.debug("RESULT for session {} not acknowledged: {}", intro.sessionHex(), err.toString());
      } else if (m.messageClass() == StunClass.ERROR_RESPONSE) {
        log.debug("RESULT for session {} refused: {}", intro.sessionHex(), m.errorCode());
      }
    });
  }

  // ---------------------------------------------------------------------------------------- closing

  /** Client shutdown: open channels are closed (CLOSE sent), everything waiting fails with "client closed". */
  void closeAll() {
    closed = true;
    for (Attempt a : attempts.values()) {
      failAll(a.waiters, "client closed");
    }
    attempts.clear();
    for (Session s : new ArrayList<>(byId.values())) {
      if (s.isOpen()) {
        s.close("client closed", true);
      } else {
        s.fail("client closed");
      }
    }
    for (Channel ch : unclaimed) {
      ch.markClosed("client closed");
    }
    unclaimed.clear();
    routes.clear();
    early.clear();
  }
}
