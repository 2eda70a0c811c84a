package io.introducer.rendezvous;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.util.Optional;

/**
 * The other peer of a session-scoped request (UPDATE, RELAY-REQUEST; docs/PROTOCOL.md section 8). When this node
 * still has the session in its history, the session decides: the caller must be one of its peers (else 403
 * {@code not in session}) and the other one is the answer; TARGET-PEER-ID is not consulted. A relayed session
 * outlives the history ({@code sessionRetentionSeconds} counts from creation), so for a session this node no longer
 * (or never) knows, the request may name the other peer in TARGET-PEER-ID: it is the answer when it is another peer
 * registered, and not expired, in the caller's app; otherwise 404 {@code unknown session}. docs/SECURITY.md says why
 * that is safe: the caller is authenticated as a peer of the app, which could get relay credentials and reach that
 * peer through CONNECT anyway, and forwarding only ever goes to a registered peer of the same app, which acts only on
 * a session id it holds.
 */
final class SessionPeer {
  /** The other peer (and the session when known), or the error to answer with. */
  record Other(String peerId, Session session, int errorCode, String reason) {
    boolean found() {
      return peerId != null;
    }

    static Other error(int code, String reason) {
      return new Other(null, null, code, reason);
    }
  }

  private SessionPeer() {}

  /**
   * The SESSION-ID of a session-scoped request (RESULT, UPDATE, RELAY-REQUEST), or null when it is missing or not
   * {@link Rendezvous#SESSION_ID_LENGTH} bytes long: such a request is answered 400 {@code bad request: SESSION-ID}.
   */
  static byte[] sessionId(StunMessage request) {
    byte[] sessionId = request.get(StunAttributes.SESSION_ID);
    return sessionId != null && sessionId.length == Rendezvous.SESSION_ID_LENGTH ? sessionId : null;
  }

  static Other resolve(Caller caller, StunMessage request, String sessionHex, SessionStore sessions,
      Registry registry) {
    Optional<Session> found = sessions.get(sessionHex).filter(s -> s.appId().equals(caller.appId()));
    if (found.isPresent()) {
      Session s = found.get();
      if (s.initiator().equals(caller.peerId())) {
        return new Other(s.responder(), s, 0, null);
      }
      if (s.responder().equals(caller.peerId())) {
        return new Other(s.initiator(), s, 0, null);
      }
      return Other.error(403, "not in session");
    }
    String target = request.getString(StunAttributes.TARGET_PEER_ID);
    if (!Rendezvous.isValidId(target) || target.equals(caller.peerId())
        || registry.get(caller.appId(), target).filter(r -> !r.isExpired(caller.now())).isEmpty()) {
      return Other.error(404, "unknown session");
    }
    return new Other(target, null, 0, null);
  }
}
