package io.introducer.protocol;

import static io.introducer.protocol.Wire.attr;
import static io.introducer.protocol.Wire.hex;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.security.MessageDigest;
import java.util.Arrays;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** MESSAGE-INTEGRITY-SHA256 (RFC 8489 section 14.6) and the sample request of its Appendix B.1. */
class Rfc8489VectorTest {

  /**
   * RFC 8489 Appendix B.1 with erratum 6268 applied (the published dump is not self-consistent).
   * These bytes check out independently: USERHASH is SHA-256(username ":" realm) and the MAC is keyed
   * with SHA-256(username ":" realm ":" password), as PASSWORD-ALGORITHM 0x0002 (SHA-256) asks.
   */
  @Nested
  class AppendixB1 {
    static final String USERNAME = "\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9";
    static final String REALM = "example.org";
    static final String PASSWORD = "TheMatrIX";
    static final String NONCE = "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA";
    static final byte[] TX = hex("78ad3433 c6ad72c0 29da412e");
    static final byte[] PASSWORD_ALGORITHM_SHA256 = hex("0002 0000");

    static final byte[] VECTOR = hex("""
        00010090 2112a442 78ad3433 c6ad72c0 29da412e
        001e0020 4a3cf38f ef6992bd a952c678 0417da0f 24819415 569e60b2 05c46e41 407f1704
        00150029 6f624d61 744a6f73 32414141 43662f2f 3439396b 39353464 364f4c33 346f4c39
                 46535476 79363473 41000000
        0014000b 6578616d 706c652e 6f726700
        001d0004 00020000
        001c0020 b5c7bf00 5b6c52a2 1c51c5e8 92f81924 136296cb 927c4314 9309278c c6518e65
        """);

    final byte[] sha256Key = sha256(USERNAME + ":" + REALM + ":" + PASSWORD);

    @Test
    void attributesDecodeToTheStatedValues() throws Exception {
      StunMessage m = StunMessage.decode(VECTOR.clone());
      assertThat(m.is(StunMethods.BINDING, StunClass.REQUEST)).isTrue();
      assertThat(m.transactionId()).isEqualTo(TX);
      assertThat(m.getString(StunAttributes.NONCE)).isEqualTo(NONCE);
      assertThat(m.getString(StunAttributes.REALM)).isEqualTo(REALM);
      assertThat(m.get(StunAttributes.PASSWORD_ALGORITHM)).isEqualTo(PASSWORD_ALGORITHM_SHA256);
    }

    @Test
    void userhashIsTheSha256OfUsernameAndRealm() throws Exception {
      StunMessage m = StunMessage.decode(VECTOR.clone());
      assertThat(m.get(StunAttributes.USERHASH)).isEqualTo(sha256(USERNAME + ":" + REALM));
    }

    @Test
    void carriesOnlyTheSha256Integrity() throws Exception {
      StunMessage m = StunMessage.decode(VECTOR.clone());
      assertThat(m.hasIntegritySha256()).isTrue();
      assertThat(m.hasIntegrity()).isFalse();
      assertThat(m.hasFingerprint()).isFalse();
    }

    @Test
    void integritySha256VerifiesWithTheSha256Key() throws Exception {
      assertThat(StunMessage.decode(VECTOR.clone()).verifyIntegritySha256(sha256Key)).isTrue();
    }

    @Test
    void integritySha256FailsWithTheMd5Key() throws Exception {
      byte[] md5Key = LongTermCredentials.md5Key(USERNAME, REALM, PASSWORD);
      assertThat(StunMessage.decode(VECTOR.clone()).verifyIntegritySha256(md5Key)).isFalse();
    }

