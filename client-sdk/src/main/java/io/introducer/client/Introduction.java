package io.introducer.client;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.PunchParams;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.protocol.rendezvous.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * What a CONNECT success or an INTRODUCE tells a peer: the session, its key, whom to punch, and how (strategy,
 * this peer's side of it, PUNCH-PARAMS).
 *
 * @param side the STRATEGY side byte for this peer: {@link #SIDE_SYMMETRIC}, {@link #SIDE_HARD} or {@link #SIDE_EASY}
 * @param relay the TURN relay and credentials this peer may allocate with (PROTOCOL.md section 8), or null
 */
record Introduction(byte[] sessionId, byte[] sessionKey, int role, String remotePeerId, List<Candidate> candidates,
    Strategy strategy, Duration punchWindow, int side, PunchParams punchParams, RelayCredentials relay) {

  /** STRATEGY side: both punch. */
  static final int SIDE_SYMMETRIC = 0;
  /** STRATEGY side: this peer is behind the hard NAT (sends first, opens the birthday sockets). */
  static final int SIDE_HARD = 1;
  /** STRATEGY side: this peer is behind the easy NAT (waits for, or probes, the hard side). */
  static final int SIDE_EASY = 2;

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
    int side = strategyValue == null ? SIDE_SYMMETRIC : strategyValue[1] & 0xFF;
    if (side > SIDE_EASY) {
      side = SIDE_SYMMETRIC; // an unknown side: punch like both sides do
    }
    PunchParams params = PunchParams.decode(m.get(StunAttributes.PUNCH_PARAMS));
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
    return new Introduction(sessionId, key, role[0] & 0xFF, target, List.copyOf(candidates), strategy, punchWindow,
        side, params != null ? params : PunchParams.DEFAULT, RelayCredentials.parse(m, wire));
  }
}
