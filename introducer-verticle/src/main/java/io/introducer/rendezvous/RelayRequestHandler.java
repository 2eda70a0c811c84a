package io.introducer.rendezvous;

import io.introducer.protocol.StunAddress;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * RELAY-REQUEST (docs/PROTOCOL.md section 8): a peer of a session whose TURN relay was lost asks for credentials on
 * another relay. The session may have been created on another node (sessions are replicated on every node), so a
 * peer that failed over to this node with its relay is served here. The relays the request names in RELAY-ADDRESS
 * (the failed ones) are excluded; the credentials are the peer's own, masked like CONNECT's (section 8).
 *
 * <p>With RENEWAL the session's relay still works and the peer only needs fresh credentials before its own expire
 * (the relay refuses a Refresh under an expired TURN REST username): the relays named are avoided when another one is
 * available, so that the peer can allocate anew before releasing the old allocation, and otherwise offered again. A
 * session older than this node's history is served when the request names the other peer ({@link SessionPeer}).
 */
final class RelayRequestHandler implements PeerRequests.Handler {
  /** RELAY-ADDRESS attributes honoured per request: a peer names the relays it lost, a few at most. */
  static final int MAX_EXCLUDED = 8;

  private final IntroducerConfig config;
  private final Registry registry;
  private final SessionStore sessions;
  private final RelaySelector relays;
  private final IntroducerCounters counters;
  private final Replies replies;

  RelayRequestHandler(IntroducerConfig config, Registry registry, SessionStore sessions, RelaySelector relays,
      IntroducerCounters counters, Replies replies) {
    this.config = config;
    this.registry = registry;
    this.sessions = sessions;
    this.relays = relays;
    this.counters = counters;
    this.replies = replies;
  }

  @Override
  public byte[] handle(Caller caller, StunMessage request) {
    byte[] sessionId = SessionPeer.sessionId(request);
    if (sessionId == null) {
      return replies.error(caller, request, 400, "bad request: SESSION-ID");
    }
    Set<InetSocketAddress> excluded = new LinkedHashSet<>();
    for (byte[] v : request.getAll(StunAttributes.RELAY_ADDRESS)) {
      InetSocketAddress a = StunAddress.decodeXor(v, 0, v.length, request.bytes(), 8);
      if (a == null) {
        return replies.error(caller, request, 400, "bad request: RELAY-ADDRESS");
      }
      if (excluded.size() < MAX_EXCLUDED) {
        excluded.add(a);
      }
    }
    SessionPeer.Other other = SessionPeer.resolve(caller, request, HexFormat.of().formatHex(sessionId), sessions,
        registry);
    if (!other.found()) {
      return replies.error(caller, request, other.errorCode(), other.reason());
    }
    Session session = other.session();
    String initiatorId = session != null ? session.initiator() : caller.peerId();
    String responderId = session != null ? session.responder() : other.peerId();
    Registration initiator = registry.get(caller.appId(), initiatorId).orElse(null);
    Registration responder = registry.get(caller.appId(), responderId).orElse(null);
    Optional<RelaySelector.Relay> relay = relays.replacement(caller.appId(), initiator, responder, excluded);
    if (relay.isEmpty() && request.has(StunAttributes.RENEWAL) && !excluded.isEmpty()) {
      // A renewal names the relay it uses to avoid it if possible (make-before-break), not because it failed.
      relay = relays.replacement(caller.appId(), initiator, responder, Set.of());
    }
    if (relay.isEmpty()) {
      return replies.error(caller, request, 503, "no relay available");
    }
    RelayCredentials credentials = RelayCredentials.mint(relay.get().restSecret(), caller.peerId(),
        caller.now().getEpochSecond(), config.relayCredentialTtlSeconds());
    StunMessage.Builder success = StunMessage.successFor(request)
        .add(StunAttributes.SESSION_ID, sessionId)
        .addXorAddress(StunAttributes.RELAY_ADDRESS, relay.get().address())
        .addString(StunAttributes.RELAY_USERNAME, credentials.username());
    success.add(StunAttributes.RELAY_PASSWORD, Rendezvous.maskRelayPassword(
        credentials.password().getBytes(StandardCharsets.UTF_8), caller.key(), success.transactionId()));
    counters.relayRequests.increment();
    return Replies.sign(success, caller.key());
  }
}
