package io.introducer.client;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.TransactionId;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rendezvous session with one peer: punching (PROTOCOL.md PUNCH) until the first valid PUNCH
 * success, then consent/RTT probes while the channel is open. Control thread only.
 */
final class Session {
  private static final Logger log = LoggerFactory.getLogger(Session.class);
  /** RFC 8445 Ta: pacing between two punches. */
  static final long PACE_MILLIS = 50;
  /** Pause after the first round of punches; grows by half each round up to {@link #MAX_ROUND_GAP_MILLIS}. */
  static final long FIRST_ROUND_GAP_MILLIS = 100;
  static final long MAX_ROUND_GAP_MILLIS = 1_000;
  /** At most one triggered punch per source in this time, so a flood of requests is not amplified. */
  static final long TRIGGER_INTERVAL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  /** Candidates plus learned peer-reflexive addresses punched at most. */
  static final int MAX_TARGETS = 16;
  /** Outstanding punch transactions remembered for matching responses. */
  static final int MAX_OUTSTANDING = 256;

  /** What the session tells the session table. */
  interface Owner {
    void opened(Session s);

    void failed(Session s, String reason);

    void closed(Session s);

    void route(InetSocketAddress address, Channel channel);

    /** {@code address} sent a valid PUNCH while we still punch: its data may arrive before we open. */
    void provenWhilePunching(InetSocketAddress address);
  }

  private enum State { PUNCHING, OPEN, CLOSED }

  private record Probe(InetSocketAddress target, long sentNanos) {}

  private final ClientRuntime rt;
  private final Owner owner;
  private final Introduction intro;
  private final String id;
  private final long startNanos;
  private final List<Waiter> waiters = new ArrayList<>();
  private final List<InetSocketAddress> targets = new ArrayList<>();
  private final ArrayDeque<InetSocketAddress> round = new ArrayDeque<>();
  private final LinkedHashMap<TransactionId, Probe> outstanding = new LinkedHashMap<>();
  private final Map<InetSocketAddress, Long> lastTriggered = new HashMap<>();
  private final Set<InetSocketAddress> proven = new LinkedHashSet<>();
  private State state = State.PUNCHING;
  private long roundGap = FIRST_ROUND_GAP_MILLIS;
  private ScheduledFuture<?> punchTimer;
  private ScheduledFuture<?> windowTimer;
  private ScheduledFuture<?> probeTimer;
  private Channel channel;
  private InetSocketAddress path;
  private long connectedAfterNanos;
  private long srttNanos;
  private long lastAnswerNanos;

  Session(ClientRuntime rt, Owner owner, Introduction intro, long startNanos) {
    this.rt = rt;
    this.owner = owner;
    this.intro = intro;
    this.id = intro.sessionHex();
    this.startNanos = startNanos;
    boolean v4Socket = rt.transport.localAddress().getAddress() instanceof Inet4Address;
    // PROTOCOL.md section 7: host candidates are tried first (two peers behind one NAT).
    List<Candidate> ordered = new ArrayList<>(intro.candidates());
    ordered.sort(Comparator.comparing(c -> c.kind() != Candidate.Kind.HOST));
    for (Candidate c : ordered) {
      boolean v4 = c.address().getAddress() instanceof Inet4Address;
      // An IPv4 socket cannot reach IPv6 candidates.
      if ((v4 || !v4Socket) && !targets.contains(c.address()) && targets.size() < MAX_TARGETS) {
        targets.add(c.address());
      }
    }
  }

  String id() {
    return id;
  }

  String remotePeerId() {
    return intro.remotePeerId();
  }

  Introduction introduction() {
    return intro;
  }

  boolean isInitiator() {
    return intro.role() == Rendezvous.ROLE_INITIATOR;
  }

  boolean isPunching() {
    return state == State.PUNCHING;
  }

  boolean isOpen() {
    return state == State.OPEN;
  }

  Channel channel() {
    return channel;
  }

  InetSocketAddress path() {
    return path;
  }

  long connectedAfterMillis() {
    return TimeUnit.NANOSECONDS.toMillis(connectedAfterNanos);
  }

  long srttMicros() {
    return TimeUnit.NANOSECONDS.toMicros(srttNanos);
  }

  void addWaiters(List<Waiter> more) {
    waiters.addAll(more);
  }

  /** Removes and returns the waiters still waiting (handed to a session that supersedes this one). */
  List<Waiter> takeWaiters() {
    List<Waiter> out = new ArrayList<>();
    for (Waiter w : waiters) {
      if (w.live()) {
        out.add(w);
      }
    }
    waiters.clear();
    return out;
  }

  boolean hasLiveWaiters() {
    return waiters.stream().anyMatch(Waiter::live);
  }

  /** Starts punching: every candidate, paced, in rounds with growing gaps, until the punch window ends. */
  void start() {
    windowTimer = rt.schedule(() -> fail("punch timed out"), intro.punchWindow().toMillis());
    punchStep();
  }

  private void punchStep() {
    if (state != State.PUNCHING) {
      return;
    }
    if (round.isEmpty()) {
      round.addAll(targets);
    }
    InetSocketAddress target = round.poll();
    if (target != null) {
      sendPunch(target);
    }
    long delay = PACE_MILLIS;
    if (round.isEmpty()) {
      delay = roundGap;
      roundGap = Math.min(MAX_ROUND_GAP_MILLIS, roundGap * 3 / 2);
    }
    punchTimer = rt.schedule(this::punchStep, delay);
  }

  private void sendPunch(InetSocketAddress target) {
    byte[] tx = StunMessage.newTransactionId();
    outstanding.put(new TransactionId(tx), new Probe(target, ClientRuntime.nowNanos()));
    Iterator<TransactionId> oldest = outstanding.keySet().iterator();
    while (outstanding.size() > MAX_OUTSTANDING && oldest.hasNext()) {
      oldest.next();
      oldest.remove();
    }
    rt.send(Wire.punchRequest(tx, intro.sessionId(), rt.wire.peerId(), intro.sessionKey()), target);
  }

