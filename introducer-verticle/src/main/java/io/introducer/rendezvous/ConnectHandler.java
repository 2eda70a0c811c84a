package io.introducer.rendezvous;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.TransactionId;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.protocol.rendezvous.Strategy;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * CONNECT: creates a session, answers the initiator and at the same moment sends INTRODUCE to the
 * responder (docs/PROTOCOL.md, CONNECT and INTRODUCE). Each peer gets the session key masked for itself, the
 * strategy and its side of it (section 7), the other peer's candidates (PREDICTED ones too when the other side's
 * ports are predicted), and, when a relay is known, TURN credentials of its own (section 8).
 */
final class ConnectHandler implements PeerRequests.Handler {
  /** How long after the punch window a session may stay unreported before it counts as expired. */
  static final Duration REPORT_GRACE = Duration.ofSeconds(30);

  private final IntroducerConfig config;
  private final Registry registry;
  private final SessionStore sessions;
  private final Introductions introductions;
  private final StrategySelector strategies;
  private final RelaySelector relays;
  private final IntroducerCounters counters;
  private final Replies replies;
  private final RateLimits limits;
  private final SecureRandom random = new SecureRandom();

  ConnectHandler(IntroducerConfig config, Registry registry, SessionStore sessions, Introductions introductions,
      StrategySelector strategies, RelaySelector relays, IntroducerCounters counters, Replies replies,
      RateLimits limits) {
    this.limits = limits;
    this.config = config;
    this.registry = registry;
    this.sessions = sessions;
    this.introductions = introductions;
    this.strategies = strategies;
    this.relays = relays;
    this.counters = counters;
    this.replies = replies;
  }

  @Override
  public byte[] handle(Caller caller, StunMessage request) {
    String targetId = request.getString(StunAttributes.TARGET_PEER_ID);
    if (!Rendezvous.isValidId(targetId)) {
      return replies.error(caller, request, 400, "bad request: TARGET-PEER-ID");
    }
    if (targetId.equals(caller.peerId())) {
      return replies.error(caller, request, 400, "bad request: target is the requester");
    }
    Optional<Registration> initiator = active(caller.appId(), caller.peerId(), caller.now());
    if (initiator.isEmpty()) {
      return replies.error(caller, request, 403, "not registered");
    }
    Optional<Registration> responder = active(caller.appId(), targetId, caller.now());
    if (responder.isEmpty()) {
      return replies.error(caller, request, 404, "unknown peer");
    }
    if (!introductions.hasCapacity()) {
      return replies.error(caller, request, 508, "insufficient capacity");
    }
    // The CONNECT's source is the freshest view of the initiator's NAT mapping.
    Registration from = registry.touch(caller.appId(), caller.peerId(), caller.source(), initiator.get().expiresAt())
        .orElse(initiator.get());
    Registration to = responder.get();
    StrategySelector.Plan plan = strategies.select(from, to);
    Optional<RelaySelector.Relay> relay = relays.select(caller.appId(), from, to);
    if (plan.strategy() == Strategy.RELAY && relay.isEmpty()) {
      return replies.error(caller, request, 503, "relay required");
    }
    if (!limits.admitDelivery(caller.appId(), targetId)) {
      // A CONNECT flood for one target must not become an INTRODUCE flood towards it (docs/SECURITY.md).
      return replies.error(caller, request, 508, "target busy");
    }

    byte[] sessionId = randomBytes(Rendezvous.SESSION_ID_LENGTH);
    byte[] sessionKey = randomBytes(Rendezvous.SESSION_KEY_LENGTH);
    String sessionHex = HexFormat.of().formatHex(sessionId);
    List<Candidate> fromCandidates = concat(from.candidates(), plan.initiatorPredicted());
    List<Candidate> toCandidates = concat(to.candidates(), plan.responderPredicted());
    Instant now = caller.now();
    sessions.add(new Session(sessionHex, caller.appId(), caller.peerId(), targetId, fromCandidates, toCandidates,
        plan.strategy(), now, now.plusMillis(config.punchWindowMillis()).plus(REPORT_GRACE), null, null, null,
        from.natProfile(), to.natProfile()));

    byte[] targetKey = to.key(config.secret(caller.appId()));
    byte[] introduceTx = StunMessage.newTransactionId();
    StunMessage.Builder introduce = StunMessage.builder(StunMethods.INTRODUCE, StunClass.REQUEST, introduceTx)
        .addString(StunAttributes.APP_ID, caller.appId())
        .addString(StunAttributes.PEER_ID, targetId)
        .addU64(StunAttributes.TIMESTAMP, now.toEpochMilli());
    sessionAttributes(introduce, sessionId, Rendezvous.maskSessionKey(sessionKey, targetKey, introduceTx, sessionId),
        Rendezvous.ROLE_RESPONDER, caller.peerId(), fromCandidates, plan, plan.responderSide());
    relayAttributes(introduce, relay, targetId, targetKey, now);
    introductions.start(new Introductions.Request(StunMethods.INTRODUCE, new TransactionId(introduceTx),
        caller.appId(), targetId, targetKey, sessionId, sessionHex, Replies.sign(introduce, targetKey),
        to.serverReflexive()));

    StunMessage.Builder success = StunMessage.successFor(request);
    sessionAttributes(success, sessionId,
        Rendezvous.maskSessionKey(sessionKey, caller.key(), request.transactionId(), sessionId),
        Rendezvous.ROLE_INITIATOR, targetId, toCandidates, plan, plan.initiatorSide());
    relayAttributes(success, relay, caller.peerId(), caller.key(), now);
    counters.connects.increment();
    return Replies.sign(success, caller.key());
  }

