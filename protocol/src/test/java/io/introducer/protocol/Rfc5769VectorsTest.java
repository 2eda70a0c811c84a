package io.introducer.protocol;

import static io.introducer.protocol.Wire.hex;
import static io.introducer.protocol.Wire.ip;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * RFC 5769 "Test Vectors for STUN", section 2, byte for byte. Each vector's MESSAGE-INTEGRITY and
 * FINGERPRINT double as checksums of the transcription.
 */
class Rfc5769VectorsTest {
  /** ICE attributes (RFC 8445) present in the sample request; Introducer does not implement ICE. */
  static final int PRIORITY = 0x0024;
  static final int ICE_CONTROLLED = 0x8029;

  static final byte[] SHORT_TERM_KEY = "VOkJxbRl1RmTxUk/WvJxBt".getBytes(UTF_8);
  static final byte[] WRONG_KEY = "VOkJxbRl1RmTxUk/WvJxBT".getBytes(UTF_8);
  static final byte[] SAMPLE_TX = hex("b7e7a701 bc34d686 fa87dfae");

  /** Section 2.1: Binding request, short-term credentials, padding with spaces. */
  static final byte[] SAMPLE_REQUEST = hex("""
      00010058 2112a442 b7e7a701 bc34d686 fa87dfae
      80220010 5354554e 20746573 7420636c 69656e74
      00240004 6e0001ff
      80290008 932ff9b1 51263b36
      00060009 6576746a 3a683676 59202020
      00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2
      80280004 e57a3bcf
      """);

  /** Section 2.2: Binding success response, IPv4 XOR-MAPPED-ADDRESS. */
  static final byte[] SAMPLE_IPV4_RESPONSE = hex("""
      0101003c 2112a442 b7e7a701 bc34d686 fa87dfae
      8022000b 74657374 20766563 746f7220
      00200008 0001a147 e112a643
      00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7
      80280004 c07d4c96
      """);

  /** Section 2.3: Binding success response, IPv6 XOR-MAPPED-ADDRESS. */
  static final byte[] SAMPLE_IPV6_RESPONSE = hex("""
      01010048 2112a442 b7e7a701 bc34d686 fa87dfae
      8022000b 74657374 20766563 746f7220
      00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9
      00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41
      80280004 c8fb0b4c
      """);

  /** Section 2.4: Binding request, long-term credentials, zero padding, no FINGERPRINT. */
  static final byte[] SAMPLE_LONG_TERM_REQUEST = hex("""
      00010060 2112a442 78ad3433 c6ad72c0 29da412e
      00060012 e3839ee3 8388e383 aae38383 e382afe3 82b90000
      0015001c 662f2f34 39396b39 35346436 4f4c3334 6f4c3946 53547679 36347341
      0014000b 6578616d 706c652e 6f726700
      00080014 f6702465 6dd64a3e 02b8e071 2e85c9a2 8ca89666
      """);

  static StunMessage decode(byte[] vector) throws StunParseException {
    return StunMessage.decode(vector.clone());
  }

  @Nested
  class SampleRequest {
    @Test
    void isABindingRequestWithTheVectorsTransactionId() throws Exception {
      StunMessage m = decode(SAMPLE_REQUEST);
      assertThat(m.is(StunMethods.BINDING, StunClass.REQUEST)).isTrue();
      assertThat(m.transactionId()).isEqualTo(SAMPLE_TX);
    }

    @Test
    void attributesDecodeToTheStatedValues() throws Exception {
      StunMessage m = decode(SAMPLE_REQUEST);
      assertThat(m.attributeTypes()).containsExactly(StunAttributes.SOFTWARE, PRIORITY, ICE_CONTROLLED,
          StunAttributes.USERNAME, StunAttributes.MESSAGE_INTEGRITY, StunAttributes.FINGERPRINT);
      assertThat(m.getString(StunAttributes.SOFTWARE)).isEqualTo("STUN test client");
      assertThat(m.getU32(PRIORITY)).isEqualTo(0x6e0001ffL);
      assertThat(m.getU64(ICE_CONTROLLED)).isEqualTo(0x932ff9b151263b36L);
      assertThat(m.getString(StunAttributes.USERNAME)).isEqualTo("evtj:h6vY");
    }

