package io.introducer.protocol;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;

/** Key derivation for the long-term credential mechanism (RFC 8489 section 9.2.2). */
public final class LongTermCredentials {
  private LongTermCredentials() {}

  /**
   * key = MD5(username ":" OpaqueString(realm) ":" OpaqueString(password)). OpaqueString (RFC 8265) is
   * approximated by NFC normalisation, which is exact for the ASCII and precomposed input seen in practice.
   */
  public static byte[] md5Key(String username, String realm, String password) {
    String s = username + ":" + opaque(realm) + ":" + opaque(password);
    return Hmac.md5(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String opaque(String s) {
    return Normalizer.normalize(s, Normalizer.Form.NFC);
  }
}
