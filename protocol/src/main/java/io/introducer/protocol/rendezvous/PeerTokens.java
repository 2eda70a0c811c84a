package io.introducer.protocol.rendezvous;

import io.introducer.protocol.Hmac;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

/**
 * Peer tokens (docs/PROTOCOL.md section 3): what a game's backend hands one client so that it can sign requests
 * as its own peer id, and as no other, until an expiry. A token is
 * {@code base64url(expiry || HMAC-SHA256(app secret, "introducer-peer-token|" + app + "|" + peer + "|" + expiry))},
 * expiry being Unix seconds, 8 bytes big-endian in the token and decimal in the HMAC input. The client signs with
 * the HMAC part ({@link Token#key()}) and sends the expiry as TOKEN-EXPIRY; the introducer, which knows the app
 * secret, derives the same key from the request's ids and TOKEN-EXPIRY ({@link #key}) and refuses expired tokens.
 *
 * <p>For game backends, which mint one per client login:
 * <pre>{@code
 * String token = PeerTokens.mint(appSecret, "mygame", playerId, Instant.now().plus(Duration.ofHours(1)).getEpochSecond());
 * }</pre>
 */
public final class PeerTokens {
  /** Bytes of the expiry at the start of a token. */
  public static final int EXPIRY_LENGTH = 8;
  /** Bytes of a decoded token: the expiry then the 32-byte key. */
  public static final int TOKEN_LENGTH = EXPIRY_LENGTH + 32;

  private PeerTokens() {}

  /** A parsed token: when it expires (Unix seconds) and the key to sign requests with. */
  public record Token(long expiryEpochSeconds, byte[] key) {
    public Token {
      key = key.clone();
    }

    @Override
    public byte[] key() {
      return key.clone();
    }

    @Override
    public String toString() {
      return "Token[expiry=" + expiryEpochSeconds + ", key=***]";
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Token t && t.expiryEpochSeconds == expiryEpochSeconds && Arrays.equals(t.key, key);
    }

    @Override
    public int hashCode() {
      return Long.hashCode(expiryEpochSeconds) * 31 + Arrays.hashCode(key);
    }
  }

  /**
   * Mints the token of {@code peerId} in {@code appId}, valid until {@code expiryEpochSeconds} (Unix seconds).
   *
   * @throws IllegalArgumentException for an empty secret, an invalid app or peer id, or an expiry that is not
   *     positive
   */
  public static String mint(String appSecret, String appId, String peerId, long expiryEpochSeconds) {
    byte[] key = key(appSecret, appId, peerId, expiryEpochSeconds);
    ByteBuffer b = ByteBuffer.allocate(TOKEN_LENGTH).putLong(expiryEpochSeconds).put(key);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  /**
   * The key a token holder signs with: HMAC-SHA256(app secret, "introducer-peer-token|app|peer|expiry"), expiry in
   * decimal. What the introducer verifies a request carrying TOKEN-EXPIRY with.
   */
  public static byte[] key(String appSecret, String appId, String peerId, long expiryEpochSeconds) {
    if (appSecret == null || appSecret.isEmpty()) {
      throw new IllegalArgumentException("the app secret must not be empty");
    }
    if (!Rendezvous.isValidId(appId) || !Rendezvous.isValidId(peerId)) {
      throw new IllegalArgumentException("invalid app or peer id");
    }
    if (expiryEpochSeconds <= 0) {
      throw new IllegalArgumentException("the expiry must be positive Unix seconds, got " + expiryEpochSeconds);
    }
    return Hmac.sha256(appSecret.getBytes(StandardCharsets.UTF_8),
        ("introducer-peer-token|" + appId + "|" + peerId + "|" + expiryEpochSeconds).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Reads a token as {@link #mint} writes it (base64url, padding optional; the standard alphabet is accepted too).
   * Does not check the expiry against any clock: the introducer does.
   *
   * @throws IllegalArgumentException when it is not 40 bytes of base64 or its expiry is not positive
   */
  public static Token parse(String token) {
    if (token == null) {
      throw new IllegalArgumentException("no token");
    }
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(token.trim().replace('+', '-').replace('/', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("a peer token is base64url text", e);
    }
    if (raw.length != TOKEN_LENGTH) {
      throw new IllegalArgumentException("a peer token is " + TOKEN_LENGTH + " bytes, got " + raw.length);
    }
    ByteBuffer b = ByteBuffer.wrap(raw);
    long expiry = b.getLong();
    if (expiry <= 0) {
      throw new IllegalArgumentException("the token's expiry is not positive: " + expiry);
    }
    return new Token(expiry, Arrays.copyOfRange(raw, EXPIRY_LENGTH, TOKEN_LENGTH));
  }
}
