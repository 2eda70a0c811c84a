package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.PeerTokens;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;

/**
 * A raw-UDP peer built on the codec, on its own socket (127.0.0.1 unless told otherwise): it signs requests
 * the way docs/PROTOCOL.md section 3 says and reads whatever the introducer sends back.
 */
final class TestPeer implements AutoCloseable {
  static final int RECEIVE_TIMEOUT_MILLIS = 5_000;

  final String appId;
  final String peerId;
  final byte[] key;
  /** The TOKEN-EXPIRY its requests carry; 0 when it signs with its peer key. */
  final long tokenExpiry;
  private final InetSocketAddress introducer;
  private final DatagramSocket socket;

  /** A datagram and where it came from. */
  record Received(StunMessage message, InetSocketAddress source) {}

  TestPeer(int introducerPort, String appId, String peerId, String secret) {
    this(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), introducerPort), appId, peerId, secret);
  }

  /** A peer on a socket bound to {@code local} (port 0: ephemeral) talking to the introducer at {@code introducer}. */
  TestPeer(InetSocketAddress local, InetSocketAddress introducer, String appId, String peerId, String secret) {
    this(local, introducer, appId, peerId, Rendezvous.peerKey(secret, appId, peerId), 0);
  }

  /** A peer signing with a peer token (docs/PROTOCOL.md section 3), on 127.0.0.1. */
  static TestPeer withToken(int introducerPort, String appId, String peerId, String token) {
    PeerTokens.Token t = PeerTokens.parse(token);
    return new TestPeer(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
        new InetSocketAddress(InetAddress.getLoopbackAddress(), introducerPort), appId, peerId, t.key(),
        t.expiryEpochSeconds());
  }

  /** A peer signing with {@code key}, sending TOKEN-EXPIRY {@code tokenExpiry} unless it is 0. */
  TestPeer(InetSocketAddress local, InetSocketAddress introducer, String appId, String peerId, byte[] key,
      long tokenExpiry) {
    this.appId = appId;
    this.peerId = peerId;
    this.key = key;
    this.tokenExpiry = tokenExpiry;
    try {
      this.introducer = introducer;
      this.socket = new DatagramSocket(local);
      socket.setSoTimeout(RECEIVE_TIMEOUT_MILLIS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Where the introducer sees this peer: on loopback, the socket's own address. */
  InetSocketAddress address() {
    return (InetSocketAddress) socket.getLocalSocketAddress();
  }

  /** A request carrying APP-ID, PEER-ID and a current TIMESTAMP; add attributes, then {@link #sign}. */
  StunMessage.Builder request(int method) {
    StunMessage.Builder b = StunMessage.builder(method, StunClass.REQUEST)
        .addString(StunAttributes.APP_ID, appId)
        .addString(StunAttributes.PEER_ID, peerId)
        .addU64(StunAttributes.TIMESTAMP, System.currentTimeMillis());
    return tokenExpiry > 0 ? b.addU64(StunAttributes.TOKEN_EXPIRY, tokenExpiry) : b;
  }

  byte[] sign(StunMessage.Builder b) {
    return b.integritySha256(key).fingerprint().encode();
  }

  /** Signs, sends, and returns the answer, skipping (a bounded number of) unrelated datagrams such as INTRODUCE. */
  StunMessage call(StunMessage.Builder b) {
    send(sign(b));
    for (int i = 0; i < 10; i++) {
      StunMessage m = receive();
      if (Arrays.equals(m.transactionId(), b.transactionId())) {
        return m;
      }
    }
    return fail("%s got no answer among 10 datagrams", peerId);
  }

  StunMessage register(Candidate... hosts) {
    return register(null, hosts);
  }

  /** REGISTER with a NAT-PROFILE (none when null) and host candidates; asserts success. */
  StunMessage register(NatProfile profile, Candidate... hosts) {
    StunMessage.Builder b = request(StunMethods.REGISTER);
    if (profile != null) {
      b.add(StunAttributes.NAT_PROFILE, profile.encode());
    }
    for (Candidate c : hosts) {
      b.add(StunAttributes.CANDIDATE, c.encode(b.transactionId()));
    }
    StunMessage response = call(b);
    assertThat(response.messageClass()).as("REGISTER answer %s", response).isEqualTo(StunClass.SUCCESS_RESPONSE);
    return response;
  }

  StunMessage connect(String target) {
    return call(request(StunMethods.CONNECT).addString(StunAttributes.TARGET_PEER_ID, target));
  }

  void send(byte[] datagram) {
    try {
      socket.send(new DatagramPacket(datagram, datagram.length, introducer));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends to another address than the introducer's primary one (an RFC 5780 alternate socket, say). */
  void sendTo(byte[] datagram, InetSocketAddress to) {
    try {
      socket.send(new DatagramPacket(datagram, datagram.length, to));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  byte[] receiveRaw() {
    return receivePacket().getData();
  }

  /** The next datagram with its source; the data array is exactly the datagram. */
  DatagramPacket receivePacket() {
    byte[] buf = new byte[2048];
    DatagramPacket p = new DatagramPacket(buf, buf.length);
    try {
      socket.receive(p);
    } catch (SocketTimeoutException e) {
      return fail("%s received nothing within %d ms", peerId, RECEIVE_TIMEOUT_MILLIS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    p.setData(Arrays.copyOf(buf, p.getLength()));
    return p;
  }

  /** The next message and the address it came from. */
  Received receiveFrom() {
    DatagramPacket p = receivePacket();
    try {
      return new Received(StunMessage.decode(p.getData()), (InetSocketAddress) p.getSocketAddress());
    } catch (StunParseException e) {
      return fail("introducer sent a malformed message: %s", e.getMessage());
    }
  }

  /** The next message of {@code method}, skipping (a bounded number of) others such as INTRODUCE copies. */
  StunMessage receiveMethod(int method) {
    for (int i = 0; i < 12; i++) {
      StunMessage m = receive();
      if (m.method() == method) {
        return m;
      }
    }
    return fail("%s received no %s among 12 datagrams", peerId, StunMethods.name(method));
  }

  StunMessage receive() {
    try {
      return StunMessage.decode(receiveRaw());
    } catch (StunParseException e) {
      return fail("introducer sent a malformed message: %s", e.getMessage());
    }
  }

  /**
   * Proves that nothing was sent to this peer before now: the introducer handles datagrams in order on
   * one event loop, so the answer to a fresh Binding must be the next datagram received.
   */
  void assertNothingReceivedBeforeBindingAnswer() {
    StunMessage.Builder b = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST);
    send(b.encode());
    StunMessage next = receive();
    assertThat(next.is(StunMethods.BINDING, StunClass.SUCCESS_RESPONSE)).as("next datagram %s", next).isTrue();
    assertThat(next.transactionId()).isEqualTo(b.transactionId());
  }

  /** Every datagram that arrives until none has for {@code quietMillis} (at most 100 000 of them). */
  java.util.List<byte[]> drain(int quietMillis) {
    java.util.List<byte[]> out = new java.util.ArrayList<>();
    byte[] buf = new byte[2048];
    try {
      socket.setSoTimeout(quietMillis);
      while (out.size() < 100_000) {
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        socket.receive(p);
        out.add(Arrays.copyOf(buf, p.getLength()));
      }
    } catch (SocketTimeoutException quiet) {
      // nothing more
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      try {
        socket.setSoTimeout(RECEIVE_TIMEOUT_MILLIS);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  @Override
  public void close() {
    socket.close();
  }
}