  /** A PUNCH request or CLOSE is authentic when signed with the session key by the other peer, not reflected. */
  private boolean fromPeer(StunMessage m) {
    return m.verifyIntegritySha256(intro.sessionKey())
        && intro.remotePeerId().equals(m.getString(StunAttributes.PEER_ID));
  }

  /** PUNCH request: answer it, learn the source, and (while punching) send a triggered punch back. */
  boolean onPunchRequest(StunMessage m, InetSocketAddress source) {
    if (state == State.CLOSED || !fromPeer(m)) {
      return false;
    }
    List<Integer> unknown = m.unknownComprehensionRequired();
    if (!unknown.isEmpty()) {
      rt.send(Wire.unknownAttributes(m, unknown, intro.sessionKey()), source);
      return true;
    }
    rt.send(Wire.punchSuccess(m, source, intro.sessionId(), intro.sessionKey()), source);
    prove(source);
    if (state == State.PUNCHING) {
      if (!targets.contains(source) && targets.size() < MAX_TARGETS) {
        targets.add(source); // peer-reflexive: how the easy side learns a hard side's port
      }
      long now = ClientRuntime.nowNanos();
      Long last = lastTriggered.get(source);
      if (last == null || now - last >= TRIGGER_INTERVAL_NANOS) {
        lastTriggered.put(source, now);
        sendPunch(source);
      }
    }
    return true;
  }

  /** PUNCH success to one of our requests: the first one connects; later ones feed the RTT estimate. */
  boolean onPunchSuccess(StunMessage m, InetSocketAddress source) {
    if (state == State.CLOSED || !m.verifyIntegritySha256(intro.sessionKey())) {
      return false;
    }
    Probe probe = outstanding.remove(m.transactionKey());
    if (probe == null) {
      return false;
    }
    long now = ClientRuntime.nowNanos();
    long sample = Math.max(1_000, now - probe.sentNanos()); // at least 1 us: an RTT of zero is no measurement
    lastAnswerNanos = now;
    prove(source);
    if (state == State.PUNCHING) {
      open(source, sample, now);
    } else {
      // RFC 6298: SRTT <- 7/8 SRTT + 1/8 R
      srttNanos = srttNanos - srttNanos / 8 + sample / 8;
      channel.rtt(srttNanos);
    }
    return true;
  }

  /** CLOSE indication from the peer. */
  boolean onClose(StunMessage m) {
    if (state == State.CLOSED || !fromPeer(m)) {
      return false;
    }
    close("closed by peer", false);
    return true;
  }

  private void prove(InetSocketAddress source) {
    if (proven.size() < MAX_TARGETS && proven.add(source)) {
      if (channel != null) {
        owner.route(source, channel);
      } else {
        owner.provenWhilePunching(source);
      }
    }
  }

  /** Addresses that sent this session a valid PUNCH. */
  Set<InetSocketAddress> provenAddresses() {
    return Set.copyOf(proven);
  }

  private void open(InetSocketAddress source, long rttNanos, long now) {
    state = State.OPEN;
    cancelTimers();
    round.clear();
    lastTriggered.clear();
    path = source;
    srttNanos = rttNanos;
    connectedAfterNanos = now - startNanos;
    channel = new Channel(rt, this, source, rttNanos);
    for (InetSocketAddress a : proven) {
      owner.route(a, channel); // data may arrive from any address that proved itself, e.g. the LAN one
    }
    log.info("session {} with {} open via {} after {} ms, rtt {} us", id, remotePeerId(), source,
        connectedAfterMillis(), srttMicros());
    probeTimer = rt.schedule(this::probe, rt.config.probeInterval().toMillis());
    owner.opened(this);
  }

  /** Keepalive and RTT probe on an open channel; closes it when the peer stopped answering. */
  private void probe() {
    if (state != State.OPEN) {
      return;
    }
    if (ClientRuntime.nowNanos() - lastAnswerNanos > rt.config.probeTimeout().toNanos()) {
      close("peer unreachable", true);
      return;
    }
    sendPunch(path);
    probeTimer = rt.schedule(this::probe, rt.config.probeInterval().toMillis());
  }

  /** Waiters now waiting for this open channel. */
  List<Waiter> waiters() {
    return waiters;
  }

  /** Punching gave up (or was superseded): no channel. */
  void fail(String reason) {
    if (state != State.PUNCHING) {
      return;
    }
    state = State.CLOSED;
    cancelTimers();
    log.info("session {} with {} failed: {}", id, remotePeerId(), reason);
    owner.failed(this, reason);
  }

  /** Closes an open channel; tells the peer unless it told us. */
  void close(String reason, boolean notifyPeer) {
    if (state == State.PUNCHING) {
      fail(reason);
      return;
    }
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    cancelTimers();
    if (notifyPeer) {
      byte[] close = Wire.close(intro.sessionId(), rt.wire.peerId(), intro.sessionKey());
      // An indication is never retransmitted; a second copy makes one lost datagram harmless.
      rt.send(close, path);
      rt.send(close, path);
    }
    channel.markClosed(reason);
    owner.closed(this);
  }

  private void cancelTimers() {
    for (ScheduledFuture<?> t : new ScheduledFuture<?>[] {punchTimer, windowTimer, probeTimer}) {
      if (t != null) {
        t.cancel(false);
      }
    }
  }

  @Override
  public String toString() {
    return "Session[" + id + " " + rt.wire.peerId() + "<->" + remotePeerId() + " " + state + "]";
  }
}
