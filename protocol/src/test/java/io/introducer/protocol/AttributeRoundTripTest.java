package io.introducer.protocol;

import static io.introducer.protocol.Wire.hex;
import static io.introducer.protocol.Wire.ip;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every builder helper decodes back to what was put in, with the wire layout RFC 8489 section 14 gives. */
class AttributeRoundTripTest {
  static final byte[] TX = Wire.transactionId(3);
  static final InetSocketAddress V4 = new InetSocketAddress(ip("198.51.100.7"), 40000);
  static final InetSocketAddress V6 = new InetSocketAddress(ip("2001:db8::ab:cdef"), 65535);

  static StunMessage.Builder builder() {
    return StunMessage.builder(StunMethods.BINDING, StunClass.SUCCESS_RESPONSE, TX);
  }

  static StunMessage roundTrip(StunMessage.Builder b) throws StunParseException {
    return StunMessage.decode(b.encode());
  }

  @ParameterizedTest
  @ValueSource(strings = {"alice", "", "a", "abcd", "\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9", "caf\u00E9 \uD83C\uDFAE"})
  void addStringRoundTripsUtf8(String value) throws Exception {
    StunMessage m = roundTrip(builder().addString(StunAttributes.PEER_ID, value));
    assertThat(m.getString(StunAttributes.PEER_ID)).isEqualTo(value);
    assertThat(m.get(StunAttributes.PEER_ID)).isEqualTo(value.getBytes(UTF_8));
  }

  @Test
  void valuesArePaddedWithZerosByDefault() {
    byte[] encoded = builder().addString(StunAttributes.SOFTWARE, "x").encode();
    assertThat(Arrays.copyOfRange(encoded, 20, 28)).isEqualTo(hex("80220001 78000000"));
  }

  @Test
  void paddingByteIsUsedForPaddingOnly() throws Exception {
    byte[] encoded = builder().paddingByte(0x20).addString(StunAttributes.SOFTWARE, "x").encode();
    assertThat(Arrays.copyOfRange(encoded, 20, 28)).isEqualTo(hex("80220001 78202020"));
    assertThat(StunMessage.decode(encoded).getString(StunAttributes.SOFTWARE)).isEqualTo("x");
  }

  @ParameterizedTest
  @ValueSource(longs = {0L, 1L, 30_000L, 0x7FFFFFFFL, 0xFFFFFFFFL})
  void addU32RoundTripsUnsigned(long value) throws Exception {
    StunMessage m = roundTrip(builder().addU32(StunAttributes.REGISTRATION_LIFETIME, value));
    assertThat(m.getU32(StunAttributes.REGISTRATION_LIFETIME)).isEqualTo(value);
  }

  @Test
  void getU32IsMinusOneWhenAbsentOrNotFourBytes() throws Exception {
    StunMessage m = roundTrip(builder().add(StunAttributes.PUNCH_WINDOW, new byte[3]));
    assertThat(m.getU32(StunAttributes.PUNCH_WINDOW)).isEqualTo(-1);
    assertThat(m.getU32(StunAttributes.REGISTRATION_LIFETIME)).isEqualTo(-1);
  }

  @ParameterizedTest
  @ValueSource(longs = {0L, 1_700_000_000_000L, -1L, Long.MIN_VALUE, Long.MAX_VALUE})
  void addU64RoundTripsAllSixtyFourBits(long value) throws Exception {
    StunMessage m = roundTrip(builder().addU64(StunAttributes.TIMESTAMP, value));
    assertThat(m.getU64(StunAttributes.TIMESTAMP)).isEqualTo(value);
  }

  @Test
  void getU64IsNullWhenAbsentOrNotEightBytes() throws Exception {
    StunMessage m = roundTrip(builder().add(StunAttributes.TIMESTAMP, new byte[4]));
    assertThat(m.getU64(StunAttributes.TIMESTAMP)).isNull();
    assertThat(m.getU64(StunAttributes.SESSION_ID)).isNull();
  }

  @Test
  void addXorAddressRoundTripsIpv4() throws Exception {
    StunMessage m = roundTrip(builder().addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, V4));
    assertThat(m.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(V4);
  }

  @Test
  void addXorAddressRoundTripsIpv6() throws Exception {
    StunMessage m = roundTrip(builder().addXorAddress(StunAttributes.XOR_PEER_ADDRESS, V6));
    assertThat(m.getXorAddress(StunAttributes.XOR_PEER_ADDRESS)).isEqualTo(V6);
  }

