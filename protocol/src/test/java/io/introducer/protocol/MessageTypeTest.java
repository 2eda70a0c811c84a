package io.introducer.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** The 14-bit message type: method and class bits interleaved (RFC 8489 section 5). */
class MessageTypeTest {
  static final int[] METHODS = {StunMethods.BINDING, StunMethods.ALLOCATE, StunMethods.REFRESH, StunMethods.SEND,
      StunMethods.DATA, StunMethods.CREATE_PERMISSION, StunMethods.CHANNEL_BIND, StunMethods.REGISTER,
      StunMethods.KEEPALIVE, StunMethods.CONNECT, StunMethods.INTRODUCE, StunMethods.PUNCH, StunMethods.RESULT,
      StunMethods.CLOSE, StunMethods.DEREGISTER, 0x000, 0xFFF};

  static Stream<Arguments> everyMethodInEveryClass() {
    List<Arguments> out = new ArrayList<>();
    for (int method : METHODS) {
      for (StunClass cls : StunClass.values()) {
        out.add(Arguments.of(method, cls));
      }
    }
    return out.stream();
  }

  /** Methods below 0x100 leave the type's top six bits clear (RFC 7983 relies on it). */
  static Stream<Arguments> methodsBelow0x100InEveryClass() {
    return everyMethodInEveryClass().filter(a -> (int) a.get()[0] < 0x100);
  }

  static int typeField(byte[] message) {
    return ((message[0] & 0xFF) << 8) | (message[1] & 0xFF);
  }

  static byte[] encode(int method, StunClass cls) {
    return StunMessage.builder(method, cls).encode();
  }

  @ParameterizedTest(name = "Binding {0} is 0x{1}")
  @CsvSource({"REQUEST, 0001", "INDICATION, 0011", "SUCCESS_RESPONSE, 0101", "ERROR_RESPONSE, 0111"})
  void bindingTypesMatchRfc8489(StunClass cls, String hexType) {
    assertThat(typeField(encode(StunMethods.BINDING, cls))).isEqualTo(Integer.parseInt(hexType, 16));
  }

  @ParameterizedTest(name = "method 0x{0} {1} is 0x{2}")
  @CsvSource({
      "060, REQUEST, 00C0", "060, SUCCESS_RESPONSE, 01C0", "061, REQUEST, 00C1", "062, ERROR_RESPONSE, 01D2",
      "063, REQUEST, 00C3", "064, SUCCESS_RESPONSE, 01C4", "065, REQUEST, 00C5", "066, INDICATION, 00D6",
      "067, SUCCESS_RESPONSE, 01C7", "003, REQUEST, 0003", "009, SUCCESS_RESPONSE, 0109", "FFF, ERROR_RESPONSE, 3FFF",
      "080, REQUEST, 0200"})
  void methodBitsAreSplitAroundTheClassBits(String method, StunClass cls, String hexType) {
    assertThat(typeField(encode(Integer.parseInt(method, 16), cls))).isEqualTo(Integer.parseInt(hexType, 16));
  }

  @ParameterizedTest(name = "method {0} {1}")
  @MethodSource("everyMethodInEveryClass")
  void methodAndClassSurviveARoundTrip(int method, StunClass cls) throws Exception {
    StunMessage m = StunMessage.decode(encode(method, cls));
    assertThat(m.method()).isEqualTo(method);
    assertThat(m.messageClass()).isEqualTo(cls);
    assertThat(m.is(method, cls)).isTrue();
  }

  @ParameterizedTest(name = "method {0} {1}")
  @MethodSource("methodsBelow0x100InEveryClass")
  void rendezvousAndStandardMethodsKeepTheFirstByteInTheStunRange(int method, StunClass cls) {
    assertThat(Demux.classify(encode(method, cls)[0])).isEqualTo(Demux.Kind.STUN);
  }

  @Test
  void methodsFrom0x100LeaveTheStunRangeOfTheFirstByte() {
    assertThat(encode(0x100, StunClass.REQUEST)[0]).isEqualTo((byte) 4);
    assertThat(Demux.classify(encode(0x100, StunClass.REQUEST)[0])).isEqualTo(Demux.Kind.OTHER);
  }

  @ParameterizedTest
  @EnumSource(StunClass.class)
  void onlySuccessAndErrorAreResponses(StunClass cls) {
    boolean response = cls == StunClass.SUCCESS_RESPONSE || cls == StunClass.ERROR_RESPONSE;
    assertThat(cls.isResponse()).isEqualTo(response);
  }

  @Test
  void anEmptyMessageIsTwentyBytesWithTheCookieAndTransactionId() throws Exception {
    byte[] tx = Wire.transactionId(1);
    byte[] encoded = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, tx).encode();
    assertThat(encoded).isEqualTo(Wire.header(0x0001, 0, tx));
    StunMessage m = StunMessage.decode(encoded);
    assertThat(m.transactionId()).isEqualTo(tx);
    assertThat(m.transactionKey()).isEqualTo(new TransactionId(tx));
    assertThat(m.attributeTypes()).isEmpty();
    assertThat(m.length()).isEqualTo(20);
  }

  @Test
  void freshTransactionIdsAreTwelveBytesAndDiffer() {
    byte[] a = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).transactionId();
    byte[] b = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).transactionId();
    assertThat(a).hasSize(12);
    assertThat(a).isNotEqualTo(b);
  }

  @Test
  void successForKeepsTheRequestsMethodAndTransactionId() throws Exception {
    StunMessage request = StunMessage.decode(encode(StunMethods.CONNECT, StunClass.REQUEST));
    StunMessage response = StunMessage.decode(StunMessage.successFor(request).encode());
    assertThat(response.is(StunMethods.CONNECT, StunClass.SUCCESS_RESPONSE)).isTrue();
    assertThat(response.transactionKey()).isEqualTo(request.transactionKey());
  }

  @Test
  void errorForKeepsTheRequestsMethodAndTransactionIdAndCarriesTheCode() throws Exception {
    StunMessage request = StunMessage.decode(encode(StunMethods.CONNECT, StunClass.REQUEST));
    StunMessage response = StunMessage.decode(StunMessage.errorFor(request, 404, "unknown peer").encode());
    assertThat(response.is(StunMethods.CONNECT, StunClass.ERROR_RESPONSE)).isTrue();
    assertThat(response.transactionKey()).isEqualTo(request.transactionKey());
    assertThat(response.errorCode()).isEqualTo(new ErrorCode(404, "unknown peer"));
  }

  @Test
  void builderRejectsMethodsOutsideTwelveBits() {
    assertThatThrownBy(() -> StunMessage.builder(0x1000, StunClass.REQUEST))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> StunMessage.builder(-1, StunClass.REQUEST))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void builderRejectsATransactionIdThatIsNotTwelveBytes() {
    assertThatThrownBy(() -> StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, new byte[11]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void builderCopiesTheTransactionIdItIsGiven() {
    byte[] tx = Wire.transactionId(2);
    StunMessage.Builder b = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, tx);
    tx[0] ^= 1;
    assertThat(b.transactionId()).isEqualTo(Wire.transactionId(2));
  }

  @Test
  void methodNamesCoverTheRendezvousMethods() {
    assertThat(StunMethods.name(StunMethods.REGISTER)).isEqualTo("Register");
    assertThat(StunMethods.name(StunMethods.DEREGISTER)).isEqualTo("Deregister");
    assertThat(StunMethods.name(0x0AB)).isEqualTo("0x0AB");
  }
}
