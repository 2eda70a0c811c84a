package io.introducer.client;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.RelayRtt;
import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.protocol.rendezvous.Strategy;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Builds the SDK's messages exactly as docs/PROTOCOL.md section 4 lists them, signed with the right key. */
final class Wire {
  private final String appId;
  private final String peerId;
  private final byte[] peerKey;
  /** TOKEN-EXPIRY of the peer token {@code peerKey} comes from; 0 when it is not a token's. */
  private final long tokenExpiry;

  Wire(String appId, String peerId, byte[] peerKey) {
    this(appId, peerId, peerKey, 0);
  }

  Wire(String appId, String peerId, byte[] peerKey, long tokenExpiry) {
    this.appId = appId;
    this.peerId = peerId;
    this.peerKey = peerKey.clone();
    this.tokenExpiry = tokenExpiry;
  }

  String peerId() {
    return peerId;
  }

  String appId() {
    return appId;
  }

  /** True if {@code m} carries a valid MESSAGE-INTEGRITY-SHA256 under this peer's K_peer. */
  boolean verifiedByIntroducer(StunMessage m) {
    return m.verifyIntegritySha256(peerKey);
  }

  byte[] unmaskSessionKey(byte[] masked, byte[] transactionId, byte[] sessionId) {
    return Rendezvous.maskSessionKey(masked, peerKey, transactionId, sessionId);
  }

  /** RELAY-PASSWORD unmasked (PROTOCOL.md section 2): the TURN REST password's UTF-8 bytes. */
  byte[] unmaskRelayPassword(byte[] masked, byte[] transactionId) {
    return Rendezvous.maskRelayPassword(masked, peerKey, transactionId);
  }

  // --- peer -> introducer requests: APP-ID, PEER-ID, TIMESTAMP, extras, MI-SHA256(K_peer), FINGERPRINT

  private StunMessage.Builder request(int method) {
    StunMessage.Builder b = StunMessage.builder(method, StunClass.REQUEST)
        .addString(StunAttributes.APP_ID, appId)
        .addString(StunAttributes.PEER_ID, peerId)
        .addU64(StunAttributes.TIMESTAMP, System.currentTimeMillis());
    return tokenExpiry > 0 ? b.addU64(StunAttributes.TOKEN_EXPIRY, tokenExpiry) : b;
  }

  private byte[] signed(StunMessage.Builder b) {
    return b.integritySha256(peerKey).fingerprint().encode();
  }

  /**
   * REGISTER; NAT-PROFILE only once something was measured ({@code profile} not null nor all unknown); also the RTTs
   * to relays measured so far (RELAY-RTT, at most 4).
   */
  byte[] register(List<Candidate> hostCandidates, NatProfile profile, List<RelayRtt> relayRtts) {
    StunMessage.Builder b = request(StunMethods.REGISTER);
    for (Candidate c : hostCandidates) {
      b.add(StunAttributes.CANDIDATE, c.encode(b.transactionId()));
    }
    if (profile != null && !profile.equals(NatProfile.UNKNOWN)) {
      b.add(StunAttributes.NAT_PROFILE, profile.encode());
    }
    return signed(relayRtts(b, relayRtts));
  }

  /** KEEPALIVE carrying the RTTs to relays measured so far (RELAY-RTT, at most 4). */
  byte[] keepalive(List<RelayRtt> relayRtts) {
    return signed(relayRtts(request(StunMethods.KEEPALIVE), relayRtts));
  }

  private static StunMessage.Builder relayRtts(StunMessage.Builder b, List<RelayRtt> relayRtts) {
    int n = 0;
    for (RelayRtt r : relayRtts) {
      if (n++ < RelayRtt.MAX_PER_MESSAGE) {
        b.add(StunAttributes.RELAY_RTT, r.encode(b.transactionId()));
      }
    }
    return b;
  }

  byte[] deregister() {
    return signed(request(StunMethods.DEREGISTER));
  }

  byte[] connect(String targetPeerId) {
    return signed(request(StunMethods.CONNECT).addString(StunAttributes.TARGET_PEER_ID, targetPeerId));
  }