    @Test
    void fingerprintIsPresentAndValid() throws Exception {
      assertThat(decode(SAMPLE_REQUEST).hasFingerprint()).isTrue();
    }

    @Test
    void integrityVerifiesWithThePassword() throws Exception {
      assertThat(decode(SAMPLE_REQUEST).verifyIntegrity(SHORT_TERM_KEY)).isTrue();
    }

    @Test
    void integrityFailsWithAWrongPassword() throws Exception {
      assertThat(decode(SAMPLE_REQUEST).verifyIntegrity(WRONG_KEY)).isFalse();
    }

    @Test
    void icePriorityIsReportedAsAnUnknownComprehensionRequiredAttribute() throws Exception {
      assertThat(decode(SAMPLE_REQUEST).unknownComprehensionRequired()).containsExactly(PRIORITY);
    }

    @Test
    void builderReproducesTheVectorExactly() {
      byte[] encoded = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, SAMPLE_TX)
          .paddingByte(0x20)
          .addString(StunAttributes.SOFTWARE, "STUN test client")
          .addU32(PRIORITY, 0x6e0001ffL)
          .addU64(ICE_CONTROLLED, 0x932ff9b151263b36L)
          .addString(StunAttributes.USERNAME, "evtj:h6vY")
          .integrity(SHORT_TERM_KEY)
          .fingerprint()
          .encode();
      assertThat(hex(encoded)).isEqualTo(hex(SAMPLE_REQUEST));
    }
  }

  @Nested
  class Ipv4Response {
    final InetSocketAddress mapped = new InetSocketAddress(ip("192.0.2.1"), 32853);

    @Test
    void isABindingSuccessResponseWithTheVectorsTransactionId() throws Exception {
      StunMessage m = decode(SAMPLE_IPV4_RESPONSE);
      assertThat(m.is(StunMethods.BINDING, StunClass.SUCCESS_RESPONSE)).isTrue();
      assertThat(m.transactionId()).isEqualTo(SAMPLE_TX);
    }

    @Test
    void attributesDecodeToTheStatedValues() throws Exception {
      StunMessage m = decode(SAMPLE_IPV4_RESPONSE);
      assertThat(m.getString(StunAttributes.SOFTWARE)).isEqualTo("test vector");
      assertThat(m.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(mapped);
    }

    @Test
    void fingerprintIsPresentAndValid() throws Exception {
      assertThat(decode(SAMPLE_IPV4_RESPONSE).hasFingerprint()).isTrue();
    }

    @Test
    void integrityVerifiesWithThePassword() throws Exception {
      assertThat(decode(SAMPLE_IPV4_RESPONSE).verifyIntegrity(SHORT_TERM_KEY)).isTrue();
    }

    @Test
    void integrityFailsWithAWrongPassword() throws Exception {
      assertThat(decode(SAMPLE_IPV4_RESPONSE).verifyIntegrity(WRONG_KEY)).isFalse();
    }

    @Test
    void builderReproducesTheVectorExactly() {
      byte[] encoded = StunMessage.builder(StunMethods.BINDING, StunClass.SUCCESS_RESPONSE, SAMPLE_TX)
          .paddingByte(0x20)
          .addString(StunAttributes.SOFTWARE, "test vector")
          .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, mapped)
          .integrity(SHORT_TERM_KEY)
          .fingerprint()
          .encode();
      assertThat(hex(encoded)).isEqualTo(hex(SAMPLE_IPV4_RESPONSE));
    }
  }

  @Nested
  class Ipv6Response {
    final InetSocketAddress mapped = new InetSocketAddress(ip("2001:db8:1234:5678:11:2233:4455:6677"), 32853);

    @Test
    void isABindingSuccessResponseWithTheVectorsTransactionId() throws Exception {
      StunMessage m = decode(SAMPLE_IPV6_RESPONSE);
      assertThat(m.is(StunMethods.BINDING, StunClass.SUCCESS_RESPONSE)).isTrue();
      assertThat(m.transactionId()).isEqualTo(SAMPLE_TX);
    }

    @Test
    void attributesDecodeToTheStatedValues() throws Exception {
      StunMessage m = decode(SAMPLE_IPV6_RESPONSE);
      assertThat(m.getString(StunAttributes.SOFTWARE)).isEqualTo("test vector");
      assertThat(m.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(mapped);
    }

    @Test
    void fingerprintIsPresentAndValid() throws Exception {
      assertThat(decode(SAMPLE_IPV6_RESPONSE).hasFingerprint()).isTrue();
    }

    @Test
    void integrityVerifiesWithThePassword() throws Exception {
      assertThat(decode(SAMPLE_IPV6_RESPONSE).verifyIntegrity(SHORT_TERM_KEY)).isTrue();
    }

    @Test
    void integrityFailsWithAWrongPassword() throws Exception {
      assertThat(decode(SAMPLE_IPV6_RESPONSE).verifyIntegrity(WRONG_KEY)).isFalse();
    }

    @Test
    void builderReproducesTheVectorExactly() {
      byte[] encoded = StunMessage.builder(StunMethods.BINDING, StunClass.SUCCESS_RESPONSE, SAMPLE_TX)
          .paddingByte(0x20)
          .addString(StunAttributes.SOFTWARE, "test vector")
          .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, mapped)
          .integrity(SHORT_TERM_KEY)
          .fingerprint()
          .encode();
      assertThat(hex(encoded)).isEqualTo(hex(SAMPLE_IPV6_RESPONSE));
    }
  }

  @Nested
  class LongTermRequest {
    /** "マトリックス" (U+30DE U+30C8 U+30EA U+30C3 U+30AF U+30B9). */
    static final String USERNAME = "\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9";
    static final String REALM = "example.org";
    static final String NONCE = "f//499k954d6OL34oL9FSTvy64sA";
    static final byte[] TX = hex("78ad3433 c6ad72c0 29da412e");
    final byte[] key = LongTermCredentials.md5Key(USERNAME, REALM, "TheMatrIX");

    @Test
    void isABindingRequestWithTheVectorsTransactionId() throws Exception {
      StunMessage m = decode(SAMPLE_LONG_TERM_REQUEST);
      assertThat(m.is(StunMethods.BINDING, StunClass.REQUEST)).isTrue();
      assertThat(m.transactionId()).isEqualTo(TX);
    }

    @Test
    void attributesDecodeToTheStatedValues() throws Exception {
      StunMessage m = decode(SAMPLE_LONG_TERM_REQUEST);
      assertThat(m.getString(StunAttributes.USERNAME)).isEqualTo(USERNAME);
      assertThat(m.getString(StunAttributes.NONCE)).isEqualTo(NONCE);
      assertThat(m.getString(StunAttributes.REALM)).isEqualTo(REALM);
    }

    @Test
    void carriesNoFingerprint() throws Exception {
      assertThat(decode(SAMPLE_LONG_TERM_REQUEST).hasFingerprint()).isFalse();
    }

    @Test
    void integrityVerifiesWithTheLongTermMd5Key() throws Exception {
      assertThat(decode(SAMPLE_LONG_TERM_REQUEST).verifyIntegrity(key)).isTrue();
    }

    @Test
    void integrityFailsWithAKeyFromAWrongPassword() throws Exception {
      byte[] wrong = LongTermCredentials.md5Key(USERNAME, REALM, "thematrix");
      assertThat(decode(SAMPLE_LONG_TERM_REQUEST).verifyIntegrity(wrong)).isFalse();
    }

    @Test
    void integrityFailsWithThePasswordUsedAsAShortTermKey() throws Exception {
      assertThat(decode(SAMPLE_LONG_TERM_REQUEST).verifyIntegrity("TheMatrIX".getBytes(UTF_8))).isFalse();
    }

    @Test
    void builderReproducesTheVectorExactly() {
      byte[] encoded = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, TX)
          .addString(StunAttributes.USERNAME, USERNAME)
          .addString(StunAttributes.NONCE, NONCE)
          .addString(StunAttributes.REALM, REALM)
          .integrity(key)
          .encode();
      assertThat(hex(encoded)).isEqualTo(hex(SAMPLE_LONG_TERM_REQUEST));
    }
  }
}
