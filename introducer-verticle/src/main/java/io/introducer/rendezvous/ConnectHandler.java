package io.introducer.rendezvous;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.TransactionId;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.protocol.rendezvous.Strategy;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * CONNECT: creates a session, answers the initiator and at the same moment sends INTRODUCE to the
 * responder (docs/PROTOCOL.md, CONNECT and INTRODUCE). Each peer gets the session key masked for itself.
 */
final class ConnectHandler implements PeerRequests.Handler {
  /** How long after the punch window a session may stay unreported before it counts as expired. */
  static final Duration REPORT_GRACE = Duration.ofSeconds(30);

  private final IntroducerConfig config;
  private final Registry registry;
  private final SessionStore sessions;
  private final Introductions introductions;
  private final StrategySelector strategies;
  private final IntroducerCounters counters;
  private final Replies replies;
  private final SecureRandom random = new SecureRandom();

  ConnectHandler(IntroducerConfig config, Registry registry, SessionStore sessions, Introductions introductions,
      StrategySelector strategies, IntroducerCounters counters, Replies replies) {
    this.config = config;
    this.registry = registry;
    this.sessions = sessions;
    this.introductions = introductions;
    this.strategies = strategies;
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

    byte[] sessionId = randomBytes(Rendezvous.SESSION_ID_LENGTH);
    byte[] sessionKey = randomBytes(Rendezvous.SESSION_KEY_LENGTH);
    String sessionHex = HexFormat.of().formatHex(sessionId);
    Strategy strategy = strategies.select(from, to);
    List<Candidate> fromCandidates = from.candidates();
    List<Candidate> toCandidates = to.candidates();
    Instant now = caller.now();
    sessions.add(new Session(sessionHex, caller.appId(), caller.peerId(), targetId, fromCandidates, toCandidates,
        strategy, now, now.plusMillis(config.punchWindowMillis()).plus(REPORT_GRACE), null, null, null));

    byte[] targetKey = Rendezvous.peerKey(config.secret(caller.appId()), caller.appId(), targetId);
    byte[] introduceTx = StunMessage.newTransactionId();
    StunMessage.Builder introduce = StunMessage.builder(StunMethods.INTRODUCE, StunClass.REQUEST, introduceTx)
        .addString(StunAttributes.APP_ID, caller.appId())
        .addString(StunAttributes.PEER_ID, targetId)
        .addU64(StunAttributes.TIMESTAMP, now.toEpochMilli());
    sessionAttributes(introduce, sessionId, Rendezvous.maskSessionKey(sessionKey, targetKey, introduceTx, sessionId),
        Rendezvous.ROLE_RESPONDER, caller.peerId(), fromCandidates, strategy);
    introductions.start(new Introductions.Request(new TransactionId(introduceTx), caller.appId(), targetId, targetKey,
        sessionId, sessionHex, Replies.sign(introduce, targetKey), to.serverReflexive()));

    StunMessage.Builder success = StunMessage.successFor(request);
    sessionAttributes(success, sessionId,
        Rendezvous.maskSessionKey(sessionKey, caller.key(), request.transactionId(), sessionId),
        Rendezvous.ROLE_INITIATOR, targetId, toCandidates, strategy);
    counters.connects.increment();
    return Replies.sign(success, caller.key());
  }

  /** What CONNECT success and INTRODUCE share, in the protocol's order. */
  private void sessionAttributes(StunMessage.Builder b, byte[] sessionId, byte[] maskedKey, int role,
      String otherPeer, List<Candidate> otherCandidates, Strategy strategy) {
    b.add(StunAttributes.SESSION_ID, sessionId)
        .add(StunAttributes.SESSION_KEY, maskedKey)
        .add(StunAttributes.ROLE, Replies.oneByteValue(role))
        .addString(StunAttributes.TARGET_PEER_ID, otherPeer);
    byte[] tx = b.transactionId();
    for (Candidate c : otherCandidates) {
      b.add(StunAttributes.CANDIDATE, c.encode(tx));
    }
    b.add(StunAttributes.STRATEGY, Replies.oneByteValue(strategy.code()))
        .addU32(StunAttributes.PUNCH_WINDOW, config.punchWindowMillis());
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
