package io.introducer.protocol.rendezvous;

import io.introducer.protocol.StunAddress;
import java.net.InetSocketAddress;

/**
 * A peer's smoothed round-trip time to a relay, measured with STUN Binding (docs/PROTOCOL.md section 8, relay
 * choice). Wire form of the RELAY-RTT attribute: 4 bytes RTT in microseconds (unsigned, big-endian), then the
 * XOR-MAPPED-ADDRESS value layout of the relay's address XORed with the message's cookie and transaction id. A relay
 * that did not answer is not reported at all.
 */
public record RelayRtt(InetSocketAddress relay, long rttMicros) {
  /** At most this many RELAY-RTT attributes are sent, and honoured, per message. */
  public static final int MAX_PER_MESSAGE = 4;

  public RelayRtt {
    if (relay == null || relay.isUnresolved() || rttMicros < 0 || rttMicros > 0xFFFFFFFFL) {
      throw new IllegalArgumentException("a relay RTT needs a resolved address and 0..2^32-1 microseconds");
    }
  }

  public byte[] encode(byte[] transactionId) {
    byte[] addr = StunAddress.encodeXor(relay, transactionId);
    byte[] v = new byte[4 + addr.length];
    v[0] = (byte) (rttMicros >>> 24);
    v[1] = (byte) (rttMicros >>> 16);
    v[2] = (byte) (rttMicros >>> 8);
    v[3] = (byte) rttMicros;
    System.arraycopy(addr, 0, v, 4, addr.length);
    return v;
  }

  /** Decodes a RELAY-RTT value; null when malformed (ignored by receivers). */
  public static RelayRtt decode(byte[] value, byte[] transactionId) {
    if (value == null || value.length < 4 + 8) {
      return null;
    }
    long rtt = ((value[0] & 0xFFL) << 24) | ((value[1] & 0xFFL) << 16) | ((value[2] & 0xFFL) << 8) | (value[3] & 0xFFL);
    byte[] withCookie = new byte[20];
    System.arraycopy(transactionId, 0, withCookie, 8, 12);
    InetSocketAddress a = StunAddress.decodeXor(value, 4, value.length - 4, withCookie, 8);
    return a == null ? null : new RelayRtt(a, rtt);
  }

  @Override
  public String toString() {
    return relay.getAddress().getHostAddress() + ":" + relay.getPort() + "=" + rttMicros + "us";
  }
}
