package io.introducer.dashboard.impl;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Stateless login tokens: {@code base64url("v1|user|expiryMillis") + "." + base64url(HMAC-SHA256(key, payload))}.
 * The key is derived from the configured credentials, so every node with the same configuration accepts the same
 * tokens, and changing a credential logs everybody out.
 */
public final class SessionTokens {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final byte[] key;
  private final Duration lifetime;
  private final Clock clock;

  /** A token issued for {@code user}, valid until {@code expiresAt} (epoch millis). */
  public record Issued(String token, String user, long expiresAt) {}

  /** A valid token's user and expiry. */
  public record Verified(String user, long expiresAt) {}

  public SessionTokens(byte[] key, Duration lifetime, Clock clock) {
    this.key = key.clone();
    this.lifetime = lifetime;
    this.clock = clock;
  }

  public Issued issue(String user) {
    long expiresAt = clock.millis() + lifetime.toMillis();
    byte[] payload = ("v1|" + user + "|" + expiresAt).getBytes(StandardCharsets.UTF_8);
    return new Issued(B64.encodeToString(payload) + "." + B64.encodeToString(mac(payload)), user, expiresAt);
  }

  /** The token's user when it is well-formed, correctly signed and not expired; null otherwise. */
  public Verified verify(String token) {
    if (token == null || token.length() > 512) {
      return null;
    }
    int dot = token.indexOf('.');
    if (dot <= 0 || dot != token.lastIndexOf('.')) {
      return null;
    }
    byte[] payload;
    byte[] sig;
    try {
      payload = B64D.decode(token.substring(0, dot));
      sig = B64D.decode(token.substring(dot + 1));
    } catch (IllegalArgumentException e) {
      return null;
    }
    if (!MessageDigest.isEqual(sig, mac(payload))) {
      return null;
    }
    String[] parts = new String(payload, StandardCharsets.UTF_8).split("\\|", -1);
    if (parts.length != 3 || !parts[0].equals("v1")) {
      return null;
    }
    long expiresAt;
    try {
      expiresAt = Long.parseLong(parts[2]);
    } catch (NumberFormatException e) {
      return null;
    }
    return clock.millis() < expiresAt ? new Verified(parts[1], expiresAt) : null;
  }

  private byte[] mac(byte[] payload) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(payload);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }
}
