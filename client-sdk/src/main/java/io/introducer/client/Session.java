package io.introducer.client;

import io.introducer.client.relay.RelayPool;
import io.introducer.client.transport.DatagramTransport;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.TransactionId;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.protocol.rendezvous.Strategy;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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
  /** How long port prediction between two sequential NATs waits to learn where our allocator stands. */
  static final java.time.Duration LOCATE_TIMEOUT = java.time.Duration.ofMillis(500);

  /** What the session tells the session table. */
  interface Owner {
    void opened(Session s);

    void failed(Session s, String reason);

    void closed(Session s);

    void route(InetSocketAddress address, Channel channel);

    /** {@code address} sent a valid PUNCH while we still punch: its data may arrive before we open. */
    void provenWhilePunching(InetSocketAddress address);

    /**
     * The punch window ended without a path: null to keep the session going (a relay is being tried; the
     * relay side ends it later), else the reason to fail with.
     */
    String punchWindowEnded(Session s);

    /** An open session moved from its relayed path to a direct one (PROTOCOL.md section 8, RELAY_FIRST). */
    void pathChanged(Session s);

    /**
     * The relayed path of an open session stopped answering for {@link ClientConfig#relayProbeTimeout()}: its relay
     * may be gone (PROTOCOL.md section 8, relay failover). Reported once until the path answers again or moves.
     */
    void relayedPathSilent(Session s);

    /** An open session moved from a relayed path to another relayed path (after a relay failover). */
    void relayedPathRestored(Session s);
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
  /** Relayed candidates of the peer (UPDATE): reaching it there is a RELAY path, like our tunnel addresses. */
  private final Set<InetSocketAddress> relayedTargets = new HashSet<>();
  /**
   * Relayed candidates the peer announced while the channel was open on a relayed path: it moved to another relay
   * (failover), and the first PUNCH success from one of them moves the channel there.
   */
  private final Set<InetSocketAddress> replacementTargets = new LinkedHashSet<>();
  static final int MAX_REPLACEMENT_TARGETS = 4;
  /** Repeats of the first punch to a replacement target, so that one lost datagram costs less than a probe interval. */
  static final long[] REPLACEMENT_PUNCH_REPEATS_MILLIS = {100, 300};
  /** {@link Owner#relayedPathSilent} was called and the path has not answered since. */
  private boolean silenceReported;
  /** Order and pacing of the targets for the introducer's strategy and our side of it (PROTOCOL.md section 7). */
  private PunchPlan plan;
  /** PREDICTED ports among {@link #targets}: they do not count against {@link #MAX_TARGETS}. */
  private int predictedTargets;
  private final int maxOutstanding;
  /** The birthday strategy's extra sockets (hard side) or random probes (easy side); null otherwise. */
  private Birthday birthday;
  /** The socket the channel lives on: the client's, or the birthday socket that got through. */
  private DatagramTransport pathSocket;
  private boolean firstRound = true;
  private boolean windowOpen = true;
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
  /**
   * Birthday, easy side, open: the address the hard side nominated (it kept another socket than the one our first
   * success came from), being validated by a PUNCH of ours; its success moves the channel there.
   */
  private InetSocketAddress nominated;

  Session(ClientRuntime rt, Owner owner, Introduction intro, long startNanos) {
    this.rt = rt;
    this.owner = owner;
    this.intro = intro;
    this.id = intro.sessionHex();
    this.startNanos = startNanos;
    this.pathSocket = rt.transport;
    boolean v4Socket = rt.transport.localAddress().getAddress() instanceof Inet4Address;
    // PROTOCOL.md section 7: host candidates are tried first (two peers behind one NAT), except by a peer whose
    // own sequential NAT is predicted; with STRATEGY relay (section 8) only they are worth a try.
    this.plan = PunchPlan.of(intro, rt.natProfile(), rt.mappingsSinceFirst(), v4Socket);
    targets.addAll(plan.targets());
    this.predictedTargets = (int) targets.stream().filter(plan::isPredicted).count();
    this.maxOutstanding = MAX_OUTSTANDING + predictedTargets
        + (plan.birthdayHard() ? 2 * intro.punchParams().socketCount() : 0)
        + (plan.birthdayEasy() ? intro.punchParams().probeCount() : 0);
  }

  /**
   * The strategy this session actually traversed with, for RESULT and {@link PeerChannel#strategy()}: RELAY on a
   * relayed path, otherwise the one the introducer named (SIMULTANEOUS when it named none).
   */
  Strategy strategyUsed() {
    return isRelayed() ? Strategy.RELAY : intro.strategy();
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

  /** Nanoseconds since this session started (its CONNECT or INTRODUCE). */
  long ageNanos() {
    return ClientRuntime.nowNanos() - startNanos;
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
    windowTimer = rt.schedule(this::windowEnded, intro.punchWindow().toMillis());
    if (plan.bothPredicted() && rt.serverReflexive() != null) {
      locateThenPunch();
    } else {
      punchStep();
    }
    if (plan.birthdayHard()) {
      birthday = new Birthday(rt, this::sendPunch, intro.punchParams());
      birthday.startHard(plan.serverReflexive());
    } else if (plan.birthdayEasy()) {
      birthday = new Birthday(rt, this::sendPunch, intro.punchParams());
      Set<Integer> known = new HashSet<>();
      for (InetSocketAddress t : targets) {
        if (t.getAddress() != null && t.getAddress().equals(plan.hardAddress())) {
          known.add(t.getPort()); // punched anyway
        }
      }
      birthday.startEasy(plan.hardAddress(), known);
    }
  }

  /**
   * Port prediction between two sequential NATs: each side's k-th new mapping must meet the other's k-th, so each
   * shifts its predictions by exactly how far its own allocator moved since the introducer saw its port
   * ({@link PunchPlan}). Counting our own destinations misses other hosts' traffic and packets a NAT never
   * mapped, so a fresh socket asks the introducer where the allocator stands now (one round trip); the count
   * stays the fallback when that gets no answer.
   */
  private void locateThenPunch() {
    InetSocketAddress server = rt.reflexiveServer();
    InetSocketAddress seen = rt.serverReflexive();
    InetSocketAddress bind = new InetSocketAddress(rt.transport.localAddress().getAddress(), 0);
    String name = "introducer-client-" + rt.wire.peerId() + "-locate";
    Thread t = new Thread(() -> {
      InetSocketAddress now = NatDiscovery.freshMapping(rt.config.transportFactory(), bind, server, LOCATE_TIMEOUT,
          name);
      rt.execute(() -> located(seen, now));
    }, name);
    t.setDaemon(true);
    t.start();
  }

  private void located(InetSocketAddress seen, InetSocketAddress now) {
    if (state != State.PUNCHING) {
      return;
    }
    int stride = rt.natProfile().stride();
    if (now != null && now.getAddress().equals(seen.getAddress()) && stride != 0
        && (now.getPort() - seen.getPort()) % stride == 0 && (now.getPort() - seen.getPort()) / stride >= 0) {
      // Our next mapping is now + stride = seen + stride * (1 + moved).
      int moved = (now.getPort() - seen.getPort()) / stride;
      boolean v4Socket = rt.transport.localAddress().getAddress() instanceof Inet4Address;
      List<InetSocketAddress> late = new ArrayList<>(targets);
      late.removeAll(plan.targets());
      plan = PunchPlan.of(intro, rt.natProfile(), moved, v4Socket);
      targets.clear();
      targets.addAll(plan.targets());
      targets.addAll(late);
      predictedTargets = (int) targets.stream().filter(plan::isPredicted).count();
      log.debug("session {}: our allocator moved {} ports since the introducer saw {}", id, moved, seen);
    }
    punchStep();
  }

  /**
   * End of the punch window: without a path the session fails, unless a relay is being tried (then only the
   * relayed targets are punched on); on a relayed path the search for a direct one stops.
   */
  private void windowEnded() {
    windowOpen = false;
    if (state == State.PUNCHING) {
      String reason = owner.punchWindowEnded(this);
      if (reason != null) {
        fail(reason);
      } else {
        round.removeIf(t -> !relayed(t));
      }
    } else if (state == State.OPEN) {
      round.clear();
      lastTriggered.clear();
    }
  }

  /** Punching goes on while connecting, and on a relayed path while the window lasts, for a direct path. */
  private boolean punching() {
    return state == State.PUNCHING || (state == State.OPEN && windowOpen && relayed(path));
  }

  /** Whom a round punches: on a relayed path only direct targets; after the window only relayed ones. */
  private boolean worthPunching(InetSocketAddress target) {
    return state == State.OPEN ? !relayed(target) : windowOpen || relayed(target);
  }

  /** True for a path through a relay: one of our allocations (a tunnel address) or the peer's relayed candidate. */
  boolean relayed(InetSocketAddress address) {
    return address != null && (RelayPool.isTunnel(address) || relayedTargets.contains(address));
  }

  /** True when the open channel travels through a relay. */
  boolean isRelayed() {
    return relayed(path);
  }

  /**
   * Late candidates from the peer (UPDATE), e.g. its relayed address: remembered, and punched at once while
   * the session is still connecting.
   */
  void addCandidates(List<Candidate> more) {
    boolean v4Socket = rt.transport.localAddress().getAddress() instanceof Inet4Address;
    for (Candidate c : more) {
      InetSocketAddress a = c.address();
      if ((a.getAddress() instanceof Inet4Address) != v4Socket && v4Socket) {
        continue;
      }
      if (c.kind() == Candidate.Kind.RELAYED) {
        relayedTargets.add(a);
        if (state == State.OPEN && relayed(path) && !a.equals(path)) {
          punchReplacement(a);
        }
      }
      if (state == State.PUNCHING && !targets.contains(a) && targets.size() - predictedTargets < MAX_TARGETS + 4) {
        targets.add(a);
        sendPunch(a);
      }
    }
  }

  /** The peer announced a new relayed address while we talk through a relay: punch it now and on every probe. */
  private void punchReplacement(InetSocketAddress a) {
    if (!replacementTargets.add(a)) {
      return;
    }
    Iterator<InetSocketAddress> oldest = replacementTargets.iterator();
    while (replacementTargets.size() > MAX_REPLACEMENT_TARGETS && oldest.hasNext()) {
      oldest.next();
      oldest.remove();
    }
    log.info("session {}: {} announced the relayed address {}; punching it", id, remotePeerId(), a);
    sendPunch(a);
    for (long delay : REPLACEMENT_PUNCH_REPEATS_MILLIS) {
      rt.schedule(() -> {
        if (state == State.OPEN && replacementTargets.contains(a)) {
          sendPunch(a);
        }
      }, delay);
    }
  }

  /**
   * True when {@code source} may take over the relayed path: a relayed address of the peer announced after we
   * opened, or a tunnel of an allocation other than the one the path uses (ours was replaced after a failover).
   */
  private boolean replacesRelayedPath(InetSocketAddress source) {
    if (state != State.OPEN || !relayed(path) || !relayed(source) || source.equals(path)) {
      return false;
    }
    if (RelayPool.isTunnel(source)) {
      RelayPool.Tunnel next = rt.relays.tunnel(source);
      RelayPool.Tunnel current = RelayPool.isTunnel(path) ? rt.relays.tunnel(path) : null;
      return next != null && (current == null || current.client() != next.client());
    }
    return replacementTargets.contains(source);
  }

  private void punchStep() {
    if (!punching()) {
      return;
    }
    if (round.isEmpty()) {
      for (InetSocketAddress t : targets) {
        if (worthPunching(t)) {
          round.add(t);
        }
      }
    }
    // The first round goes out at once, so that the server-reflexive candidate never waits behind host ones;
    // later rounds are paced (RFC 8445 Ta), PREDICTED ports at PUNCH-PARAMS' probe rate.
    long paceMicros = plan.predictedPaceMicros();
    int predictedPerStep = (int) Math.max(1, 1000 / paceMicros);
    InetSocketAddress target = null;
    for (int predictedSent = 0; !round.isEmpty(); ) {
      InetSocketAddress next = round.peek();
      boolean predicted = plan.isPredicted(next);
      if (target != null && (predicted ? predictedSent >= predictedPerStep : !firstRound || plan.isPredicted(target))) {
        break;
      }
      target = round.poll();
      sendPunch(target);
      if (firstRound && plan.ownPredicted()) {
        sendPunch(target); // a copy: the first packet to a destination fixes which port our NAT gives it
      }
      predictedSent += predicted ? 1 : 0;
    }
    long delay = target != null && plan.isPredicted(target) ? Math.max(1, paceMicros / 1000) : PACE_MILLIS;
    if (round.isEmpty()) {
      delay = roundGap;
      roundGap = Math.min(MAX_ROUND_GAP_MILLIS, roundGap * 3 / 2);
      firstRound = false;
    }
    punchTimer = rt.schedule(this::punchStep, delay);
  }

  private void sendPunch(InetSocketAddress target) {
    sendPunch(target, rt.transport);
  }

  /** One PUNCH request from {@code via} (the client's socket or a birthday socket); its answer is matched later. */
  private void sendPunch(InetSocketAddress target, DatagramTransport via) {
    byte[] tx = StunMessage.newTransactionId();
    outstanding.put(new TransactionId(tx), new Probe(target, ClientRuntime.nowNanos()));
    Iterator<TransactionId> oldest = outstanding.keySet().iterator();
    while (outstanding.size() > maxOutstanding && oldest.hasNext()) {
      oldest.next();
      oldest.remove();
    }
    rt.send(Wire.punchRequest(tx, intro.sessionId(), rt.wire.peerId(), intro.sessionKey(), nominates(target)),
        target, via);
  }

  /**
   * The birthday strategy's hard side keeps one socket, the one its first success came in on; when two of its
   * mappings were hit at once the easy side may have opened on the other one. So the hard side's punches on its
   * open path say NOMINATED, and the easy side follows (PROTOCOL.md section 7), like ICE's controlling agent.
   */
  private boolean nominates(InetSocketAddress target) {
    return state == State.OPEN && plan.birthdayHard() && target.equals(path) && !relayed(target);
  }

  /** A PUNCH request or CLOSE is authentic when signed with the session key by the other peer, not reflected. */
  private boolean fromPeer(StunMessage m) {
    return m.verifyIntegritySha256(intro.sessionKey())
        && intro.remotePeerId().equals(m.getString(StunAttributes.PEER_ID));
  }

  /**
   * PUNCH request, received on {@code via}: answer it from there, learn the source, and (while punching) send a
   * triggered punch back from there.
   */
  boolean onPunchRequest(StunMessage m, InetSocketAddress source, DatagramTransport via) {
    if (state == State.CLOSED || !fromPeer(m)) {
      return false;
    }
    List<Integer> unknown = m.unknownComprehensionRequired();
    if (!unknown.isEmpty()) {
      rt.send(Wire.unknownAttributes(m, unknown, intro.sessionKey()), source, via);
      return true;
    }
    InetSocketAddress seen = rt.relays.peerAddress(source); // through a relay: the peer's address there
    if (seen == null) {
      return false; // the tunnel it came through is gone
    }
    rt.send(Wire.punchSuccess(m, seen, intro.sessionId(), intro.sessionKey()), source, via);
    prove(source);
    // On a relayed path a punch from a direct address is answered with a punch back: the peer found a direct
    // path, and our success moves us there too.
    boolean lookForDirect = state == State.OPEN && relayed(path) && !relayed(source);
    // After a relay failover the peer punches our new relayed address: punch back, and its success moves us there.
    boolean replacement = replacesRelayedPath(source);
    // The birthday hard side nominated another of its addresses than our path: validate it, its success moves us.
    boolean follow = state == State.OPEN && plan.birthdayEasy() && m.has(StunAttributes.NOMINATED)
        && !relayed(path) && !relayed(source) && !source.equals(path);
    if (follow) {
      nominated = source;
    }
    if (state == State.PUNCHING || lookForDirect || replacement || follow) {
      if (state == State.PUNCHING && via == rt.transport && !targets.contains(source)
          && (targets.size() - predictedTargets < MAX_TARGETS || relayed(source))) {
        targets.add(source); // peer-reflexive: how the easy side learns a hard side's port
      }
      long now = ClientRuntime.nowNanos();
      Long last = lastTriggered.get(source);
      if (last == null || now - last >= TRIGGER_INTERVAL_NANOS) {
        lastTriggered.put(source, now);
        sendPunch(source, via);
      }
    }
    return true;
  }

  /**
   * PUNCH success to one of our requests, received on {@code via}: the first one connects (the channel lives on
   * that socket); later ones feed the RTT estimate.
   */
  boolean onPunchSuccess(StunMessage m, InetSocketAddress source, DatagramTransport via) {
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
      open(source, sample, now, via);
    } else if (relayed(path) && !relayed(source)) {
      pathSocket = via;
      channel.useSocket(via);
      if (birthday != null) {
        birthday.stop(via);
      }
      moveToDirect(source, sample);
    } else if (replacesRelayedPath(source)) {
      moveToRelay(source, sample);
    } else if (source.equals(nominated) && !relayed(path)) {
      followNomination(source, sample, via);
    } else if (probe.target().equals(path)) {
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

  private void open(InetSocketAddress source, long rttNanos, long now, DatagramTransport via) {
    state = State.OPEN;
    path = source;
    pathSocket = via;
    if (birthday != null && !relayed(source)) {
      birthday.stop(via); // the first success wins: probing ends, only the socket that got through stays
    }
    if (relayed(source) && windowOpen) {
      round.removeIf(this::relayed); // keep punching the direct targets until the window ends
    } else {
      cancelTimers();
      round.clear();
      lastTriggered.clear();
    }
    srttNanos = rttNanos;
    connectedAfterNanos = now - startNanos;
    channel = new Channel(rt, this, source, rttNanos, via);
    if (relayed(source)) {
      channel.moveTo(source, Path.RELAY);
    }
    for (InetSocketAddress a : proven) {
      owner.route(a, channel); // data may arrive from any address that proved itself, e.g. the LAN one
    }
    log.info("session {} with {} open via {} after {} ms, rtt {} us", id, remotePeerId(), source,
        connectedAfterMillis(), srttMicros());
    if (plan.birthdayHard() && !relayed(source)) {
      sendPunch(source, via); // nominates at once: the easy side may have opened on another of our sockets
    }
    probeTimer = rt.schedule(this::probe, probeDelayMillis());
    owner.opened(this);
  }

  /**
   * A direct PUNCH succeeded while the channel travels through a relay: the same channel moves to the direct
   * path, and a punch there prompts the peer (still relayed) to move too. The relay goes once the owner
   * releases it.
   */
  private void moveToDirect(InetSocketAddress source, long rttNanos) {
    InetSocketAddress relayedPath = path;
    path = source;
    srttNanos = rttNanos;
    if (punchTimer != null) {
      punchTimer.cancel(false);
    }
    if (windowTimer != null) {
      windowTimer.cancel(false);
    }
    round.clear();
    lastTriggered.clear();
    channel.rtt(rttNanos);
    channel.moveTo(source, Path.DIRECT);
    log.info("session {} with {} moved from the relay ({}) to the direct path {}, rtt {} us", id, remotePeerId(),
        relayedPath, source, srttMicros());
    sendPunch(source);
    owner.pathChanged(this);
  }

  /** The birthday hard side's nominated address answered our validation: the channel follows it, still DIRECT. */
  private void followNomination(InetSocketAddress source, long rttNanos, DatagramTransport via) {
    InetSocketAddress before = path;
    path = source;
    pathSocket = via;
    nominated = null;
    srttNanos = rttNanos;
    channel.useSocket(via);
    channel.rtt(rttNanos);
    channel.moveTo(source, Path.DIRECT);
    log.info("session {} with {} follows the address {} the peer nominated (was {}), rtt {} us", id, remotePeerId(),
        source, before, srttMicros());
  }

  /**
   * Another relayed path answered after the peer or we moved to a new relay (failover): the same channel follows it,
   * still {@link Path#RELAY}, so the game sees only the gap.
   */
  private void moveToRelay(InetSocketAddress source, long rttNanos) {
    InetSocketAddress before = path;
    path = source;
    pathSocket = rt.transport;
    srttNanos = rttNanos;
    silenceReported = false;
    replacementTargets.clear();
    channel.useSocket(rt.transport);
    channel.rtt(rttNanos);
    channel.moveTo(source, Path.RELAY);
    log.info("session {} with {} moved from the relayed path {} to the relayed path {}, rtt {} us", id,
        remotePeerId(), before, source, srttMicros());
    owner.relayedPathRestored(this);
  }

  /**
   * Keepalive and RTT probe on an open channel; closes it when the peer stopped answering. A relayed path is probed
   * more often, and when it stays silent for {@link ClientConfig#relayProbeTimeout()} the owner hears of it (the relay
   * may be gone); relayed addresses the peer announced meanwhile are punched along.
   */
  private void probe() {
    if (state != State.OPEN) {
      return;
    }
    long silentNanos = ClientRuntime.nowNanos() - lastAnswerNanos;
    if (silentNanos > rt.config.probeTimeout().toNanos()) {
      close("peer unreachable", true);
      return;
    }
    if (relayed(path) && !silenceReported && silentNanos >= rt.config.relayProbeTimeout().toNanos()) {
      silenceReported = true;
      log.info("session {} with {}: no answer through the relayed path {} for {} ms", id, remotePeerId(), path,
          TimeUnit.NANOSECONDS.toMillis(silentNanos));
      owner.relayedPathSilent(this);
      if (state != State.OPEN) {
        return;
      }
    }
    sendPunch(path, pathSocket);
    for (InetSocketAddress t : replacementTargets) {
      sendPunch(t);
    }
    probeTimer = rt.schedule(this::probe, probeDelayMillis());
  }

  /**
   * Until the next probe: the probe interval of the path, but on a relayed path not past the moment its silence
   * would reach the relay probe timeout, so that a lost relay is noticed on time rather than a tick later.
   */
  private long probeDelayMillis() {
    if (!relayed(path)) {
      return rt.config.probeInterval().toMillis();
    }
    long interval = rt.config.relayProbeInterval().toMillis();
    if (silenceReported) {
      return interval;
    }
    long silentMillis = TimeUnit.NANOSECONDS.toMillis(ClientRuntime.nowNanos() - lastAnswerNanos);
    long untilTimeout = rt.config.relayProbeTimeout().toMillis() - silentMillis;
    return Math.max(10, Math.min(interval, untilTimeout));
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
    if (birthday != null) {
      birthday.stop(null);
    }
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
      rt.send(close, path, pathSocket);
      rt.send(close, path, pathSocket);
    }
    if (birthday != null) {
      birthday.stop(null); // and the socket the channel lived on
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
