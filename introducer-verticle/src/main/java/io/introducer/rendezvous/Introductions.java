package io.introducer.rendezvous;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.TransactionId;
import io.vertx.core.Vertx;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests the introducer sends a peer, in flight: INTRODUCE, and UPDATE forwarded from the other peer of a
 * session. Each is sent with RTO 200 ms doubling, 5 transmissions of the same bytes, until the target's signed
 * success arrives (docs/PROTOCOL.md, INTRODUCE and section 8). Event-loop confined.
 */
final class Introductions {
  static final long INITIAL_RTO_MILLIS = 200;
  static final int TRANSMISSIONS = 5;
  private static final Logger log = LoggerFactory.getLogger(Introductions.class);

  /** What an INTRODUCE or UPDATE needs to go out and to be recognised when answered. */
  record Request(int method, TransactionId transactionId, String appId, String targetPeerId, byte[] targetKey,
      byte[] sessionId, String sessionHex, byte[] datagram, InetSocketAddress address) {
    Request {
      if (method != StunMethods.INTRODUCE && method != StunMethods.UPDATE) {
        throw new IllegalArgumentException("not a request the introducer sends: " + StunMethods.name(method));
      }
    }
  }

  private static final class Pending {
    final Request request;
    InetSocketAddress address;
    int sent;
    long timerId = -1;

    Pending(Request request) {
      this.request = request;
      this.address = request.address();
    }
  }

  private final Vertx vertx;
  private final Outbound out;
  private final Registry registry;
  private final SessionStore sessions;
  private final IntroducerCounters counters;
  private final Clock clock;
  private final int capacity;
  private final String nodeId;
  private final Forwarder forwarder;
  private final Map<TransactionId, Pending> pending = new HashMap<>();

  Introductions(Vertx vertx, Outbound out, Registry registry, SessionStore sessions, IntroducerCounters counters,
      Clock clock, int capacity, String nodeId, Forwarder forwarder) {
    this.nodeId = nodeId;
    this.forwarder = forwarder;
    this.vertx = vertx;
    this.out = out;
    this.registry = registry;
    this.sessions = sessions;
    this.counters = counters;
    this.clock = clock;
    this.capacity = capacity;
  }

  boolean hasCapacity() {
    return pending.size() < capacity;
  }

  int pending() {
    return pending.size();
  }

  /** Where INTRODUCE/UPDATE go when another node owns the target's registration. */
  interface Forwarder {
    void forward(String owner, Request request);
  }

  /** Sends {@code request}, or hands it to the node whose socket the target's NAT lets through. */
  void start(Request request) {
    Optional<Registration> target = registry.get(request.appId(), request.targetPeerId());
    if (target.isPresent() && !target.get().isOwnedBy(nodeId)) {
      counters.deliveriesForwarded.increment();
      forwarder.forward(target.get().owner(), request);
      return;
    }
    startHere(request);
  }

  /** Sends {@code request} from this node and retransmits it until answered. */
  void startHere(Request request) {
    Pending p = new Pending(request);
    pending.put(request.transactionId(), p);
    if (request.method() == StunMethods.INTRODUCE) {
      counters.introductions.increment();
    } else {
      counters.updatesForwarded.increment();
    }
    transmit(p, INITIAL_RTO_MILLIS);
  }

  private void transmit(Pending p, long rto) {
    if (pending.get(p.request.transactionId()) != p) {
      return; // answered or cancelled while this timer was queued
    }
    // Follow the target if a KEEPALIVE moved its registration since the first transmission.
    p.address = registry.get(p.request.appId(), p.request.targetPeerId())
        .map(Registration::serverReflexive).orElse(p.address);
    out.send(p.request.datagram(), p.address);
    p.sent++;
    p.timerId = p.sent < TRANSMISSIONS
        ? vertx.setTimer(rto, id -> transmit(p, rto * 2))
        : vertx.setTimer(rto, id -> giveUp(p));
  }

  private void giveUp(Pending p) {
    if (pending.remove(p.request.transactionId(), p)) {
      (p.request.method() == StunMethods.INTRODUCE ? counters.introductionsTimedOut : counters.updatesTimedOut)
          .increment();
      log.debug("{} of session {} to {} unanswered after {} transmissions", StunMethods.name(p.request.method()),
          p.request.sessionHex(), p.request.targetPeerId(), p.sent);
    }
  }

  /** Handles a response if it answers a pending INTRODUCE or UPDATE; false when it belongs to no transaction here. */
  boolean onResponse(StunMessage response) {
    if (response.method() != StunMethods.INTRODUCE && response.method() != StunMethods.UPDATE) {
      return false;
    }
    Pending p = pending.get(response.transactionKey());
    if (p == null || p.request.method() != response.method()) {
      return false;
    }
    if (!response.verifyIntegritySha256(p.request.targetKey())) {
      counters.drop("bad-integrity");
      return true;
    }
    if (response.messageClass() == StunClass.ERROR_RESPONSE) {
      finish(p);
      counters.drop(p.request.method() == StunMethods.INTRODUCE ? "introduce-rejected" : "update-rejected");
      log.debug("{} of session {} rejected by {}: {}", StunMethods.name(p.request.method()), p.request.sessionHex(),
          p.request.targetPeerId(), response.errorCode());
      return true;
    }
    byte[] sessionId = response.get(StunAttributes.SESSION_ID);
    // INTRODUCE's success names the session; UPDATE's may (docs/PROTOCOL.md section 8).
    boolean required = p.request.method() == StunMethods.INTRODUCE;
    if ((sessionId != null || required) && !Arrays.equals(sessionId, p.request.sessionId())) {
      counters.drop("bad-session-id");
      return true;
    }
    finish(p);
    if (p.request.method() == StunMethods.INTRODUCE) {
      sessions.markIntroduced(p.request.sessionHex(), clock.instant());
      counters.introductionsAcked.increment();
    } else {
      counters.updatesAcked.increment();
    }
    return true;
  }

  private void finish(Pending p) {
    pending.remove(p.request.transactionId());
    vertx.cancelTimer(p.timerId);
  }

  void cancelAll() {
    pending.values().forEach(p -> vertx.cancelTimer(p.timerId));
    pending.clear();
  }
}
