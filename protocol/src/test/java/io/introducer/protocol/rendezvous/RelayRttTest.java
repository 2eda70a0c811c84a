package io.introducer.protocol.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The RELAY-RTT attribute: u32 microseconds, then an XOR-MAPPED-ADDRESS value (docs/PROTOCOL.md section 8). */
class RelayRttTest {
  static final byte[] TX = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  static final InetSocketAddress V4 = new InetSocketAddress(ip("203.0.113.9"), 3478);
  static final InetSocketAddress V6 = new InetSocketAddress(ip("2001:db8:0:1::42"), 3479);

  @Test
  void ipv4AndIpv6RoundTrip() {
    RelayRtt a = new RelayRtt(V4, 12_345);
    RelayRtt b = new RelayRtt(V6, 0xFFFFFFFFL);
    assertThat(a.encode(TX)).hasSize(4 + 8);
    assertThat(b.encode(TX)).hasSize(4 + 20);
    assertThat(RelayRtt.decode(a.encode(TX), TX)).isEqualTo(a);
    assertThat(RelayRtt.decode(b.encode(TX), TX)).isEqualTo(b);
  }

  @Test
  void layoutIsMicrosThenXorAddress() {
    byte[] v = new RelayRtt(V4, 0x01020304L).encode(TX);
    assertThat(v[0]).isEqualTo((byte) 1);
    assertThat(v[3]).isEqualTo((byte) 4);
    // XOR-MAPPED-ADDRESS: family 1, port XOR 0x2112
    assertThat(v[5]).isEqualTo((byte) 1);
    assertThat(((v[6] & 0xFF) << 8 | (v[7] & 0xFF)) ^ 0x2112).isEqualTo(3478);
  }

  @Test
  void malformedValuesDecodeToNull() {
    assertThat(RelayRtt.decode(new byte[0], TX)).isNull();
    assertThat(RelayRtt.decode(new byte[11], TX)).isNull();
    byte[] v = new RelayRtt(V4, 5).encode(TX);
    v[5] = 7; // unknown family
    assertThat(RelayRtt.decode(v, TX)).isNull();
    assertThatThrownBy(() -> new RelayRtt(V4, -1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void repeatsInAMessage() throws Exception {
    StunMessage.Builder b = StunMessage.builder(StunMethods.KEEPALIVE, StunClass.REQUEST, TX);
    b.add(StunAttributes.RELAY_RTT, new RelayRtt(V4, 800).encode(TX));
    b.add(StunAttributes.RELAY_RTT, new RelayRtt(V6, 9000).encode(TX));
    StunMessage m = StunMessage.decode(b.encode());
    List<RelayRtt> got = m.getAll(StunAttributes.RELAY_RTT).stream().map(x -> RelayRtt.decode(x, TX)).toList();
    assertThat(got).containsExactly(new RelayRtt(V4, 800), new RelayRtt(V6, 9000));
  }

  private static InetAddress ip(String s) {
    try {
      return InetAddress.getByName(s);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }
}
