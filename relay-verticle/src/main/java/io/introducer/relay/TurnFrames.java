package io.introducer.relay;

import io.introducer.protocol.StunAddress;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.vertx.core.buffer.Buffer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ThreadLocalRandom;

/** The two data-path frames the relay writes per packet, straight into a Buffer (no builder, one copy). */
final class TurnFrames {
  /** Data indication message type: method 0x007, class indication. */
  static final int DATA_INDICATION = 0x0017;
  /** Largest UDP payload over IPv4 and IPv6 alike. */
  static final int MAX_DATAGRAM = 65_507;
  static final int MAX_CHANNEL_PAYLOAD = MAX_DATAGRAM - 4;
  /** Header, XOR-PEER-ADDRESS (IPv6 worst case) and DATA header. */
  static final int MAX_INDICATION_PAYLOAD = MAX_DATAGRAM - 20 - 24 - 4 - 3;

  private TurnFrames() {}

  /** ChannelData, unpadded (RFC 8656 12.5 allows that over UDP). */
  static Buffer channelData(int channel, Buffer payload) {
    int len = payload.length();
    return Buffer.buffer(4 + len).appendUnsignedShort(channel).appendUnsignedShort(len).appendBuffer(payload);
  }

  /** A Data indication carrying {@code payload} from {@code peer}:{@code port}, random transaction id. */
  static Buffer dataIndication(InetAddress peer, int port, Buffer payload) {
    byte[] txid = new byte[12];
    ThreadLocalRandom.current().nextBytes(txid);
    byte[] xpa = StunAddress.encodeXor(new InetSocketAddress(peer, port), txid);
    int len = payload.length();
    int pad = (4 - (len & 3)) & 3;
    int body = 4 + xpa.length + 4 + len + pad;
    Buffer b = Buffer.buffer(StunMessage.HEADER_LENGTH + body)
        .appendUnsignedShort(DATA_INDICATION)
        .appendUnsignedShort(body)
        .appendInt(StunMessage.MAGIC_COOKIE)
        .appendBytes(txid)
        .appendUnsignedShort(StunAttributes.XOR_PEER_ADDRESS)
        .appendUnsignedShort(xpa.length)
        .appendBytes(xpa)
        .appendUnsignedShort(StunAttributes.DATA)
        .appendUnsignedShort(len)
        .appendBuffer(payload);
    for (int i = 0; i < pad; i++) {
      b.appendByte((byte) 0);
    }
    return b;
  }
}
