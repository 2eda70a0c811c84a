package io.introducer.relay;

import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.LongTermCredentials;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

/**
 * The long-term credential mechanism (RFC 8489 9.2.4) for TURN requests, with static users and TURN
 * REST usernames. Order of checks follows RFC 8489: no integrity -> 401 with REALM and NONCE; missing
 * USERNAME/REALM/NONCE -> 400; unknown user or expired REST username -> 401; bad integrity -> 401;
 * and only for an otherwise authentic request, a stale or foreign nonce -> 438 with a fresh NONCE.
 *
 * <p>MESSAGE-INTEGRITY-SHA256 is accepted keyed with the same MD5 long-term key as MESSAGE-INTEGRITY.
 * RFC 8489 keys it with SHA-256(user:realm:pass) only after PASSWORD-ALGORITHM negotiation, which this
 * relay does not offer; without it the MD5 key is the key, as coturn and pion use it.
 */
final class Authenticator {
  /** What a request proved: who sent it, the key, and which integrity attributes the answer must carry. */
  /**
   * Who sent an authenticated request. {@code rest}: the username is a TURN REST one, checked against the shared
   * secret (not a static user of the config).
   */
  record Identity(String username, byte[] key, boolean sha1, boolean sha256, boolean rest) {
    /**
     * Whose quota an allocation takes: the user part of a REST username (fresh credentials of a user, however many,
     * share one quota), else the whole username (a static user, or a REST username that is a bare expiry).
     */
    String account() {
      String user = rest ? TurnRestCredentials.userOf(username) : "";
      return user.isEmpty() ? username : user;
    }
  }

  /** An error the request earned before authenticating: code, reason, and whether to count it as an auth failure. */
  record Refusal(int code, String reason, boolean failure) {}

  /** Either an identity or a refusal. */
  record Outcome(Identity identity, Refusal refusal) {}

  private final RelayConfig config;
  private final Nonces nonces;
  private final Clock clock;
  private final Map<String, byte[]> staticKeys = new HashMap<>();

  Authenticator(RelayConfig config, Nonces nonces, Clock clock) {
    this.config = config;
    this.nonces = nonces;
    this.clock = clock;
    config.users().forEach((u, p) -> staticKeys.put(u, LongTermCredentials.md5Key(u, config.realm(), p)));
  }

  Outcome authenticate(StunMessage req, String clientIp) {
    boolean sha1 = req.hasIntegrity();
    boolean sha256 = req.hasIntegritySha256();
    if (!sha1 && !sha256) {
      return refuse(ErrorCode.UNAUTHORIZED, "Unauthorized", false);
    }
    String username = req.getString(StunAttributes.USERNAME);
    String realm = req.getString(StunAttributes.REALM);
    String nonce = req.getString(StunAttributes.NONCE);
    if (username == null || realm == null || nonce == null) {
      return refuse(ErrorCode.BAD_REQUEST, "Bad Request: USERNAME, REALM and NONCE are required", false);
    }
    byte[] key = staticKeys.get(username);
    boolean rest = key == null;
    if (rest) {
      long expiry = config.restSecret() == null ? -1 : TurnRestCredentials.expiryOf(username);
      if (expiry < 0) {
        return refuse(ErrorCode.UNAUTHORIZED, "Unauthorized: unknown user", true);
      }
      if (expiry <= clock.millis() / 1000) {
        return refuse(ErrorCode.UNAUTHORIZED, "Unauthorized: credentials expired", true);
      }
      key = LongTermCredentials.md5Key(username, config.realm(),
          TurnRestCredentials.password(config.restSecret(), username));
    }
    // RFC 8489 9.2.4: when both are present, MESSAGE-INTEGRITY-SHA256 is the one checked.
    boolean ok = sha256 ? req.verifyIntegritySha256(key) : req.verifyIntegrity(key);
    if (!ok) {
      return refuse(ErrorCode.UNAUTHORIZED, "Unauthorized: bad integrity", true);
    }
    if (nonces.check(nonce, clientIp) != Nonces.Check.VALID) {
      return refuse(ErrorCode.STALE_NONCE, "Stale Nonce", false);
    }
    return new Outcome(new Identity(username, key, sha1 && !sha256, sha256, rest), null);
  }

  /** A fresh nonce for the REALM/NONCE pair that 401 and 438 answers carry. */
  String nonceFor(String clientIp) {
    return nonces.issue(clientIp);
  }

  private static Outcome refuse(int code, String reason, boolean failure) {
    return new Outcome(null, new Refusal(code, reason, failure));
  }
}
