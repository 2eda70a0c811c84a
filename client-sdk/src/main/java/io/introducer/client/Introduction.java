package io.introducer.client;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.protocol.rendezvous.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** What a CONNECT success or an INTRODUCE tells a peer: the session, its key, and whom to punch. */
record Introduction(byte[] sessionId, byte[] sessionKey, int role, String remotePeerId, List<Candidate> candidates,
    Strategy strategy, Duration punchWindow) {

  /** Used when the introducer leaves PUNCH-WINDOW out. */
  static final Duration DEFAULT_PUNCH_WINDOW = Duration.ofSeconds(10);
  /** A window longer than this is treated as this: a peer never punches for minutes. */
  static final Duration MAX_PUNCH_WINDOW = Duration.ofSeconds(60);

  String sessionHex() {
    return HexFormat.of().formatHex(sessionId);
  }

  /**
   * Parses an already authenticated CONNECT success or INTRODUCE; null if a required attribute is missing
   * or malformed. Unknown candidate kinds are skipped, as PROTOCOL.md asks.
   */
  static Introduction parse(StunMessage m, Wire wire) {
    byte[] sessionId = m.get(StunAttributes.SESSION_ID);
    byte[] masked = m.get(StunAttributes.SESSION_KEY);
    byte[] role = m.get(StunAttributes.ROLE);
    String target = m.getString(StunAttributes.TARGET_PEER_ID);
    if (sessionId == null || sessionId.length != Rendezvous.SESSION_ID_LENGTH
        || masked == null || masked.length != Rendezvous.SESSION_KEY_LENGTH
        || role == null || role.length != 4 || !Rendezvous.isValidId(target)) {
      return null;
    }
    byte[] strategyValue = m.get(StunAttributes.STRATEGY);
    Strategy strategy = strategyValue == null ? Strategy.SIMULTANEOUS
        : strategyValue.length == 4 ? Strategy.of(strategyValue[0] & 0xFF) : null;
    if (strategy == null) {
      return null;
    }
    long window = m.getU32(StunAttributes.PUNCH_WINDOW);
    Duration punchWindow = window <= 0 ? DEFAULT_PUNCH_WINDOW
        : Duration.ofMillis(Math.min(window, MAX_PUNCH_WINDOW.toMillis()));
    List<Candidate> candidates = new ArrayList<>();
    byte[] tx = m.transactionId();
    for (byte[] v : m.getAll(StunAttributes.CANDIDATE)) {
      Candidate c = Candidate.decode(v, tx);
      if (c != null) {
        candidates.add(c);
      }
    }
    byte[] key = wire.unmaskSessionKey(masked, tx, sessionId);
    return new Introduction(sessionId, key, role[0] & 0xFF, target, List.copyOf(candidates), strategy, punchWindow);
  }
}