  @Test
  void xorAddressPortAndIpv4AreXoredWithTheCookie() throws Exception {
    byte[] v = roundTrip(builder().addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, V4))
        .get(StunAttributes.XOR_MAPPED_ADDRESS);
    // 40000 = 0x9C40 ^ 0x2112 = 0xBD52; 198.51.100.7 = c6336407 ^ 2112a442 = e721c045
    assertThat(v).isEqualTo(hex("0001bd52 e721c045"));
  }

  @Test
  void xorIpv6AddressDependsOnTheTransactionId() throws Exception {
    byte[] value = StunAddress.encodeXor(V6, TX);
    byte[] otherTx = Wire.transactionId(4);
    byte[] otherSource = new byte[20];
    System.arraycopy(otherTx, 0, otherSource, 8, 12);
    assertThat(StunAddress.decodeXor(value, 0, value.length, otherSource, 8)).isNotEqualTo(V6);
  }

  @Test
  void addAddressRoundTripsIpv4WithThePlainLayout() throws Exception {
    StunMessage m = roundTrip(builder().addAddress(StunAttributes.MAPPED_ADDRESS, V4));
    assertThat(m.getAddress(StunAttributes.MAPPED_ADDRESS)).isEqualTo(V4);
    assertThat(m.get(StunAttributes.MAPPED_ADDRESS)).isEqualTo(hex("00019c40 c6336407"));
  }

  @Test
  void addAddressRoundTripsIpv6() throws Exception {
    StunMessage m = roundTrip(builder().addAddress(StunAttributes.OTHER_ADDRESS, V6));
    assertThat(m.getAddress(StunAttributes.OTHER_ADDRESS)).isEqualTo(V6);
    assertThat(m.get(StunAttributes.OTHER_ADDRESS)).hasSize(20);
  }

  @Test
  void addressGettersAreNullForAnUnknownFamilyOrWrongLength() throws Exception {
    StunMessage m = roundTrip(builder()
        .add(StunAttributes.MAPPED_ADDRESS, hex("00039c40 c6336407"))
        .add(StunAttributes.XOR_MAPPED_ADDRESS, hex("0001bd52 e721c0"))
        .add(StunAttributes.XOR_PEER_ADDRESS, hex("0002bd52 e721c045")));
    assertThat(m.getAddress(StunAttributes.MAPPED_ADDRESS)).isNull();
    assertThat(m.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isNull();
    assertThat(m.getXorAddress(StunAttributes.XOR_PEER_ADDRESS)).isNull();
    assertThat(m.getAddress(StunAttributes.ALTERNATE_SERVER)).isNull();
  }

  @ParameterizedTest
  @ValueSource(ints = {300, 400, 401, 420, 438, 500, 699})
  void addErrorCodeRoundTripsClassAndNumber(int code) throws Exception {
    StunMessage m = roundTrip(builder().addErrorCode(code, "why"));
    assertThat(m.errorCode()).isEqualTo(new ErrorCode(code, "why"));
    byte[] v = m.get(StunAttributes.ERROR_CODE);
    assertThat(v[2]).isEqualTo((byte) (code / 100));
    assertThat(v[3]).isEqualTo((byte) (code % 100));
  }

  @ParameterizedTest
  @ValueSource(ints = {299, 700, 0, -420})
  void addErrorCodeRejectsCodesOutside300To699(int code) {
    assertThatThrownBy(() -> builder().addErrorCode(code, "x")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void errorReasonIsCutAt763BytesOnACharacterBoundary() throws Exception {
    String reason = "\u00E9".repeat(400); // 800 bytes of two-byte characters
    StunMessage m = roundTrip(builder().addErrorCode(400, reason));
    assertThat(m.errorCode().reason()).isEqualTo("\u00E9".repeat(381));
  }

  @Test
  void errorCodeIsNullWhenAbsentOrShorterThanFourBytes() throws Exception {
    assertThat(roundTrip(builder()).errorCode()).isNull();
    assertThat(roundTrip(builder().add(StunAttributes.ERROR_CODE, new byte[3])).errorCode()).isNull();
  }

  @Test
  void addUnknownAttributesRoundTripsAnOddCountWithPadding() throws Exception {
    List<Integer> types = List.of(0x7F01, 0x0024, 0x7F02);
    byte[] encoded = builder().addUnknownAttributes(types).encode();
    assertThat(Arrays.copyOfRange(encoded, 20, 32)).isEqualTo(hex("000a0006 7f010024 7f020000"));
    assertThat(StunMessage.decode(encoded).unknownAttributes()).isEqualTo(types);
  }

  @Test
  void unknownAttributesIsEmptyWhenAbsent() throws Exception {
    assertThat(roundTrip(builder()).unknownAttributes()).isEmpty();
  }

  @Test
  void getAllReturnsRepeatedAttributesInOrderAndGetReturnsTheFirst() throws Exception {
    StunMessage m = roundTrip(builder()
        .add(StunAttributes.CANDIDATE, hex("01"))
        .addString(StunAttributes.SOFTWARE, "between")
        .add(StunAttributes.CANDIDATE, hex("0203"))
        .add(StunAttributes.CANDIDATE, hex("")));
    assertThat(m.getAll(StunAttributes.CANDIDATE)).containsExactly(hex("01"), hex("0203"), hex(""));
    assertThat(m.get(StunAttributes.CANDIDATE)).isEqualTo(hex("01"));
    assertThat(m.attributeTypes()).containsExactly(StunAttributes.CANDIDATE, StunAttributes.SOFTWARE,
        StunAttributes.CANDIDATE, StunAttributes.CANDIDATE);
  }

  @Test
  void absentAttributesReadAsNullOrEmpty() throws Exception {
    StunMessage m = roundTrip(builder());
    assertThat(m.has(StunAttributes.SESSION_ID)).isFalse();
    assertThat(m.get(StunAttributes.SESSION_ID)).isNull();
    assertThat(m.getString(StunAttributes.PEER_ID)).isNull();
    assertThat(m.getAll(StunAttributes.CANDIDATE)).isEmpty();
    assertThat(m.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isNull();
  }

  @Test
  void returnedValuesAreCopies() throws Exception {
    StunMessage m = roundTrip(builder().add(StunAttributes.SESSION_ID, new byte[16]));
    m.get(StunAttributes.SESSION_ID)[0] = 9;
    m.getAll(StunAttributes.SESSION_ID).get(0)[1] = 9;
    m.bytes()[24] = 9;
    m.transactionId()[0] ^= 1;
    assertThat(m.get(StunAttributes.SESSION_ID)).isEqualTo(new byte[16]);
    assertThat(m.transactionId()).isEqualTo(TX);
  }

  @Test
  void builderCopiesTheValuesItIsGiven() throws Exception {
    byte[] value = new byte[16];
    StunMessage.Builder b = builder().add(StunAttributes.SESSION_ID, value);
    value[0] = 9;
    assertThat(roundTrip(b).get(StunAttributes.SESSION_ID)).isEqualTo(new byte[16]);
  }

  @Test
  void decodeCopiesTheDatagram() throws Exception {
    byte[] datagram = builder().addString(StunAttributes.PEER_ID, "alice").encode();
    StunMessage m = StunMessage.decode(datagram);
    datagram[24] = 'A';
    assertThat(m.getString(StunAttributes.PEER_ID)).isEqualTo("alice");
  }

  @Test
  void decodeReadsAMessageAtAnOffsetInALargerBuffer() throws Exception {
    byte[] message = builder().addString(StunAttributes.PEER_ID, "alice").fingerprint().encode();
    byte[] buffer = new byte[message.length + 10];
    System.arraycopy(message, 0, buffer, 7, message.length);
    StunMessage m = StunMessage.decode(buffer, 7, message.length);
    assertThat(m.bytes()).isEqualTo(message);
    assertThat(StunMessage.looksLikeStun(buffer, 7, message.length)).isTrue();
  }

  @Test
  void builderRejectsAValueLongerThanTheSixteenBitLengthField() {
    assertThatThrownBy(() -> builder().add(StunAttributes.DATA, new byte[0x10000]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void encodeRefusesAMessageLargerThanAUdpPayload() {
    // 20 + 4 + 65476 (65473 padded) + 8 = 65508 bytes: one more word than fits
    StunMessage.Builder b = builder().add(StunAttributes.DATA, new byte[65473]).fingerprint();
    assertThatThrownBy(b::encode).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void encodeAcceptsTheLargestMessageThatFitsAUdpPayload() throws Exception {
    // STUN messages are 20 + 4k bytes; the largest within 65507 is 65504
    byte[] encoded = builder().add(StunAttributes.DATA, new byte[65472]).fingerprint().encode();
    assertThat(encoded).hasSize(65504);
    assertThat(StunMessage.decode(encoded).get(StunAttributes.DATA)).hasSize(65472);
  }
}