  /** What CONNECT success and INTRODUCE share, in the protocol's order. */
  private void sessionAttributes(StunMessage.Builder b, byte[] sessionId, byte[] maskedKey, int role,
      String otherPeer, List<Candidate> otherCandidates, StrategySelector.Plan plan, StrategySelector.Side side) {
    b.add(StunAttributes.SESSION_ID, sessionId)
        .add(StunAttributes.SESSION_KEY, maskedKey)
        .add(StunAttributes.ROLE, Replies.oneByteValue(role))
        .addString(StunAttributes.TARGET_PEER_ID, otherPeer);
    byte[] tx = b.transactionId();
    for (Candidate c : otherCandidates) {
      b.add(StunAttributes.CANDIDATE, c.encode(tx));
    }
    b.add(StunAttributes.STRATEGY, StrategySelector.Plan.strategyValue(plan.strategy(), side))
        .add(StunAttributes.PUNCH_PARAMS, plan.params().encode())
        .addU32(StunAttributes.PUNCH_WINDOW, config.punchWindowMillis());
  }

  /** RELAY-ADDRESS, RELAY-USERNAME and RELAY-PASSWORD (masked for {@code peerKey} and this transaction), if a relay. */
  private void relayAttributes(StunMessage.Builder b, Optional<RelaySelector.Relay> relay, String peerId,
      byte[] peerKey, Instant now) {
    if (relay.isEmpty()) {
      return;
    }
    RelayCredentials credentials = RelayCredentials.mint(relay.get().restSecret(), peerId, now.getEpochSecond(),
        config.relayCredentialTtlSeconds());
    b.addXorAddress(StunAttributes.RELAY_ADDRESS, relay.get().address())
        .addString(StunAttributes.RELAY_USERNAME, credentials.username())
        .add(StunAttributes.RELAY_PASSWORD, Rendezvous.maskRelayPassword(
            credentials.password().getBytes(StandardCharsets.UTF_8), peerKey, b.transactionId()));
  }

  private static List<Candidate> concat(List<Candidate> a, List<Candidate> b) {
    if (b.isEmpty()) {
      return a;
    }
    List<Candidate> out = new ArrayList<>(a.size() + b.size());
    out.addAll(a);
    out.addAll(b);
    return out;
  }

  private Optional<Registration> active(String appId, String peerId, Instant now) {
    return registry.get(appId, peerId).filter(r -> !r.isExpired(now));
  }

  private byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }
}
