package io.introducer.relay;

import io.introducer.protocol.Hmac;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Objects;

/**
 * Time-limited TURN credentials ("TURN REST API", draft-uberti-behave-turn-rest, as coturn implements
 * it): username {@code "<expiry unix seconds>:<user>"}, password {@code base64(HMAC-SHA1(secret, username))}.
 * Whoever knows the shared secret (an introducer) mints them; the relay checks them without any
 * per-user state.
 */
public final class TurnRestCredentials {
  /** A minted username and password, and when they stop working. */
  public record Credentials(String username, String password, Instant expiresAt) {
    @Override
    public String toString() {
      return "Credentials[username=" + username + ", password=***, expiresAt=" + expiresAt + "]";
    }
  }

  private TurnRestCredentials() {}

  /** Credentials for {@code user} valid for {@code ttl} from the clock's now (rounded down to whole seconds). */
  public static Credentials mint(String secret, String user, Duration ttl, Clock clock) {
    Objects.requireNonNull(secret, "secret");
    Objects.requireNonNull(user, "user");
    if (secret.isEmpty()) {
      throw new IllegalArgumentException("secret must not be empty");
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be positive, got " + ttl);
    }
    long expiry = clock.instant().plus(ttl).getEpochSecond();
    String username = user.isEmpty() ? Long.toString(expiry) : expiry + ":" + user;
    return new Credentials(username, password(secret, username), Instant.ofEpochSecond(expiry));
  }

  /** base64(HMAC-SHA1(secret, username)). */
  public static String password(String secret, String username) {
    byte[] mac = Hmac.sha1(secret.getBytes(StandardCharsets.UTF_8), username.getBytes(StandardCharsets.UTF_8));
    return Base64.getEncoder().encodeToString(mac);
  }

  /**
   * Whether {@code next} may take over an allocation made as {@code current} (credential rollover, PROTOCOL.md section
   * 8): both are REST usernames of the same user, and {@code next} expires later. RFC 8656 keeps one USERNAME per
   * allocation (441 otherwise), so a long session on a single relay would have to drop its allocation when the
   * credentials it was made with run out; the user part is what the credentials vouch for, and the request must come
   * from the allocation's own 5-tuple and pass the integrity check under {@code next} anyway.
   */
  public static boolean isRollover(String current, String next) {
    long from = expiryOf(current);
    long to = expiryOf(next);
    return from >= 0 && to > from && userOf(current).equals(userOf(next));
  }

  /** The user part of a REST username ({@code ""} for a bare expiry), or the whole name when it is not one. */
  public static String userOf(String username) {
    if (expiryOf(username) < 0) {
      return username;
    }
    int colon = username.indexOf(':');
    return colon < 0 ? "" : username.substring(colon + 1);
  }

  /** The expiry (unix seconds) a REST username starts with, or -1 when it is not in that form. */
  public static long expiryOf(String username) {
    int colon = username.indexOf(':');
    String digits = colon < 0 ? username : username.substring(0, colon);
    if (digits.isEmpty() || digits.length() > 18) {
      return -1;
    }
    for (int i = 0; i < digits.length(); i++) {
      if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
        return -1;
      }
    }
    return Long.parseLong(digits);
  }
}
