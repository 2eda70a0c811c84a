package io.introducer.rendezvous;

import io.introducer.protocol.Hmac;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * TURN REST credentials (draft-uberti-behave-turn-rest, as coturn and our relay check them) minted for one peer:
 * username {@code "<expiry unix seconds>:<peer id>"}, password {@code base64(HMAC-SHA1(secret, username))}. A
 * few lines kept here rather than a dependency on the relay module, so the introducer and the relay stay
 * independent; the format is the contract.
 */
record RelayCredentials(String username, String password, long expiresAtEpochSecond) {

  static RelayCredentials mint(String secret, String peerId, long nowEpochSecond, int ttlSeconds) {
    long expiry = nowEpochSecond + ttlSeconds;
    String username = expiry + ":" + peerId;
    return new RelayCredentials(username, password(secret, username), expiry);
  }

  static String password(String secret, String username) {
    return Base64.getEncoder().encodeToString(
        Hmac.sha1(secret.getBytes(StandardCharsets.UTF_8), username.getBytes(StandardCharsets.UTF_8)));
  }

  @Override
  public String toString() {
    return "RelayCredentials[username=" + username + ", password=***]";
  }
}
