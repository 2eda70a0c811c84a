package io.introducer.rendezvous;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.TransactionId;
import io.introducer.protocol.rendezvous.Candidate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * UPDATE (docs/PROTOCOL.md section 8): late candidates of one peer of a session, typically its relayed address,
 * forwarded to the other peer as an UPDATE request of the introducer's own, signed with the recipient's key and
 * retransmitted like INTRODUCE. The sender is answered at once; a retransmission of its UPDATE is answered
 * from the transaction cache and not forwarded again. A session older than this node's history is forwarded when the
 * request names the other peer and it is registered in the same app ({@link SessionPeer}).
 */
final class UpdateHandler implements PeerRequests.Handler {
  /** Candidates forwarded per UPDATE: the registration's bound, the same reasoning. */
  static final int MAX_CANDIDATES = RegistrationHandler.MAX_HOST_CANDIDATES;

  private final IntroducerConfig config;
  private final Registry registry;
  private final SessionStore sessions;
  private final Introductions introductions;
  private final IntroducerCounters counters;
  private final Replies replies;
  private final RateLimits limits;

  UpdateHandler(IntroducerConfig config, Registry registry, SessionStore sessions, Introductions introductions,
      IntroducerCounters counters, Replies replies, RateLimits limits) {
    this.limits = limits;
    this.config = config;
    this.registry = registry;
    this.sessions = sessions;
    this.introductions = introductions;
    this.counters = counters;
    this.replies = replies;
  }

  @Override
  public byte[] handle(Caller caller, StunMessage request) {
    byte[] sessionId = SessionPeer.sessionId(request);
    if (sessionId == null) {
      return replies.error(caller, request, 400, "bad request: SESSION-ID");
    }
    List<Candidate> candidates = candidates(request);
    if (candidates.isEmpty()) {
      return replies.error(caller, request, 400, "bad request: CANDIDATE");
    }
    String sessionHex = HexFormat.of().formatHex(sessionId);
    SessionPeer.Other found = SessionPeer.resolve(caller, request, sessionHex, sessions, registry);
    if (!found.found()) {
      return replies.error(caller, request, found.errorCode(), found.reason());
    }
    String other = found.peerId();
    Optional<Registration> recipient = registry.get(caller.appId(), other).filter(r -> !r.isExpired(caller.now()));
    if (recipient.isEmpty()) {
      return replies.error(caller, request, 404, "unknown peer");
    }
    if (!introductions.hasCapacity()) {
      return replies.error(caller, request, 508, "insufficient capacity");
    }
    if (!limits.admitDelivery(caller.appId(), other)) {
      return replies.error(caller, request, 508, "target busy");
    }
    introductions.start(forward(caller, other, recipient.get(), sessionId, sessionHex, candidates, caller.now()));
    counters.updates.increment();
    return Replies.sign(StunMessage.successFor(request), caller.key());
  }

  /** The introducer's UPDATE to {@code other}: its own transaction, signed with the recipient's key. */
  private Introductions.Request forward(Caller caller, String other, Registration recipient, byte[] sessionId,
      String sessionHex, List<Candidate> candidates, Instant now) {
    byte[] key = recipient.key(config.secret(caller.appId()));
    byte[] tx = StunMessage.newTransactionId();
    StunMessage.Builder b = StunMessage.builder(StunMethods.UPDATE, StunClass.REQUEST, tx)
        .addString(StunAttributes.APP_ID, caller.appId())
        .addString(StunAttributes.PEER_ID, other)
        .addU64(StunAttributes.TIMESTAMP, now.toEpochMilli())
        .add(StunAttributes.SESSION_ID, sessionId)
        .addString(StunAttributes.TARGET_PEER_ID, caller.peerId());
    for (Candidate c : candidates) {
      b.add(StunAttributes.CANDIDATE, c.encode(tx)); // re-encoded: the XOR depends on the transaction id
    }
    return new Introductions.Request(StunMethods.UPDATE, new TransactionId(tx), caller.appId(), other, key, sessionId,
        sessionHex, Replies.sign(b, key), recipient.serverReflexive());
  }

  /** Well-formed candidates of any kind in the sender's order, at most {@link #MAX_CANDIDATES}. */
  private static List<Candidate> candidates(StunMessage request) {
    byte[] tx = request.transactionId();
    List<Candidate> out = new ArrayList<>();
    for (byte[] value : request.getAll(StunAttributes.CANDIDATE)) {
      Candidate c = Candidate.decode(value, tx);
      if (c != null && out.size() < MAX_CANDIDATES) {
        out.add(c);
      }
    }
    return out;
  }
}
