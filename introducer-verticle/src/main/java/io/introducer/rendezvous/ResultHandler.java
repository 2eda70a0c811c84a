package io.introducer.rendezvous;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.Strategy;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.HexFormat;

/** RESULT: a peer reports how its session ended up (docs/PROTOCOL.md, RESULT and the OUTCOME attribute). */
final class ResultHandler implements PeerRequests.Handler {
  static final int OUTCOME_LENGTH = 12;
  static final int MAX_REASON_BYTES = 256;

  private final SessionStore sessions;
  private final IntroducerCounters counters;
  private final Replies replies;

  ResultHandler(SessionStore sessions, IntroducerCounters counters, Replies replies) {
    this.sessions = sessions;
    this.counters = counters;
    this.replies = replies;
  }

  @Override
  public byte[] handle(Caller caller, StunMessage request) {
    byte[] sessionId = SessionPeer.sessionId(request);
    if (sessionId == null) {
      return replies.error(caller, request, 400, "bad request: SESSION-ID");
    }
    byte[] value = request.get(StunAttributes.OUTCOME);
    Outcome outcome = value != null && value.length == OUTCOME_LENGTH ? Outcome.of(value[0] & 0xFF) : null;
    Strategy strategy = outcome != null ? Strategy.of(value[1] & 0xFF) : null;
    if (strategy == null) {
      return replies.error(caller, request, 400, "bad request: OUTCOME");
    }
    byte[] reason = request.get(StunAttributes.REASON);
    if (reason != null && reason.length > MAX_REASON_BYTES) {
      return replies.error(caller, request, 400, "bad request: REASON");
    }
    String id = HexFormat.of().formatHex(sessionId);
    // A session of someone else is as unknown as one that never existed.
    if (sessions.get(id).filter(s -> s.involves(caller.appId(), caller.peerId())).isEmpty()) {
      return replies.error(caller, request, 404, "unknown session");
    }
    ByteBuffer fields = ByteBuffer.wrap(value);
    PeerOutcome report = new PeerOutcome(outcome, strategy,
        Integer.toUnsignedLong(fields.getInt(4)), Integer.toUnsignedLong(fields.getInt(8)),
        chosenRemote(request), reason == null ? null : request.getString(StunAttributes.REASON), caller.now());
    sessions.recordOutcome(id, caller.peerId(), report);
    counters.results.increment();
    return Replies.sign(StunMessage.successFor(request), caller.key());
  }

  /** The first well-formed CANDIDATE, if any: failed sessions have no chosen address. */
  private static InetSocketAddress chosenRemote(StunMessage request) {
    byte[] tx = request.transactionId();
    for (byte[] v : request.getAll(StunAttributes.CANDIDATE)) {
      Candidate c = Candidate.decode(v, tx);
      if (c != null) {
        return c.address();
      }
    }
    return null;
  }
}
