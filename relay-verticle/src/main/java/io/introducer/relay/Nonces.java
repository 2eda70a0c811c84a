package io.introducer.relay;

import io.introducer.protocol.Hmac;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;

/**
 * Stateless NONCE values (RFC 8489 9.2): {@code hex(expiry seconds) || hex(HMAC-SHA256(secret, expiry|ip))[0..24]}.
 * Binding the nonce to the client IP and an expiry under a per-process secret lets the relay check a
 * nonce without remembering anything about sources that have not authenticated yet.
 */
final class Nonces {
  private static final HexFormat HEX = HexFormat.of();
  private static final int EXPIRY_CHARS = 16;
  private static final int MAC_BYTES = 12;

  private final byte[] secret;
  private final long lifetimeSeconds;
  private final Clock clock;

  Nonces(long lifetimeSeconds, Clock clock) {
    this(randomSecret(), lifetimeSeconds, clock);
  }

  Nonces(byte[] secret, long lifetimeSeconds, Clock clock) {
    this.secret = secret.clone();
    this.lifetimeSeconds = lifetimeSeconds;
    this.clock = clock;
  }

  /** A fresh nonce for a client at {@code clientIp} (a literal as read off the datagram). */
  String issue(String clientIp) {
    long expiry = clock.millis() / 1000 + lifetimeSeconds;
    String e = String.format("%016x", expiry);
    return e + HEX.formatHex(mac(e, clientIp));
  }

  enum Check { VALID, STALE, INVALID }

  /** VALID, STALE (genuine but expired) or INVALID (forged, mangled, or issued to another IP). */
  Check check(String nonce, String clientIp) {
    if (nonce == null || nonce.length() != EXPIRY_CHARS + 2 * MAC_BYTES) {
      return Check.INVALID;
    }
    String e = nonce.substring(0, EXPIRY_CHARS);
    byte[] given;
    long expiry;
    try {
      given = HEX.parseHex(nonce, EXPIRY_CHARS, nonce.length());
      expiry = Long.parseUnsignedLong(e, 16);
    } catch (IllegalArgumentException ex) {
      return Check.INVALID;
    }
    if (!MessageDigest.isEqual(given, mac(e, clientIp))) {
      return Check.INVALID;
    }
    return clock.millis() / 1000 < expiry ? Check.VALID : Check.STALE;
  }

  private byte[] mac(String expiryHex, String clientIp) {
    byte[] full = Hmac.sha256(secret, (expiryHex + "|" + clientIp).getBytes(StandardCharsets.US_ASCII));
    byte[] out = new byte[MAC_BYTES];
    System.arraycopy(full, 0, out, 0, MAC_BYTES);
    return out;
  }

  private static byte[] randomSecret() {
    byte[] s = new byte[32];
    new SecureRandom().nextBytes(s);
    return s;
  }
}