  /** RESULT; {@code chosen} and {@code reason} may be null (failed sessions have no chosen address). */
  byte[] result(byte[] sessionId, Outcome outcome, Strategy strategy, long timeToConnectMillis, long srttMicros,
      InetSocketAddress chosen, String reason) {
    StunMessage.Builder b = request(StunMethods.RESULT).add(StunAttributes.SESSION_ID, sessionId);
    byte[] o = new byte[12];
    o[0] = (byte) outcome.code();
    o[1] = (byte) strategy.code();
    putInt(o, 4, clampU32(timeToConnectMillis));
    putInt(o, 8, clampU32(srttMicros));
    b.add(StunAttributes.OUTCOME, o);
    if (chosen != null) {
      b.add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.SERVER_REFLEXIVE, chosen).encode(b.transactionId()));
    }
    if (reason != null) {
      b.addString(StunAttributes.REASON, truncate(reason, 256));
    }
    return signed(b);
  }

  /** UPDATE (PROTOCOL.md section 8): late candidates of a session, e.g. our relayed address. */
  byte[] update(byte[] sessionId, String otherPeerId, List<Candidate> candidates) {
    StunMessage.Builder b = request(StunMethods.UPDATE).add(StunAttributes.SESSION_ID, sessionId)
        .addString(StunAttributes.TARGET_PEER_ID, otherPeerId);
    for (Candidate c : candidates) {
      b.add(StunAttributes.CANDIDATE, c.encode(b.transactionId()));
    }
    return signed(b);
  }

  /**
   * RELAY-REQUEST (PROTOCOL.md section 8): credentials on another relay for a session whose relay was lost, naming
   * the relays that failed so that the introducer picks none of them. With {@code renewal} the relays named are the
   * session's working relay, which the introducer avoids if it can but may offer again (fresh credentials before the
   * current ones expire). TARGET-PEER-ID names the other peer, so that a node whose session history no longer holds
   * the session still answers.
   */
  byte[] relayRequest(byte[] sessionId, String otherPeerId, java.util.Collection<InetSocketAddress> relays,
      boolean renewal) {
    StunMessage.Builder b = request(StunMethods.RELAY_REQUEST).add(StunAttributes.SESSION_ID, sessionId)
        .addString(StunAttributes.TARGET_PEER_ID, otherPeerId);
    for (InetSocketAddress a : relays) {
      b.addXorAddress(StunAttributes.RELAY_ADDRESS, a);
    }
    if (renewal) {
      b.add(StunAttributes.RENEWAL, new byte[0]);
    }
    return signed(b);
  }

  /** Success response to the introducer's UPDATE: SESSION-ID, MI-SHA256(K_peer), FINGERPRINT. */
  byte[] updateAck(StunMessage update, byte[] sessionId) {
    return signed(StunMessage.successFor(update).add(StunAttributes.SESSION_ID, sessionId));
  }

  /** Success response to INTRODUCE: SESSION-ID, MI-SHA256(K_peer), FINGERPRINT. */
  byte[] introduceAck(StunMessage introduce, byte[] sessionId) {
    return signed(StunMessage.successFor(introduce).add(StunAttributes.SESSION_ID, sessionId));
  }

  /** 420 to an authenticated request carrying comprehension-required attributes we do not know. */
  static byte[] unknownAttributes(StunMessage request, List<Integer> unknown, byte[] key) {
    return StunMessage.errorFor(request, 420, "unknown attribute").addUnknownAttributes(unknown)
        .integritySha256(key).fingerprint().encode();
  }

  // --- peer <-> peer: SESSION-ID, PEER-ID (requests and indications), MI-SHA256(session key), FINGERPRINT

  /** A PUNCH request; {@code nominated}: the channel lives on the address it comes from (NOMINATED). */
  static byte[] punchRequest(byte[] transactionId, byte[] sessionId, String senderPeerId, byte[] sessionKey,
      boolean nominated) {
    StunMessage.Builder b = StunMessage.builder(StunMethods.PUNCH, StunClass.REQUEST, transactionId)
        .add(StunAttributes.SESSION_ID, sessionId)
        .addString(StunAttributes.PEER_ID, senderPeerId);
    if (nominated) {
      b.add(StunAttributes.NOMINATED, new byte[0]);
    }
    return b.integritySha256(sessionKey).fingerprint().encode();
  }

  static byte[] punchSuccess(StunMessage request, InetSocketAddress source, byte[] sessionId, byte[] sessionKey) {
    return StunMessage.successFor(request)
        .add(StunAttributes.SESSION_ID, sessionId)
        .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, source)
        .integritySha256(sessionKey).fingerprint().encode();
  }

  static byte[] close(byte[] sessionId, String senderPeerId, byte[] sessionKey) {
    return StunMessage.builder(StunMethods.CLOSE, StunClass.INDICATION)
        .add(StunAttributes.SESSION_ID, sessionId)
        .addString(StunAttributes.PEER_ID, senderPeerId)
        .integritySha256(sessionKey).fingerprint().encode();
  }

  private static long clampU32(long v) {
    return Math.max(0, Math.min(v, 0xFFFFFFFFL));
  }

  private static void putInt(byte[] b, int off, long v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  private static String truncate(String s, int maxBytes) {
    String out = s;
    while (out.getBytes(StandardCharsets.UTF_8).length > maxBytes) {
      out = out.substring(0, out.length() - 1);
    }
    return out;
  }
}
