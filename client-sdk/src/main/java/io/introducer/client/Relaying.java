package io.introducer.client;

import io.introducer.client.relay.RelayPool;
import io.introducer.client.relay.TurnClient;
import io.introducer.client.relay.TurnException;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Strategy;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
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
 * fails or closes, and {@link #RELEASE_GRACE_MILLIS} after it found a direct path. Control thread only.
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

  private final ClientRuntime rt;
  private final Transactions transactions;
  private final Registration registration;
  private final Map<Session, State> states = new HashMap<>();

  /** What one session does about relaying. */
  private static final class State {
    final Session session;
    final ConnectPolicy policy;
    final RelayCredentials credentials;
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
    rt.relays.acquire(c.server(), c.username(), c.password(), st, reason -> lost(st, reason))
        .thenCompose(tc -> live(st) ? permit(st, tc).thenCompose(v -> announce(st, tc))
            : CompletableFuture.completedFuture(null))
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
  private CompletableFuture<Void> permit(State st, TurnClient tc) {
    boolean v4 = tc.relayedAddress().getAddress() instanceof Inet4Address;
    Set<InetAddress> ips = new LinkedHashSet<>();
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
    byte[] update = rt.wire.update(st.session.introduction().sessionId(), List.of(relayed));
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

  /** The allocation went away under an open or connecting session. */
  private void lost(State st, String reason) {
    st.acquired = false; // the pool dropped every owner with the allocation
    Session s = st.session;
    if (states.get(s) != st) {
      return;
    }
    if (s.isOpen() && RelayPool.isTunnel(s.path())) {
      s.close("relay allocation lost", false);
    } else {
      relayFailed(st, "relay failed: " + reason);
    }
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
