package io.introducer.client;

import io.introducer.client.relay.RelayPool;
import io.introducer.client.relay.TurnClient;
import io.introducer.client.relay.TurnException;
import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Strategy;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay side of sessions (PROTOCOL.md section 8), for the session table: each session's
 * {@link ConnectPolicy}, and when that policy wants a relay (RELAY_FIRST at once; AUTO when the punch window
 * ends or the strategy is relay), the allocation on the introducer's relay, permissions for the peer's
 * addresses and the UPDATE announcing our relayed candidate. The other peer punches that candidate; the relay
 * delivers its punches through our allocation, and the session answers through it (tunnel addresses, see
 * {@link RelayPool}). UPDATEs from the peer add its relayed candidate to the session.
 *
 * <p>Only the initiator allocates at once; a responder that wants a relay first waits one punch window for
 * the initiator's UPDATE. A relay attempt gets one relay window (a punch window, at least
 * {@link #MIN_RELAY_WINDOW_MILLIS}) before the session fails. Allocations are released when the session
 * fails or closes, and {@link #RELEASE_GRACE_MILLIS} after it found a direct path. An open relayed session whose
 * relay is lost fails over to another ({@link #failover}); one whose allocation's TURN REST credentials are about to
 * expire is moved to a fresh allocation the same way ({@link #renew}). Control thread only.
 */
final class Relaying {
  private static final Logger log = LoggerFactory.getLogger(Relaying.class);
  /**
   * An allocation stays this long after its session found a direct path, so that what the peer sent through
   * the relay before it moved too still arrives.
   */
  static final long RELEASE_GRACE_MILLIS = 5_000;
  /** A relay attempt gets one punch window, but at least this long. */
  static final long MIN_RELAY_WINDOW_MILLIS = 5_000;
  /**
   * A relay failover (the relay under an open session was lost) gets this long, from the loss to the peer's first
   * answer through the new relay, before the session closes with {@code "relay lost: ..."}.
   */
  static final long FAILOVER_WINDOW_MILLIS = 10_000;
  /** Replacement relays one failover tries at most (each the introducer picks, none of the failed ones). */
  static final int MAX_FAILOVER_RELAYS = 3;
  /** The UPDATE announcing the new relayed address is repeated this often until the peer answers through it. */
  static final long FAILOVER_UPDATE_INTERVAL_MILLIS = 1_000;
  /** Pause before a RELAY-REQUEST goes again, to the next introducer, after one went unanswered. */
  static final long FAILOVER_RETRY_MILLIS = 100;
  /**
   * An allocation made with TURN REST credentials (username {@code expiry:peerId}) is renewed when this fraction of
   * their remaining lifetime has passed: the relay refuses every request, Refresh included, under an expired username.
   */
  static final double RENEWAL_FRACTION = 0.8;
  /**
   * Renewal starts at least this long before the credentials expire by our clock, when their lifetime allows (at
   * most half of it): our clock may be behind the introducer's and the relay's by up to the introducer's 30 s
   * TIMESTAMP tolerance.
   */
  static final long RENEWAL_SKEW_MILLIS = 30_000;
  /** Never renew sooner than this after the credentials arrived (a clock far ahead makes them look expired). */
  static final long MIN_RENEWAL_DELAY_MILLIS = 1_000;
  /** A renewal that failed while the old credentials still work is tried again after at most this long. */
  static final long RENEWAL_RETRY_MILLIS = 5_000;
  /** After a renewal moved the channel, the old allocation stays this long for what the peer sent through it. */
  static final long RENEWAL_RELEASE_GRACE_MILLIS = 1_000;

  private final ClientRuntime rt;
  private final Transactions transactions;
  private final Registration registration;
  private final Map<Session, State> states = new HashMap<>();
  /** Renewal timers of our allocations made with expiring (TURN REST) credentials. */
  private final Map<TurnClient, ScheduledFuture<?>> renewals = new HashMap<>();

  /** What one session does about relaying. */
  private static final class State {
    final Session session;
    final ConnectPolicy policy;
    /** The relay this session allocates on: the introduction's, or a replacement after a failover. */
    RelayCredentials credentials;
    /** Set while the relay under the open session is being replaced. */
    Failover failover;
    /** This side's policy asked for a relay (allocating, or as responder waiting for the initiator's UPDATE). */
    boolean wanted;
    boolean windowEnded;
    boolean deadlinePassed;
    /** The peer announced a relayed candidate, which the session punches. */
    boolean updateReceived;
    /** The session opened on, or moved to, a path that does not need our allocation. */
    boolean settled;
    /** We hold (or are getting) an allocation for this session. */
    boolean acquired;
    boolean released;
    String error;
    ScheduledFuture<?> waitTimer;
    ScheduledFuture<?> deadline;
    ScheduledFuture<?> graceTimer;

    State(Session session, ConnectPolicy policy, RelayCredentials credentials) {
      this.session = session;
      this.policy = policy;
      this.credentials = credentials;
    }
  }

  /**
   * One relay failover of an open session (PROTOCOL.md section 8): bounded in relays tried and in time. A renewal
   * (the credentials of a working allocation about to expire) moves the session the same way.
   */
  private static final class Failover {
    final long startNanos = ClientRuntime.nowNanos();
    /** A renewal, not a loss: the session's relay works; its credentials expire soon. */
    final boolean renewal;
    /**
     * Renewal on another relay (make-before-break): the allocation the channel still uses, released once the peer
     * answered through the new one; null when there is none (renewal on the same relay, or it was lost meanwhile).
     */
    TurnClient previous;
    RelayCredentials previousCredentials;
    /** Relays that failed this session: named in RELAY-REQUEST so that the introducer picks another. */
    final Set<InetSocketAddress> failed = new LinkedHashSet<>();
    /** The peer's IP as the lost relay saw it: permitted on the new relay too. */
    final Set<InetAddress> peerIps = new LinkedHashSet<>();
    int relaysTried;
    String lastError;
    ScheduledFuture<?> deadline;
    ScheduledFuture<?> retry;

    /** Also permits the peer's IP as the session's channel sees it now (the relay's view of the peer). */
    Failover(boolean renewal, Session s) {
      this.renewal = renewal;
      InetSocketAddress peer = s.channel() != null ? s.channel().remoteAddress() : null;
      if (peer != null && peer.getAddress() != null) {
        peerIps.add(peer.getAddress());
      }
    }
  }

  Relaying(ClientRuntime rt, Transactions transactions, Registration registration) {
    this.rt = rt;
    this.transactions = transactions;
    this.registration = registration;
  }

  /** The policy a session runs under. */
  ConnectPolicy policy(Session s) {
    State st = states.get(s);
    return st == null ? rt.config.defaultPolicy() : st.policy;
  }

  /** A session starts punching under {@code policy}: RELAY_FIRST (or AUTO with STRATEGY relay) wants a relay now. */
  void begin(Session s, ConnectPolicy policy) {
    State st = new State(s, policy, s.introduction().relay());
    states.put(s, st);
    if (policy == ConnectPolicy.RELAY_FIRST
        || (policy == ConnectPolicy.AUTO && s.introduction().strategy() == Strategy.RELAY)) {
      want(st);
    }
  }

  /**
   * The punch window of a session that has no path yet ended: null to keep it going through a relay, else the
   * reason it fails with.
   */
  String windowEnded(Session s) {
    State st = states.get(s);
    String noRelay = s.introduction().strategy() == Strategy.RELAY ? "relay required" : "punch timed out";
    if (st == null || st.policy == ConnectPolicy.DIRECT_ONLY) {
      return noRelay;
    }
    st.windowEnded = true;
    if (st.deadlinePassed) {
      return st.error != null ? st.error : "relay timed out";
    }
    if (st.updateReceived) {
      ensureDeadline(st, relayWindow(s)); // the peer's relayed candidate is being punched
      return null;
    }
    if (st.credentials == null) {
      return noRelay;
    }
    if (!st.wanted) {
      log.info("{}: punching {} failed; falling back to the relay {}", rt.wire.peerId(), s.remotePeerId(),
          st.credentials.server());
      want(st);
    }
    return st.error;
  }

  private void want(State st) {
    if (st.wanted || st.credentials == null) {
      return;
    }
    st.wanted = true;
    Session s = st.session;
    if (s.isInitiator()) {
      ensureDeadline(st, relayWindow(s));
      allocate(st);
      return;
    }
    // PROTOCOL.md section 8: when both want a relay only the initiator allocates; wait for its UPDATE first.
    long wait = s.introduction().punchWindow().toMillis();
    ensureDeadline(st, wait + relayWindow(s));
    st.waitTimer = rt.schedule(() -> {
      if (live(st) && !st.updateReceived && s.isPunching()) {
        log.info("{}: no relayed candidate from {} yet; allocating ourselves", rt.wire.peerId(), s.remotePeerId());
        allocate(st);
      }
    }, wait);
  }

  private static long relayWindow(Session s) {
    return Math.max(s.introduction().punchWindow().toMillis(), MIN_RELAY_WINDOW_MILLIS);
  }

  private void ensureDeadline(State st, long millis) {
    if (st.deadline != null) {
      return;
    }
    st.deadline = rt.schedule(() -> {
      st.deadlinePassed = true;
      if (live(st) && st.session.isPunching() && st.windowEnded) {
        st.session.fail(st.error != null ? st.error : "relay timed out");
      }
    }, millis);
  }

  private boolean live(State st) {
    return states.get(st.session) == st && !st.settled;
  }

  // ------------------------------------------------------------------------------------------ allocate

  /** Allocate (or share the client's allocation on that relay), permit the peer's addresses, announce. */
  private void allocate(State st) {
    if (st.acquired || !live(st)) {
      return;
    }
    st.acquired = true;
    RelayCredentials c = st.credentials;
    log.info("{}: allocating on relay {} for session {} with {}", rt.wire.peerId(), c.server(), st.session.id(),
        st.session.remotePeerId());
    rt.relays.acquire(c.server(), c.username(), c.password(), st, reason -> lost(st, c.server(), reason))
        .thenCompose(tc -> {
          scheduleRenewal(tc);
          return live(st) ? permit(st, tc, Set.of()).thenCompose(v -> announce(st, tc))
              : CompletableFuture.completedFuture(null);
        })
        .whenComplete((v, err) -> {
          if (err != null) {
            relayFailed(st, "relay failed: " + TurnException.reasonOf(err));
          }
        });
  }

  /**
   * One CreatePermission per IP of the peer's non-host candidates (a relay cannot reach its LAN addresses,
   * and refuses some of them): done when one is granted.
   */
  private CompletableFuture<Void> permit(State st, TurnClient tc, Set<InetAddress> extra) {
    boolean v4 = tc.relayedAddress().getAddress() instanceof Inet4Address;
    Set<InetAddress> ips = new LinkedHashSet<>();
    for (InetAddress ip : extra) {
      if ((ip instanceof Inet4Address) == v4) {
        ips.add(ip);
      }
    }
    for (Candidate c : st.session.introduction().candidates()) {
      InetAddress ip = c.address().getAddress();
      if (c.kind() != Candidate.Kind.HOST && (ip instanceof Inet4Address) == v4) {
        ips.add(ip);
      }
    }
    if (ips.isEmpty()) {
      return CompletableFuture.failedFuture(new TurnException("no address of the peer to permit on the relay"));
    }
    CompletableFuture<Void> result = new CompletableFuture<>();
    int[] left = {ips.size()};
    for (InetAddress ip : ips) {
      tc.createPermission(List.of(ip)).whenComplete((v, err) -> {
        if (err == null) {
          result.complete(null);
        } else if (--left[0] == 0) {
          result.completeExceptionally(err);
        }
      });
    }
    return result;
  }

  /** UPDATE with our relayed candidate; the introducer forwards it to the peer, which punches it. */
  private CompletableFuture<Void> announce(State st, TurnClient tc) {
    if (!live(st)) {
      return CompletableFuture.completedFuture(null);
    }
    Candidate relayed = new Candidate(Candidate.Kind.RELAYED, tc.relayedAddress());
    byte[] update = rt.wire.update(st.session.introduction().sessionId(), st.session.remotePeerId(),
        List.of(relayed));
    return transactions.send(update, registration.server(), rt.config.requestTimeout()).handle((m, err) -> {
      if (err != null) {
        throw new TurnException(err instanceof TimeoutException ? "introducer did not answer the UPDATE"
            : TurnException.reasonOf(err));
      }
      if (m.messageClass() != StunClass.SUCCESS_RESPONSE) {
        throw new TurnException("introducer refused the UPDATE: " + m.errorCode());
      }
      log.info("{}: announced relayed candidate {} to {} for session {}", rt.wire.peerId(), relayed,
          st.session.remotePeerId(), st.session.id());
      return null;
    });
  }

  private void relayFailed(State st, String reason) {
    if (!live(st)) {
      return;
    }
    st.error = reason;
    log.info("{}: session {} with {}: {}", rt.wire.peerId(), st.session.id(), st.session.remotePeerId(), reason);
    if (st.windowEnded && !st.updateReceived && st.session.isPunching()) {
      st.session.fail(reason);
    }
  }

  /**
   * The allocation went away under an open or connecting session. An open session whose path goes through it fails
   * over to another relay; a connecting one fails its relay attempt.
   */
  private void lost(State st, InetSocketAddress server, String reason) {
    Session s = st.session;
    Failover f = st.failover;
    if (f != null && f.previous != null && f.previous.server().equals(server)) {
      // The allocation a renewal is replacing went before the peer moved: the renewal carries on, as a failover.
      log.info("{}: allocation on {} of session {} lost during renewal: {}", rt.wire.peerId(), server, s.id(), reason);
      f.previous = null;
      return;
    }
    if (st.credentials == null || !st.credentials.server().equals(server)) {
      return; // not the allocation this session holds (any more)
    }
    st.acquired = false; // the pool dropped every owner with the allocation
    if (states.get(s) != st) {
      return;
    }
    if (s.isOpen() && RelayPool.isTunnel(s.path())) {
      failover(st, reason);
    } else {
      relayFailed(st, "relay failed: " + reason);
    }
  }

  // ------------------------------------------------------------------------------------------ failover

  /**
   * The relayed path of an open session went silent. Our introducer may have died with the relay: check it now (it
   * must be there to hand out another relay, and to forward the peer's UPDATE to us). When the path goes through our
   * allocation, the relay counts as lost for every session sharing it, and each fails over; when it goes through the
   * peer's, the peer fails over and announces its new relayed address, which {@link Session} then punches.
   */
  void relayedPathSilent(Session s) {
    registration.check();
    State st = states.get(s);
    if (st == null || st.failover != null || !RelayPool.isTunnel(s.path())) {
      return;
    }
    InetSocketAddress server = st.credentials.server();
    String reason = "no answer through the relay for " + rt.config.relayProbeTimeout().toMillis() + " ms";
    if (!rt.relays.declareLost(server, reason)) {
      failover(st, reason); // the allocation is gone already
    }
  }

  /** The open session's channel moved to another relayed path: a failover under way is over. */
  void relayedPathRestored(Session s) {
    State st = states.get(s);
    if (st == null) {
      return;
    }
    Failover f = st.failover;
    if (f == null) {
      log.info("{}: session {} with {} follows the peer to its new relayed address {}", rt.wire.peerId(), s.id(),
          s.remotePeerId(), s.path());
      return;
    }
    endFailover(st, f);
    log.info("{}: session {} with {} relayed again through {} after {} ms{}", rt.wire.peerId(), s.id(),
        s.remotePeerId(), st.credentials.server(), TimeUnit.NANOSECONDS.toMillis(ClientRuntime.nowNanos() - f.startNanos),
        f.renewal ? " (renewal)" : "");
    TurnClient old = f.previous;
    if (old != null) {
      f.previous = null;
      rt.schedule(() -> releasePrevious(st, old), RENEWAL_RELEASE_GRACE_MILLIS);
    }
  }

  /** The allocation a renewal replaced goes (unless it went already, or the session got it back meanwhile). */
  private void releasePrevious(State st, TurnClient old) {
    if (rt.relays.allocation(old.server()) != old) {
      return;
    }
    if (st.acquired && !st.released && st.credentials.server().equals(old.server())) {
      return; // the session uses that allocation again
    }
    log.info("{}: releasing the renewed allocation {} on {} of session {}", rt.wire.peerId(), old.relayedAddress(),
        old.server(), st.session.id());
    rt.relays.release(old.server(), st);
  }

  /**
   * The relay under an open session ({@link State#credentials}) was lost: ask the introducer for another
   * (RELAY-REQUEST naming every relay that failed this session), allocate there, permit the peer, announce the new
   * relayed address with UPDATE until the peer answers through it. Called again when a replacement fails too; after
   * {@link #MAX_FAILOVER_RELAYS} relays or {@link #FAILOVER_WINDOW_MILLIS} the session closes.
   */
  private void failover(State st, String reason) {
    Session s = st.session;
    Failover f = st.failover;
    InetSocketAddress lostRelay = st.credentials.server();
    if (f == null) {
      Failover started = new Failover(false, s);
      f = started;
      st.failover = started;
      log.warn("{}: relay {} of session {} with {} lost ({}); asking the introducer for another", rt.wire.peerId(),
          lostRelay, s.id(), s.remotePeerId(), reason);
      started.deadline = rt.schedule(() -> giveUp(st, started, "relay lost: " + (started.lastError != null
          ? started.lastError : "no answer from the peer through a new relay")), FAILOVER_WINDOW_MILLIS);
    } else {
      log.info("{}: replacement relay {} of session {} failed too: {}", rt.wire.peerId(), lostRelay, s.id(), reason);
    }
    f.failed.add(lostRelay);
    f.lastError = reason;
    cancel(f.retry);
    if (f.relaysTried >= MAX_FAILOVER_RELAYS) {
      giveUp(st, f, "relay lost: " + reason + " (" + f.relaysTried + " relays tried)");
      return;
    }
    requestRelay(st, f);
  }

  private boolean recovering(State st, Failover f) {
    return states.get(st.session) == st && st.failover == f && st.session.isOpen();
  }

  /** RELAY-REQUEST to the current introducer; an unanswered one moves the registration on and goes again there. */
  private void requestRelay(State st, Failover f) {
    if (!recovering(st, f)) {
      return;
    }
    InetSocketAddress server = registration.server();
    byte[] request = rt.wire.relayRequest(st.session.introduction().sessionId(), st.session.remotePeerId(), f.failed,
        false);
    transactions.send(request, server, registration.checkTimeout()).whenComplete((m, err) -> {
      if (!recovering(st, f)) {
        return;
      }
      if (err != null) {
        f.lastError = "introducer did not answer RELAY-REQUEST";
        registration.serverUnresponsive(server, "introducer did not answer RELAY-REQUEST");
        f.retry = rt.schedule(() -> requestRelay(st, f), FAILOVER_RETRY_MILLIS);
        return;
      }
      if (m.messageClass() != StunClass.SUCCESS_RESPONSE) {
        ErrorCode e = m.errorCode();
        giveUp(st, f, "relay lost: " + (e == null ? "RELAY-REQUEST refused"
            : e.reason().isEmpty() ? "RELAY-REQUEST refused: " + e.code() : e.reason()));
        return;
      }
      RelayCredentials c = RelayCredentials.parse(m, rt.wire);
      if (c == null || f.failed.contains(c.server())
          || (f.previous != null && f.previous.server().equals(c.server()))) {
        giveUp(st, f, "relay lost: the introducer offered no usable relay");
        return;
      }
      f.relaysTried++;
      st.credentials = c;
      st.released = false;
      reallocate(st, f);
    });
  }

  /** Allocates on the replacement relay, permits the peer, then announces the new relayed address until answered. */
  private void reallocate(State st, Failover f) {
    RelayCredentials c = st.credentials;
    st.acquired = true;
    log.info("{}: allocating on relay {} for session {} with {} (failover)", rt.wire.peerId(), c.server(),
        st.session.id(), st.session.remotePeerId());
    rt.relays.acquire(c.server(), c.username(), c.password(), st, reason -> lost(st, c.server(), reason))
        .thenCompose(tc -> {
          scheduleRenewal(tc);
          return recovering(st, f) ? permit(st, tc, f.peerIps).thenApply(v -> tc)
              : CompletableFuture.completedFuture((TurnClient) null);
        })
        .whenComplete((tc, err) -> {
          if (!recovering(st, f) || st.credentials != c) {
            return;
          }
          if (err != null) {
            rt.relays.release(c.server(), st); // an allocation granted before a refused permission goes
            st.acquired = false;
            failover(st, "relay failed: " + TurnException.reasonOf(err));
            return;
          }
          if (tc != null) {
            f.lastError = "no answer from the peer through the new relay " + c.server();
            announceUntilAnswered(st, f, tc);
          }
        });
  }

  private void announceUntilAnswered(State st, Failover f, TurnClient tc) {
    if (!recovering(st, f) || !tc.isActive()) {
      return;
    }
    announce(st, tc).whenComplete((v, err) -> {
      if (err != null) {
        log.debug("{}: UPDATE for session {}: {}", rt.wire.peerId(), st.session.id(), TurnException.reasonOf(err));
      }
    });
    f.retry = rt.schedule(() -> announceUntilAnswered(st, f, tc), FAILOVER_UPDATE_INTERVAL_MILLIS);
  }

  private void endFailover(State st, Failover f) {
    cancel(f.deadline);
    cancel(f.retry);
    if (st.failover == f) {
      st.failover = null;
    }
  }

  private void giveUp(State st, Failover f, String reason) {
    if (!recovering(st, f)) {
      return;
    }
    TurnClient old = f.previous;
    if (f.renewal && old != null && old.isActive() && rt.relays.allocation(old.server()) == old) {
      // Make-before-break did not make it: the session keeps its allocation, and renewal is tried again later.
      endFailover(st, f);
      RelayCredentials failed = st.credentials;
      if (st.acquired && !failed.server().equals(old.server())) {
        rt.relays.release(failed.server(), st);
      }
      st.credentials = f.previousCredentials;
      st.acquired = true;
      st.released = false;
      log.warn("{}: renewal of the relay allocation of session {} with {} failed ({}); keeping {} for now",
          rt.wire.peerId(), st.session.id(), st.session.remotePeerId(), reason, old.server());
      retryRenewal(old);
      return;
    }
    endFailover(st, f);
    log.warn("{}: session {} with {}: {}", rt.wire.peerId(), st.session.id(), st.session.remotePeerId(), reason);
    st.session.close(reason, true);
  }

  // ------------------------------------------------------------------------------------------- renewal

  /**
   * The expiry (Unix seconds) of TURN REST credentials, from their username {@code expiry:peerId}; -1 for other
   * usernames (long-term credentials do not expire).
   */
  static long expiryOf(String username) {
    int colon = username == null ? -1 : username.indexOf(':');
    if (colon <= 0 || colon > 19) {
      return -1;
    }
    try {
      return Long.parseLong(username.substring(0, colon));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * How long after {@code nowMillis} (our wall clock) credentials expiring at {@code expirySeconds} are renewed: at
   * {@link #RENEWAL_FRACTION} of their remaining lifetime, but at least {@link #RENEWAL_SKEW_MILLIS} (at most half
   * the lifetime) before they expire by our clock, and not sooner than {@link #MIN_RENEWAL_DELAY_MILLIS}.
   */
  static long renewalDelayMillis(long expirySeconds, long nowMillis) {
    long remaining = expirySeconds * 1000 - nowMillis;
    long lead = Math.max(Math.round(remaining * (1 - RENEWAL_FRACTION)), Math.min(RENEWAL_SKEW_MILLIS, remaining / 2));
    return Math.max(MIN_RENEWAL_DELAY_MILLIS, remaining - lead);
  }

  /** Arms the renewal of an allocation of ours made with expiring credentials (once per allocation). */
  private void scheduleRenewal(TurnClient tc) {
    if (renewals.containsKey(tc)) {
      return;
    }
    long expiry = expiryOf(tc.username());
    if (expiry < 0) {
      return;
    }
    long delay = renewalDelayMillis(expiry, rt.clock.millis());
    log.debug("{}: allocation on {} (credentials expire at {}) renewed in {} ms", rt.wire.peerId(), tc.server(), expiry,
        delay);
    ScheduledFuture<?> timer = rt.schedule(() -> renew(tc), delay);
    if (timer != null) {
      renewals.put(tc, timer);
    }
  }

  /** A renewal that failed while the old credentials work: again in a while, still before they expire. */
  private void retryRenewal(TurnClient tc) {
    ScheduledFuture<?> before = renewals.remove(tc);
    cancel(before);
    long left = expiryOf(tc.username()) * 1000 - rt.clock.millis();
    long delay = Math.max(MIN_RENEWAL_DELAY_MILLIS, Math.min(RENEWAL_RETRY_MILLIS, left / 2));
    ScheduledFuture<?> timer = rt.schedule(() -> renew(tc), delay);
    if (timer != null) {
      renewals.put(tc, timer);
    }
  }

  private boolean carries(State st, InetSocketAddress server) {
    return states.get(st.session) == st && st.acquired && !st.released && st.failover == null && !st.settled
        && st.credentials != null && st.credentials.server().equals(server) && st.session.isOpen()
        && RelayPool.isTunnel(st.session.path());
  }

  /**
   * The credentials of allocation {@code tc} are about to expire (PROTOCOL.md section 8, renewal): ask the introducer
   * for fresh ones (RELAY-REQUEST with RENEWAL, naming the current relay so that it offers another one if it can),
   * then move every open session whose channel the allocation carries to a new allocation, the way a failover does
   * ({@link #reallocate}: allocate, permit, UPDATE until the peer answers through it). On another relay that is
   * make-before-break: the old allocation keeps carrying the channel until the peer moved, and goes
   * {@link #RENEWAL_RELEASE_GRACE_MILLIS} later. On the same relay the allocation takes the fresh credentials in place
   * ({@link #rollOver}).
   */
  private void renew(TurnClient tc) {
    renewals.remove(tc);
    InetSocketAddress server = tc.server();
    if (rt.relays.allocation(server) != tc || !tc.isActive()) {
      return;
    }
    List<State> carried = new ArrayList<>();
    for (State st : states.values()) {
      if (carries(st, server)) {
        carried.add(st);
      }
    }
    if (carried.isEmpty()) {
      log.debug("{}: allocation on {} carries no open channel; not renewed", rt.wire.peerId(), server);
      return; // it goes with its sessions; if it outlives its credentials, its loss is handled as usual
    }
    Session lead = carried.get(0).session;
    log.info("{}: credentials of the allocation {} on {} expire soon; renewing for {} session(s)", rt.wire.peerId(),
        tc.relayedAddress(), server, carried.size());
    byte[] request = rt.wire.relayRequest(lead.introduction().sessionId(), lead.remotePeerId(), List.of(server), true);
    transactions.send(request, registration.server(), rt.config.requestTimeout()).whenComplete((m, err) -> {
      if (rt.relays.allocation(server) != tc || !tc.isActive()) {
        return; // lost meanwhile: its sessions fail over
      }
      RelayCredentials c = err == null && m.messageClass() == StunClass.SUCCESS_RESPONSE
          ? RelayCredentials.parse(m, rt.wire) : null;
      if (c == null) {
        ErrorCode e = err == null ? m.errorCode() : null;
        log.warn("{}: renewal of the allocation on {}: {}; trying again", rt.wire.peerId(), server,
            err != null ? "introducer did not answer RELAY-REQUEST"
                : e == null ? "no usable relay offered" : e.code() + " " + e.reason());
        retryRenewal(tc);
        return;
      }
      List<State> moving = new ArrayList<>();
      for (State st : carried) {
        if (carries(st, server)) {
          moving.add(st);
        }
      }
      if (c.server().equals(server)) {
        rollOver(tc, c, moving);
        return;
      }
      List<Failover> started = new ArrayList<>();
      for (State st : moving) {
        started.add(beginRenewal(st, c, tc));
      }
      for (int i = 0; i < moving.size(); i++) {
        reallocate(moving.get(i), started.get(i));
      }
    });
  }

  /**
   * Renewal on the same relay: the allocation moves to the fresh credentials in place ({@link TurnClient#rollOver}),
   * so nothing moves and nothing is lost. A relay that refuses (441: it keeps RFC 8656's one USERNAME per allocation)
   * gets the older way, {@link #reallocateOnSameRelay}.
   */
  private void rollOver(TurnClient tc, RelayCredentials c, List<State> moving) {
    InetSocketAddress server = tc.server();
    tc.rollOver(c.username(), c.password()).whenComplete((v, err) -> rt.execute(() -> {
      if (rt.relays.allocation(server) != tc || !tc.isActive()) {
        return; // lost meanwhile: its sessions fail over
      }
      if (err == null) {
        for (State st : states.values()) {
          if (st.acquired && !st.released && st.credentials != null && st.credentials.server().equals(server)) {
            st.credentials = c;
          }
        }
        scheduleRenewal(tc);
        return;
      }
      log.info("{}: relay {} did not take the fresh credentials in place ({}); re-allocating", rt.wire.peerId(), server,
          err.getMessage());
      List<State> still = new ArrayList<>();
      for (State st : moving) {
        if (carries(st, server)) {
          still.add(st);
        }
      }
      reallocateOnSameRelay(tc, c, still);
    }));
  }

  /**
   * Renewal on a relay that keeps one USERNAME per allocation: one client address has one allocation there, so the
   * old one goes first, then the sessions allocate anew under the fresh credentials; the game sees a short gap.
   */
  private void reallocateOnSameRelay(TurnClient tc, RelayCredentials c, List<State> moving) {
    InetSocketAddress server = tc.server();
    List<Failover> started = new ArrayList<>();
    for (State st : moving) {
      started.add(beginRenewal(st, c, null));
    }
    for (State st : states.values()) {
      if (st.acquired && !st.released && st.credentials != null && st.credentials.server().equals(server)
          && !moving.contains(st)) {
        st.acquired = false; // (a session not carried by it: connecting, or leaving for a direct path)
      }
    }
    rt.relays.retire(server).whenComplete((v, e) -> rt.execute(() -> {
      for (int i = 0; i < moving.size(); i++) {
        if (recovering(moving.get(i), started.get(i))) {
          reallocate(moving.get(i), started.get(i));
        }
      }
    }));
  }

  /** Starts moving {@code st} to credentials {@code c} as a renewal; {@code previous}: the allocation kept meanwhile. */
  private Failover beginRenewal(State st, RelayCredentials c, TurnClient previous) {
    Session s = st.session;
    Failover f = new Failover(true, s);
    st.failover = f;
    f.previous = previous;
    f.previousCredentials = st.credentials;
    f.relaysTried = 1;
    f.lastError = "no answer from the peer through the renewed allocation on " + c.server();
    f.deadline = rt.schedule(() -> giveUp(st, f, "relay lost: " + f.lastError), FAILOVER_WINDOW_MILLIS);
    if (previous == null) {
      st.acquired = false; // retired with the old allocation
    }
    st.credentials = c;
    st.released = false;
    return f;
  }

  // ----------------------------------------------------------------------------------- session events

  /** UPDATE from the peer: its late candidates. DIRECT_ONLY sessions ignore relayed ones. */
  void updated(Session s, List<Candidate> candidates) {
    State st = states.get(s);
    if (st == null) {
      return;
    }
    List<Candidate> usable = new ArrayList<>();
    for (Candidate c : candidates) {
      if (c.kind() != Candidate.Kind.RELAYED) {
        usable.add(c);
      } else if (st.policy != ConnectPolicy.DIRECT_ONLY) {
        usable.add(c);
        st.updateReceived = true;
      } else {
        log.info("{}: ignoring relayed candidate {} of {} (policy DIRECT_ONLY)", rt.wire.peerId(), c,
            s.remotePeerId());
      }
    }
    if (st.updateReceived) {
      cancel(st.waitTimer);
      if (st.windowEnded) {
        ensureDeadline(st, relayWindow(s));
      }
    }
    s.addCandidates(usable);
  }

  /** The session opened: no more waiting; an allocation its path does not use goes after the grace period. */
  void opened(Session s) {
    State st = states.get(s);
    if (st == null) {
      return;
    }
    cancel(st.waitTimer);
    cancel(st.deadline);
    if (!RelayPool.isTunnel(s.path())) {
      st.settled = true;
      releaseLater(st);
    }
  }

  /** The session left its relayed path for a direct one. */
  void movedToDirect(Session s) {
    State st = states.get(s);
    if (st != null) {
      st.settled = true;
      releaseLater(st);
    }
  }

  /** The session failed or closed: its allocation is released now. */
  void forget(Session s) {
    State st = states.remove(s);
    if (st == null) {
      return;
    }
    cancel(st.waitTimer);
    cancel(st.deadline);
    cancel(st.graceTimer);
    if (st.failover != null) {
      TurnClient old = st.failover.previous;
      endFailover(st, st.failover);
      if (old != null && rt.relays.allocation(old.server()) == old) {
        rt.relays.release(old.server(), st);
      }
    }
    release(st);
  }

  private void releaseLater(State st) {
    if (st.acquired && st.graceTimer == null) {
      st.graceTimer = rt.schedule(() -> release(st), RELEASE_GRACE_MILLIS);
    }
  }

  private void release(State st) {
    if (st.acquired && !st.released) {
      st.released = true;
      rt.relays.release(st.credentials.server(), st);
    }
  }

  private static void cancel(ScheduledFuture<?> t) {
    if (t != null) {
      t.cancel(false);
    }
  }
}
