package io.introducer.rendezvous;

import static io.introducer.rendezvous.Fixtures.eventually;
import static io.introducer.rendezvous.RegistrationTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * RFC 8489 at the introducer (docs/PROTOCOL.md section 1): a malformed datagram is dropped silently and counted by
 * reason, whether it is a Binding or a signed rendezvous request; a well-formed request with an unknown
 * comprehension-required attribute is answered 420, once its sender is authenticated.
 */
@ExtendWith(VertxExtension.class)
class MalformedDatagramTest {
  private IntroducerVerticle introducer;
  private TestPeer alice;

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    introducer = Fixtures.deploy(vertx, Fixtures.config());
    alice = Fixtures.peer(introducer, "alice");
  }

  @AfterEach
  void close() {
    alice.close();
  }

  /** A signed REGISTER, or a Binding with FINGERPRINT: what each malformation is applied to. */
  private byte[] base(boolean register) {
    return register ? alice.sign(alice.request(StunMethods.REGISTER))
        : StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).fingerprint().encode();
  }

  private static byte[] withLength(byte[] d, int length) {
    byte[] out = d.clone();
    out[2] = (byte) (length >> 8);
    out[3] = (byte) length;
    return out;
  }

  /** Inserts an attribute right after the header (so that it comes before integrity and FINGERPRINT). */
  private static byte[] withFirstAttribute(byte[] d, int type, byte[] rawTlvValue, int declaredLength) {
    ByteBuffer b = ByteBuffer.allocate(d.length + 4 + rawTlvValue.length);
    b.put(d, 0, 20).putShort((short) type).putShort((short) declaredLength).put(rawTlvValue).put(d, 20, d.length - 20);
    return withLength(b.array(), b.capacity() - 20);
  }

  static Stream<Arguments> malformations() {
    return Stream.of(
        Arguments.of("truncated header", "truncated", (UnaryOperator<byte[]>) d -> Arrays.copyOf(d, 12)),
        Arguments.of("oversized datagram", "bad-length", (UnaryOperator<byte[]>) d -> {
          // A well-formed 3000-byte message: beyond the 2048 bytes a socket read takes, so it arrives cut short.
          byte[] big = new byte[3000];
          System.arraycopy(d, 0, big, 0, 20);
          ByteBuffer.wrap(big, 20, 4).putShort((short) 0x80FF).putShort((short) (3000 - 24));
          return withLength(big, 3000 - 20);
        }),
        Arguments.of("length not a multiple of 4", "bad-length", (UnaryOperator<byte[]>) d -> withLength(d, d.length - 22)),
        Arguments.of("length shorter than the datagram", "bad-length", (UnaryOperator<byte[]>) d -> Arrays.copyOf(d, d.length + 4)),
        Arguments.of("length longer than the datagram", "bad-length", (UnaryOperator<byte[]>) d -> withLength(d, d.length - 16)),
        Arguments.of("wrong magic cookie", "bad-cookie", (UnaryOperator<byte[]>) d -> {
          byte[] out = d.clone();
          out[5] ^= 0x40;
          return out;
        }),
        Arguments.of("bad fingerprint", "bad-fingerprint", (UnaryOperator<byte[]>) d -> {
          byte[] out = d.clone();
          out[out.length - 1] ^= 0x01;
          return out;
        }),
        Arguments.of("attribute after FINGERPRINT", "fingerprint-not-last", (UnaryOperator<byte[]>) d -> {
          ByteBuffer b = ByteBuffer.allocate(d.length + 8).put(d).putShort((short) 0x8022).putShort((short) 4).putInt(0);
          return withLength(b.array(), d.length + 8 - 20);
        }),
        Arguments.of("attribute overrunning the message", "attribute-overrun",
            (UnaryOperator<byte[]>) d -> withFirstAttribute(d, 0x8022, new byte[4], 400)),
        Arguments.of("MESSAGE-INTEGRITY-SHA256 of 8 bytes", "bad-integrity-length",
            (UnaryOperator<byte[]>) d -> withFirstAttribute(d, StunAttributes.MESSAGE_INTEGRITY_SHA256, new byte[8], 8)),
        Arguments.of("first two bits set", "not-stun", (UnaryOperator<byte[]>) d -> {
          byte[] out = d.clone();
          out[0] |= (byte) 0xC0;
          return out;
        }));
  }

  @ParameterizedTest(name = "{0} (REGISTER)")
  @MethodSource("malformations")
  void aMalformedRegisterIsDroppedSilentlyAndCounted(String what, String reason, UnaryOperator<byte[]> malform)
      throws Exception {
    droppedSilently(malform.apply(base(true)), reason);
    assertThat(introducer.registry().size()).isZero();
  }

  @ParameterizedTest(name = "{0} (Binding)")
  @MethodSource("malformations")
  void aMalformedBindingIsDroppedSilentlyAndCounted(String what, String reason, UnaryOperator<byte[]> malform)
      throws Exception {
    droppedSilently(malform.apply(base(false)), reason);
  }

  private void droppedSilently(byte[] datagram, String reason) throws Exception {
    alice.send(datagram);

    alice.assertNothingReceivedBeforeBindingAnswer();
    eventually("dropped as " + reason, () -> introducer.counters().drops(reason) == 1);
    assertThat(introducer.counters().drops()).containsOnlyKeys(reason);
  }

  @Test
  void anUnknownComprehensionRequiredAttributeFromAStrangerIs401Not420() {
    try (TestPeer stranger = new TestPeer(introducer.actualPort(), Fixtures.APP, "alice", "not-the-secret")) {
      StunMessage response = stranger.call(stranger.request(StunMethods.REGISTER).add(0x7F01, new byte[4]));

      assertError(response, 401, "bad integrity"); // strangers learn nothing about what this node understands
    }
  }

  @Test
  void anUnknownComprehensionRequiredAttributeInAConnectIs420SignedAndCreatesNoSession() {
    alice.register();
    try (TestPeer bob = Fixtures.peer(introducer, "bob")) {
      bob.register();

      StunMessage response = alice.call(alice.request(StunMethods.CONNECT)
          .addString(StunAttributes.TARGET_PEER_ID, "bob").add(0x0031, new byte[4]));

      assertError(response, 420, "unknown attribute");
      assertThat(response.get(StunAttributes.UNKNOWN_ATTRIBUTES)).containsExactly(0x00, 0x31);
      assertThat(response.verifyIntegritySha256(alice.key)).isTrue();
      assertThat(introducer.counters().connects()).isZero();
    }
  }

  @Test
  void anUnknownComprehensionOptionalAttributeIsIgnored() {
    StunMessage response = alice.call(alice.request(StunMethods.REGISTER).add(0xBFFF, new byte[] {1, 2, 3}));

    assertThat(response.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    StunMessage.Builder binding = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).add(0x8FFF, new byte[4]);
    alice.send(binding.encode());
    assertThat(alice.receive().messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
  }
}