    @Test
    void builderReproducesTheVectorExactly() {
      byte[] encoded = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, TX)
          .add(StunAttributes.USERHASH, sha256(USERNAME + ":" + REALM))
          .addString(StunAttributes.NONCE, NONCE)
          .addString(StunAttributes.REALM, REALM)
          .add(StunAttributes.PASSWORD_ALGORITHM, PASSWORD_ALGORITHM_SHA256)
          .integritySha256(sha256Key)
          .encode();
      assertThat(hex(encoded)).isEqualTo(hex(VECTOR));
    }
  }

  @Nested
  class IndependentHmac {
    final byte[] key = "k-peer".getBytes(UTF_8);
    final byte[] unsigned = StunMessage.builder(StunMethods.REGISTER, StunClass.REQUEST, Wire.transactionId(7))
        .addString(StunAttributes.APP_ID, "game")
        .addString(StunAttributes.PEER_ID, "alice")
        .addU64(StunAttributes.TIMESTAMP, 1_700_000_000_000L)
        .encode();

    @Test
    void builderMacIsHmacSha256OverThePrefixWithTheLengthAdjustedToEndAtTheAttribute() {
      byte[] signed = StunMessage.builder(StunMethods.REGISTER, StunClass.REQUEST, Wire.transactionId(7))
          .addString(StunAttributes.APP_ID, "game")
          .addString(StunAttributes.PEER_ID, "alice")
          .addU64(StunAttributes.TIMESTAMP, 1_700_000_000_000L)
          .integritySha256(key)
          .fingerprint()
          .encode();
      int at = unsigned.length;
      byte[] expectedMac = hmacSha256(key, Wire.withLengthField(unsigned, at + 36 - 20));
      assertThat(Arrays.copyOfRange(signed, 0, at)).isEqualTo(Wire.withLengthField(unsigned, signed.length - 20));
      assertThat(Arrays.copyOfRange(signed, at, at + 4)).isEqualTo(hex("001c0020"));
      assertThat(Arrays.copyOfRange(signed, at + 4, at + 36)).isEqualTo(expectedMac);
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {16, 20, 24, 28, 32})
    void truncatedMacVerifies(int macLength) throws Exception {
      StunMessage m = StunMessage.decode(signedBy(key, macLength));
      assertThat(m.verifyIntegritySha256(key)).isTrue();
    }

    @Test
    void truncatedMacFailsUnderAnotherKey() throws Exception {
      StunMessage m = StunMessage.decode(signedBy(key, 16));
      assertThat(m.verifyIntegritySha256("other".getBytes(UTF_8))).isFalse();
    }

    @Test
    void truncatedMacWithAFlippedBitFails() throws Exception {
      byte[] signed = signedBy(key, 16);
      signed[signed.length - 1] ^= 0x01;
      assertThat(StunMessage.decode(signed).verifyIntegritySha256(key)).isFalse();
    }

    @Test
    void macFailsWhenACoveredAttributeChanges() throws Exception {
      byte[] signed = signedBy(key, 32);
      int peerIdValue = 20 + 8 + 4; // APP-ID "game" takes 8 bytes; PEER-ID's value follows its header
      signed[peerIdValue] = 'A';
      StunMessage m = StunMessage.decode(signed);
      assertThat(m.getString(StunAttributes.PEER_ID)).isEqualTo("Alice");
      assertThat(m.verifyIntegritySha256(key)).isFalse();
    }

    @Test
    void absentMacNeverVerifies() throws Exception {
      assertThat(StunMessage.decode(unsigned.clone()).verifyIntegritySha256(key)).isFalse();
    }

    @Test
    void sha1AndSha256IntegrityBothVerifyWhenBothArePresent() throws Exception {
      byte[] both = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST)
          .addString(StunAttributes.USERNAME, "u")
          .integrity(key)
          .integritySha256(key)
          .fingerprint()
          .encode();
      StunMessage m = StunMessage.decode(both);
      assertThat(m.attributeTypes()).containsExactly(StunAttributes.USERNAME, StunAttributes.MESSAGE_INTEGRITY,
          StunAttributes.MESSAGE_INTEGRITY_SHA256, StunAttributes.FINGERPRINT);
      assertThat(m.verifyIntegrity(key)).isTrue();
      assertThat(m.verifyIntegritySha256(key)).isTrue();
    }

    /** {@link #unsigned} plus a MESSAGE-INTEGRITY-SHA256 of {@code macLength} bytes computed here. */
    byte[] signedBy(byte[] k, int macLength) {
      byte[] mac = hmacSha256(k, Wire.withLengthField(unsigned, unsigned.length + 4 + macLength - 20));
      return Wire.append(unsigned, attr(StunAttributes.MESSAGE_INTEGRITY_SHA256, Arrays.copyOf(mac, macLength)));
    }
  }

  static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  static byte[] hmacSha256(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (java.security.GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }
}
