package io.introducer.protocol;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** HMAC and digest helpers. Mac instances are not thread-safe, so each thread keeps its own. */
public final class Hmac {
  private static final ThreadLocal<Mac> SHA1 = ThreadLocal.withInitial(() -> mac("HmacSHA1"));
  private static final ThreadLocal<Mac> SHA256 = ThreadLocal.withInitial(() -> mac("HmacSHA256"));

  private Hmac() {}

  public static byte[] sha1(byte[] key, byte[] data) {
    return run(SHA1.get(), "HmacSHA1", key, data);
  }

  public static byte[] sha256(byte[] key, byte[] data) {
    return run(SHA256.get(), "HmacSHA256", key, data);
  }

  public static byte[] sha256(byte[] key, byte[]... parts) {
    Mac m = SHA256.get();
    init(m, "HmacSHA256", key);
    for (byte[] p : parts) {
      m.update(p);
    }
    return m.doFinal();
  }

  public static byte[] md5(byte[] data) {
    try {
      return MessageDigest.getInstance("MD5").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("MD5 missing from this JRE", e);
    }
  }

  private static byte[] run(Mac m, String alg, byte[] key, byte[] data) {
    init(m, alg, key);
    return m.doFinal(data);
  }

  private static void init(Mac m, String alg, byte[] key) {
    try {
      // An empty key is legal for HMAC but SecretKeySpec refuses it; one zero byte is equivalent.
      m.init(new SecretKeySpec(key.length == 0 ? new byte[1] : key, alg));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Mac mac(String alg) {
    try {
      return Mac.getInstance(alg);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(alg + " missing from this JRE", e);
    }
  }
}
