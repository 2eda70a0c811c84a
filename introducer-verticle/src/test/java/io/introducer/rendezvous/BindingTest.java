package io.introducer.rendezvous;

import static io.introducer.rendezvous.Fixtures.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class BindingTest {
  private IntroducerVerticle introducer;
  private TestPeer client;

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    introducer = Fixtures.deploy(vertx, Fixtures.config());
    client = Fixtures.peer(introducer, "client");
  }

  @AfterEach
  void close() {
    client.close();
  }

  @Test
  void bindingAnswersWithTheClientsMappedAddress() {
    StunMessage.Builder request = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST);
    client.send(request.encode());

    StunMessage response = client.receive();
    assertThat(response.is(StunMethods.BINDING, StunClass.SUCCESS_RESPONSE)).isTrue();
    assertThat(response.transactionId()).isEqualTo(request.transactionId());
    assertThat(response.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(client.address());
    assertThat(response.getAddress(StunAttributes.MAPPED_ADDRESS)).isEqualTo(client.address());
    assertThat(response.getString(StunAttributes.SOFTWARE)).isEqualTo("Introducer");
    assertThat(response.hasFingerprint()).isFalse();
    assertThat(introducer.counters().bindings()).isEqualTo(1);
  }

  @Test
  void bindingWithFingerprintIsAnsweredWithFingerprint() {
    client.send(StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).fingerprint().encode());

    StunMessage response = client.receive(); // decode verified the CRC
    assertThat(response.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(response.hasFingerprint()).isTrue();
  }

  @Test
  void bindingWithUnknownComprehensionRequiredAttributeGets420() {
    StunMessage.Builder request = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST)
        .add(0x0031, new byte[4]).add(0x8031, new byte[4]);
    client.send(request.encode());

    StunMessage response = client.receive();
    assertThat(response.is(StunMethods.BINDING, StunClass.ERROR_RESPONSE)).isTrue();
    assertThat(response.errorCode().code()).isEqualTo(ErrorCode.UNKNOWN_ATTRIBUTE);
    assertThat(response.get(StunAttributes.UNKNOWN_ATTRIBUTES)).containsExactly(0x00, 0x31);
  }

  @Test
  void malformedDatagramsAreDroppedSilentlyAndCountedByReason() throws Exception {
    byte[] valid = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).fingerprint().encode();
    byte[] badCookie = valid.clone();
    badCookie[4] ^= 1;
    byte[] badFingerprint = valid.clone();
    badFingerprint[valid.length - 1] ^= 1;
    byte[] badLength = Arrays.copyOf(valid, valid.length + 4);

    client.send(Arrays.copyOf(valid, 12));
    client.send(badCookie);
    client.send(badFingerprint);
    client.send(badLength);

    client.assertNothingReceivedBeforeBindingAnswer();
    IntroducerCounters counters = introducer.counters();
    eventually("four drops counted", () -> counters.drops().values().stream().mapToLong(Long::longValue).sum() == 4);
    assertThat(counters.drops()).containsEntry("truncated", 1L).containsEntry("bad-cookie", 1L)
        .containsEntry("bad-fingerprint", 1L).containsEntry("bad-length", 1L);
    assertThat(counters.packetsIn()).isEqualTo(5);
  }

  @Test
  void nonStunDatagramsAreCountedDrops() throws Exception {
    client.send("hello".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    client.send(new byte[] {(byte) 0xDA, 1, 2, 3});
    client.send(new byte[] {0x40, 0x00, 0x00, 0x00}); // TURN ChannelData: no relay here
    client.send(new byte[0]);

    client.assertNothingReceivedBeforeBindingAnswer();
    eventually("four non-STUN drops", () -> introducer.counters().drops("not-stun") == 4);
  }

  @Test
  void bindingIndicationIsIgnoredAsAKeepalive() throws Exception {
    client.send(StunMessage.builder(StunMethods.BINDING, StunClass.INDICATION).fingerprint().encode());

    client.assertNothingReceivedBeforeBindingAnswer();
    eventually("both packets seen", () -> introducer.counters().packetsIn() == 2);
    assertThat(introducer.counters().drops()).isEmpty();
  }

  @Test
  void responsesAndIndicationsOutsideAnyTransactionAreCountedDrops() throws Exception {
    client.send(StunMessage.builder(StunMethods.BINDING, StunClass.SUCCESS_RESPONSE).encode());
    client.send(StunMessage.builder(StunMethods.INTRODUCE, StunClass.SUCCESS_RESPONSE).fingerprint().encode());
    client.send(StunMessage.builder(StunMethods.CLOSE, StunClass.INDICATION).encode());

    client.assertNothingReceivedBeforeBindingAnswer();
    eventually("drops counted", () -> introducer.counters().drops("unmatched-response") == 2);
    assertThat(introducer.counters().drops("unexpected-indication")).isEqualTo(1);
  }

  @Test
  void requestsOfMethodsTheIntroducerDoesNotServeAreCountedDrops() throws Exception {
    client.send(StunMessage.builder(StunMethods.PUNCH, StunClass.REQUEST).fingerprint().encode());
    client.send(StunMessage.builder(StunMethods.ALLOCATE, StunClass.REQUEST).fingerprint().encode());

    client.assertNothingReceivedBeforeBindingAnswer();
    eventually("drops counted", () -> introducer.counters().drops("unsupported-method") == 2);
  }
}
