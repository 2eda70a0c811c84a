package io.introducer.protocol.rendezvous;

import io.introducer.protocol.Hmac;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** Constants and key derivations of the rendezvous protocol (docs/PROTOCOL.md). */
public final class Rendezvous {
  private Rendezvous() {}

  /** ROLE value of the peer that sent CONNECT. */
  public static final int ROLE_INITIATOR = 0;
  /** ROLE value of the peer that was introduced to the initiator. */
  public static final int ROLE_RESPONDER = 1;

  public static final int SESSION_ID_LENGTH = 16;
  public static final int SESSION_KEY_LENGTH = 32;
  /** Requests whose TIMESTAMP is further than this from the introducer's clock are refused. */
  public static final long MAX_CLOCK_SKEW_MS = 30_000;

  /** Peer and app ids: 1-64 characters of letters, digits and {@code . _ - @ :}. */
  public static final Pattern ID_PATTERN = Pattern.compile("[A-Za-z0-9._@:-]{1,64}");

  public static boolean isValidId(String id) {
    return id != null && ID_PATTERN.matcher(id).matches();
  }

  /**
   * The key a peer signs its requests with: HMAC-SHA256(app secret, "introducer-peer-key|app|peer").
   * A game backend can hand a client this key instead of the app secret.
   */
  public static byte[] peerKey(String appSecret, String appId, String peerId) {
    return Hmac.sha256(appSecret.getBytes(StandardCharsets.UTF_8),
        ("introducer-peer-key|" + appId + "|" + peerId).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Masks (or unmasks: XOR is its own inverse) a session key for one peer, so that only that peer
   * can read it: key XOR HMAC-SHA256(peerKey, "introducer-session-key|" || transactionId || sessionId).
   */
  public static byte[] maskSessionKey(byte[] sessionKey, byte[] peerKey, byte[] transactionId, byte[] sessionId) {
    if (sessionKey.length != SESSION_KEY_LENGTH) {
      throw new IllegalArgumentException("session key must be " + SESSION_KEY_LENGTH + " bytes");
    }
    byte[] mask = Hmac.sha256(peerKey, "introducer-session-key|".getBytes(StandardCharsets.UTF_8), transactionId, sessionId);
    byte[] out = new byte[SESSION_KEY_LENGTH];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) (sessionKey[i] ^ mask[i]);
    }
    return out;
  }

  /**
   * Masks (or unmasks) a relay password for one peer: XOR with the first bytes of
   * HMAC-SHA256(peerKey, "introducer-relay-password|" || transactionId). Passwords longer than 32 bytes are refused.
   */
  public static byte[] maskRelayPassword(byte[] password, byte[] peerKey, byte[] transactionId) {
    if (password.length > 32) {
      throw new IllegalArgumentException("relay password longer than 32 bytes");
    }
    byte[] mask = Hmac.sha256(peerKey, "introducer-relay-password|".getBytes(StandardCharsets.UTF_8), transactionId);
    byte[] out = new byte[password.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) (password[i] ^ mask[i]);
    }
    return out;
  }
}
