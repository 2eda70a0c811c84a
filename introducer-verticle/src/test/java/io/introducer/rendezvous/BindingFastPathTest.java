package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Binding fast path answers exactly what the general path (Dispatcher) answers: the same request goes once
 * plain (fast path) and once with a comprehension-optional attribute that sends it the general way.
 */
@ExtendWith(VertxExtension.class)
class BindingFastPathTest {
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
  void plainBindingIsAnsweredByteForByteLikeTheGeneralPath() {
    byte[] txid = StunMessage.newTransactionId();
    client.send(StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, txid).encode());
    byte[] fast = client.receiveRaw();
    client.send(StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, txid)
        .addString(StunAttributes.SOFTWARE, "takes the general path").encode());
    byte[] general = client.receiveRaw();

    assertThat(fast).isEqualTo(general);
    assertThat(introducer.counters().bindings()).isEqualTo(2);
  }

  @Test
  void bindingWithFingerprintIsAnsweredByteForByteLikeTheGeneralPath() throws Exception {
    byte[] txid = StunMessage.newTransactionId();
    client.send(StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, txid).fingerprint().encode());
    byte[] fast = client.receiveRaw();
    client.send(StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, txid)
        .addString(StunAttributes.SOFTWARE, "takes the general path").fingerprint().encode());
    byte[] general = client.receiveRaw();

    assertThat(fast).isEqualTo(general);
    assertThat(StunMessage.decode(fast).hasFingerprint()).isTrue();
  }

  @Test
  void ipv6SourcesAndSocketAttributesAreWrittenLikeTheCodecDoes() throws Exception {
    byte[] txid = StunMessage.newTransactionId();
    InetSocketAddress from = new InetSocketAddress("2001:db8::1234", 40001);
    byte[] origin = {0, 1, 0x0D, (byte) 0x96, (byte) 192, 0, 2, 1};
    byte[] other = {0, 1, 0x0D, (byte) 0x97, (byte) 192, 0, 2, 2};
    ByteBuf req = Unpooled.wrappedBuffer(StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, txid)
        .fingerprint().encode());

    ByteBuf out = new BindingFastPath("Introducer").answer(req, from, origin, other, UnpooledByteBufAllocator.DEFAULT);

    byte[] expected = StunMessage.builder(StunMethods.BINDING, StunClass.SUCCESS_RESPONSE, txid)
        .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, from)
        .addAddress(StunAttributes.MAPPED_ADDRESS, from)
        .add(StunAttributes.RESPONSE_ORIGIN, origin)
        .add(StunAttributes.OTHER_ADDRESS, other)
        .addString(StunAttributes.SOFTWARE, "Introducer")
        .fingerprint().encode();
    assertThat(ByteBufUtil.getBytes(out)).isEqualTo(expected);
  }

  @Test
  void anythingButAPlainBindingRequestIsLeftToTheGeneralPath() {
    BindingFastPath fast = new BindingFastPath("Introducer");
    InetSocketAddress from = new InetSocketAddress("127.0.0.1", 40000);
    byte[] withAttribute = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST)
        .add(StunAttributes.CHANGE_REQUEST, new byte[4]).encode();
    byte[] badFingerprint = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).fingerprint().encode();
    badFingerprint[27] ^= 1;
    byte[] indication = StunMessage.builder(StunMethods.BINDING, StunClass.INDICATION).encode();
    byte[] badCookie = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).encode();
    badCookie[4] ^= 1;

    for (byte[] b : new byte[][] {withAttribute, badFingerprint, indication, badCookie, new byte[0]}) {
      assertThat(fast.answer(Unpooled.wrappedBuffer(b), from, null, null, UnpooledByteBufAllocator.DEFAULT)).isNull();
    }
  }
}
