package io.introducer.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.ChannelData;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.vertx.core.buffer.Buffer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** The hand-written data-path frames decode with the protocol codec. */
class TurnFramesTest {

  @Test
  void dataIndicationDecodesWithPeerAddressAndPaddedData() throws Exception {
    Buffer frame = TurnFrames.dataIndication(InetAddress.getByName("198.51.100.7"), 4242, Buffer.buffer("hello"));

    StunMessage m = StunMessage.decode(frame.getBytes());
    assertThat(m.is(StunMethods.DATA, StunClass.INDICATION)).isTrue();
    assertThat(m.getXorAddress(StunAttributes.XOR_PEER_ADDRESS)).isEqualTo(new InetSocketAddress("198.51.100.7", 4242));
    assertThat(m.get(StunAttributes.DATA)).isEqualTo("hello".getBytes());
    assertThat(frame.length() % 4).isZero();
  }

  @Test
  void dataIndicationCarriesAnIpv6PeerXoredWithTheTransactionId() throws Exception {
    Buffer frame = TurnFrames.dataIndication(InetAddress.getByName("2001:db8::9"), 1, Buffer.buffer(new byte[] {7}));

    StunMessage m = StunMessage.decode(frame.getBytes());
    assertThat(m.getXorAddress(StunAttributes.XOR_PEER_ADDRESS)).isEqualTo(new InetSocketAddress("2001:db8::9", 1));
  }

  @Test
  void channelDataMatchesTheProtocolCodec() {
    byte[] payload = {1, 2, 3, 4, 5};
    assertThat(TurnFrames.channelData(0x4001, Buffer.buffer(payload)).getBytes())
        .isEqualTo(new ChannelData(0x4001, payload).encode());
  }
}
