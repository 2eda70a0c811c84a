package io.introducer.protocol;

import static io.introducer.protocol.Wire.attr;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a receiver drops (docs/PROTOCOL.md section 1, RFC 8489 sections 6.3 and 14): each case is a
 * {@link StunParseException} with a stable {@link StunParseException#reason()} for the drop counters.
 */
class MalformedInputTest {
  static final byte[] TX = Wire.transactionId(5);
  static final int BINDING_REQUEST = 0x0001;
  static final byte[] KEY = "key".getBytes(UTF_8);

  /** A valid Binding request with one attribute, MESSAGE-INTEGRITY and FINGERPRINT. */
  static byte[] valid() {
    return StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, TX)
        .addString(StunAttributes.USERNAME, "user")
        .integrity(KEY)
        .fingerprint()
        .encode();
  }

  static String reasonFor(byte[] datagram) {
    StunParseException e = catchThrowableOfType(StunParseException.class, () -> StunMessage.decode(datagram));
    assertThat(e).as("decode should have refused the datagram").isNotNull();
    return e.reason();
  }

  @Test
  void theFixtureIsValid() throws Exception {
    assertThat(StunMessage.decode(valid()).verifyIntegrity(KEY)).isTrue();
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {0, 1, 4, 19})
  void shorterThanTheHeaderIsTruncated(int length) {
    assertThat(reasonFor(Arrays.copyOf(valid(), length))).isEqualTo("truncated");
  }

  @ParameterizedTest(name = "first byte {0}")
  @ValueSource(ints = {0x40, 0x80, 0xC0, 0xDA})
  void nonZeroFirstTwoBitsAreNotStun(int firstByte) {
    byte[] d = valid();
    d[0] = (byte) firstByte;
    assertThat(reasonFor(d)).isEqualTo("not-stun");
  }

  @Test
  void aWrongMagicCookieIsRefused() {
    byte[] d = valid();
    d[7] ^= 0x01;
    assertThat(reasonFor(d)).isEqualTo("bad-cookie");
  }

  @Test
  void anRfc3489MessageWithoutTheCookieIsRefused() {
    byte[] d = Wire.header(BINDING_REQUEST, 0, TX);
    Arrays.fill(d, 4, 8, (byte) 0x5A);
    assertThat(reasonFor(d)).isEqualTo("bad-cookie");
  }

  @Test
  void aLengthThatIsNotAMultipleOfFourIsRefused() {
    byte[] d = Wire.concat(Wire.header(BINDING_REQUEST, 6, TX), new byte[6]);
    assertThat(reasonFor(d)).isEqualTo("bad-length");
  }

  @Test
  void aLengthLongerThanTheDatagramIsRefused() {
    byte[] d = valid();
    assertThat(reasonFor(Arrays.copyOf(d, d.length - 4))).isEqualTo("bad-length");
  }

  @Test
  void trailingBytesBeyondTheLengthAreRefused() {
    byte[] d = valid();
    assertThat(reasonFor(Arrays.copyOf(d, d.length + 4))).isEqualTo("bad-length");
  }

  @Test
  void anAttributeOverrunningTheMessageIsRefused() {
    byte[] d = Wire.message(BINDING_REQUEST, TX, attr(StunAttributes.USERNAME, 9, "user".getBytes(UTF_8)));
    assertThat(reasonFor(d)).isEqualTo("attribute-overrun");
  }

  @Test
  void theLargestDeclaredAttributeLengthIsRefused() {
    byte[] d = Wire.message(BINDING_REQUEST, TX, attr(StunAttributes.DATA, 0xFFFF, new byte[4]));
    assertThat(reasonFor(d)).isEqualTo("attribute-overrun");
  }

  @Test
  void anAttributeAfterFingerprintIsRefused() {
    byte[] d = Wire.append(valid(), attr(StunAttributes.SOFTWARE, "late".getBytes(UTF_8)));
    assertThat(reasonFor(d)).isEqualTo("fingerprint-not-last");
  }

  @Test
  void aFlippedFingerprintBitIsRefused() {
    byte[] d = valid();
    d[d.length - 1] ^= 0x01;
    assertThat(reasonFor(d)).isEqualTo("bad-fingerprint");
  }

  @Test
  void aChangeToAnyFingerprintedByteIsRefused() {
    byte[] d = valid();
    d[24] = 'U'; // USERNAME "user" -> "User"
    assertThat(reasonFor(d)).isEqualTo("bad-fingerprint");
  }

  @Test
  void aFingerprintThatIsNotFourBytesIsRefused() {
    byte[] d = Wire.message(BINDING_REQUEST, TX, attr(StunAttributes.FINGERPRINT, new byte[8]));
    assertThat(reasonFor(d)).isEqualTo("bad-fingerprint");
  }

  @Test
  void aFingerprintComputedHereIsAccepted() throws Exception {
    byte[] d = Wire.appendFingerprint(Wire.message(BINDING_REQUEST, TX, attr(StunAttributes.USERNAME, new byte[5])));
    assertThat(StunMessage.decode(d).hasFingerprint()).isTrue();
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {0, 16, 19, 21, 32})
  void messageIntegrityOfAnyLengthButTwentyIsRefused(int length) {
    byte[] d = Wire.message(BINDING_REQUEST, TX, attr(StunAttributes.MESSAGE_INTEGRITY, new byte[length]));
    assertThat(reasonFor(d)).isEqualTo("bad-integrity-length");
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {0, 12, 15, 18, 33, 36, 64})
  void messageIntegritySha256OutsideSixteenToThirtyTwoOrUnalignedIsRefused(int length) {
    byte[] d = Wire.message(BINDING_REQUEST, TX, attr(StunAttributes.MESSAGE_INTEGRITY_SHA256, new byte[length]));
    assertThat(reasonFor(d)).isEqualTo("bad-integrity-length");
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {16, 20, 24, 28, 32})
  void messageIntegritySha256OfSixteenToThirtyTwoAlignedIsAccepted(int length) throws Exception {
    byte[] d = Wire.message(BINDING_REQUEST, TX, attr(StunAttributes.MESSAGE_INTEGRITY_SHA256, new byte[length]));
    assertThat(StunMessage.decode(d).hasIntegritySha256()).isTrue();
  }

  @Test
  void attributesAfterMessageIntegrityAreIgnoredAndItStillVerifies() throws Exception {
    byte[] signed = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, TX)
        .addString(StunAttributes.USERNAME, "user").integrity(KEY).encode();
    byte[] d = Wire.appendFingerprint(Wire.append(signed, attr(StunAttributes.SOFTWARE, "injected".getBytes(UTF_8))));
    StunMessage m = StunMessage.decode(d);
    assertThat(m.has(StunAttributes.SOFTWARE)).isFalse();
    assertThat(m.attributeTypes()).containsExactly(StunAttributes.USERNAME, StunAttributes.MESSAGE_INTEGRITY,
        StunAttributes.FINGERPRINT);
    assertThat(m.verifyIntegrity(KEY)).isTrue();
  }

  @Test
  void aSecondMessageIntegrityIsIgnoredEvenWithABadLength() throws Exception {
    byte[] signed = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, TX)
        .addString(StunAttributes.USERNAME, "user").integrity(KEY).encode();
    byte[] d = Wire.append(signed, attr(StunAttributes.MESSAGE_INTEGRITY, new byte[8]));
    StunMessage m = StunMessage.decode(d);
    assertThat(m.getAll(StunAttributes.MESSAGE_INTEGRITY)).hasSize(1);
    assertThat(m.verifyIntegrity(KEY)).isTrue();
  }

  @Test
  void messageIntegritySha256AfterMessageIntegrityIsKept() throws Exception {
    byte[] signed = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, TX).integrity(KEY).encode();
    byte[] d = Wire.append(signed, attr(StunAttributes.MESSAGE_INTEGRITY_SHA256, new byte[32]));
    assertThat(StunMessage.decode(d).hasIntegritySha256()).isTrue();
  }

  @Test
  void messageIntegrityAfterMessageIntegritySha256IsIgnored() throws Exception {
    byte[] signed = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, TX).integritySha256(KEY).encode();
    byte[] d = Wire.append(signed, attr(StunAttributes.MESSAGE_INTEGRITY, new byte[20]));
    StunMessage m = StunMessage.decode(d);
    assertThat(m.hasIntegrity()).isFalse();
    assertThat(m.verifyIntegritySha256(KEY)).isTrue();
  }

  @Test
  void unknownComprehensionRequiredAttributesAreReportedOnceEachInOrder() throws Exception {
    byte[] d = Wire.message(BINDING_REQUEST, TX, attr(0x7F02, new byte[4]), attr(StunAttributes.USERNAME, new byte[4]),
        attr(0x0024, new byte[4]), attr(0x7F02, new byte[0]));
    assertThat(StunMessage.decode(d).unknownComprehensionRequired()).containsExactly(0x7F02, 0x0024);
  }

  @Test
  void unknownComprehensionOptionalAttributesAreNotReported() throws Exception {
    byte[] d = Wire.message(BINDING_REQUEST, TX, attr(0x8FFF, new byte[4]), attr(0xFFFF, new byte[1]),
        attr(StunAttributes.NAT_PROFILE, new byte[0]));
    StunMessage m = StunMessage.decode(d);
    assertThat(m.unknownComprehensionRequired()).isEmpty();
    assertThat(m.get(0x8FFF)).hasSize(4);
  }

  @Test
  void knownComprehensionRequiredAttributesAreNotReported() throws Exception {
    StunMessage m = StunMessage.decode(StunMessage.builder(StunMethods.ALLOCATE, StunClass.REQUEST, TX)
        .addU32(StunAttributes.REQUESTED_TRANSPORT, 17L << 24)
        .addU32(StunAttributes.LIFETIME, 600)
        .add(StunAttributes.DONT_FRAGMENT, new byte[0])
        .addString(StunAttributes.USERNAME, "u")
        .encode());
    assertThat(m.unknownComprehensionRequired()).isEmpty();
  }

  @Test
  void unknownComprehensionRequiredAttributesAfterIntegrityAreIgnored() throws Exception {
    byte[] signed = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, TX).integrity(KEY).encode();
    byte[] d = Wire.append(signed, attr(0x7F01, new byte[4]));
    assertThat(StunMessage.decode(d).unknownComprehensionRequired()).isEmpty();
  }

  @Test
  void looksLikeStunChecksLengthFirstBitsAndCookie() {
    byte[] d = valid();
    assertThat(StunMessage.looksLikeStun(d, 0, d.length)).isTrue();
    assertThat(StunMessage.looksLikeStun(d, 0, 19)).isFalse();
    byte[] badBits = valid();
    badBits[0] = (byte) 0x80;
    assertThat(StunMessage.looksLikeStun(badBits, 0, badBits.length)).isFalse();
    byte[] badCookie = valid();
    badCookie[4] = 0;
    assertThat(StunMessage.looksLikeStun(badCookie, 0, badCookie.length)).isFalse();
  }
}
