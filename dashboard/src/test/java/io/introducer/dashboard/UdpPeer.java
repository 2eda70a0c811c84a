package io.introducer.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.RelayRtt;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.protocol.rendezvous.Strategy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * A peer speaking the rendezvous protocol over raw UDP with the codec (docs/PROTOCOL.md): enough to register,
 * connect, acknowledge an INTRODUCE and report a RESULT, so that tests drive real sessions through the introducer.
 */
final class UdpPeer implements AutoCloseable {
  private static final int TIMEOUT_MILLIS = 5_000;

  final String appId;
  final String peerId;
  private final byte[] key;
  private final InetSocketAddress introducer;
  private final DatagramSocket socket;

  UdpPeer(int introducerPort, String appId, String peerId, String secret) {
    this.appId = appId;
    this.peerId = peerId;
    this.key = Rendezvous.peerKey(secret, appId, peerId);
    try {
      introducer = new InetSocketAddress(InetAddress.getLoopbackAddress(), introducerPort);
      socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      socket.setSoTimeout(TIMEOUT_MILLIS);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  InetSocketAddress address() {
    return (InetSocketAddress) socket.getLocalSocketAddress();
  }

  private StunMessage.Builder request(int method) {
    return StunMessage.builder(method, StunClass.REQUEST)
        .addString(StunAttributes.APP_ID, appId)
        .addString(StunAttributes.PEER_ID, peerId)
        .addU64(StunAttributes.TIMESTAMP, System.currentTimeMillis());
  }

  /** Sends a signed request and returns its answer, skipping a bounded number of other datagrams. */
  private StunMessage call(StunMessage.Builder b) {
    send(b.integritySha256(key).fingerprint().encode());
    for (int i = 0; i < 10; i++) {
      StunMessage m = receive();
      if (Arrays.equals(m.transactionId(), b.transactionId())) {
        return m;
      }
    }
    return fail("%s got no answer among 10 datagrams", peerId);
  }

  /** REGISTER, reporting {@code relayRtts} as RELAY-RTT (the RTTs a real peer measured to the relays it was given). */
  void register(RelayRtt... relayRtts) {
    StunMessage.Builder b = request(StunMethods.REGISTER);
    for (RelayRtt rtt : relayRtts) {
      b.add(StunAttributes.RELAY_RTT, rtt.encode(b.transactionId()));
    }
    StunMessage r = call(b);
    assertThat(r.messageClass()).as("REGISTER of %s: %s", peerId, r).isEqualTo(StunClass.SUCCESS_RESPONSE);
  }

  /** CONNECT to {@code target}; returns the session id in hex. */
  String connect(String target) {
    StunMessage r = call(request(StunMethods.CONNECT).addString(StunAttributes.TARGET_PEER_ID, target));
    assertThat(r.messageClass()).as("CONNECT of %s: %s", peerId, r).isEqualTo(StunClass.SUCCESS_RESPONSE);
    return HexFormat.of().formatHex(r.get(StunAttributes.SESSION_ID));
  }

  /** Waits for an INTRODUCE and acknowledges it; returns its session id in hex. */
  String acceptIntroduce() {
    for (int i = 0; i < 10; i++) {
      StunMessage m = receive();
      if (m.is(StunMethods.INTRODUCE, StunClass.REQUEST)) {
        byte[] sessionId = m.get(StunAttributes.SESSION_ID);
        send(StunMessage.successFor(m).add(StunAttributes.SESSION_ID, sessionId).integritySha256(key).fingerprint()
            .encode());
        return HexFormat.of().formatHex(sessionId);
      }
    }
    return fail("%s got no INTRODUCE among 10 datagrams", peerId);
  }

  /** RESULT for {@code sessionHex}: connected (direct or relay) to {@code remote}, or failed with {@code reason}. */
  void report(String sessionHex, Outcome outcome, int timeToConnectMillis, InetSocketAddress remote, String reason) {
    StunMessage.Builder b = request(StunMethods.RESULT)
        .add(StunAttributes.SESSION_ID, HexFormat.of().parseHex(sessionHex))
        .add(StunAttributes.OUTCOME, ByteBuffer.allocate(12).put((byte) outcome.code())
            .put((byte) Strategy.SIMULTANEOUS.code()).putShort((short) 0).putInt(timeToConnectMillis).putInt(250)
            .array());
    if (remote != null) {
      b.add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.SERVER_REFLEXIVE, remote).encode(b.transactionId()));
    }
    if (reason != null) {
      b.addString(StunAttributes.REASON, reason);
    }
    StunMessage r = call(b);
    assertThat(r.messageClass()).as("RESULT of %s: %s", peerId, r).isEqualTo(StunClass.SUCCESS_RESPONSE);
  }

  void send(byte[] datagram) {
    try {
      socket.send(new DatagramPacket(datagram, datagram.length, introducer));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private StunMessage receive() {
    byte[] buf = new byte[2048];
    DatagramPacket p = new DatagramPacket(buf, buf.length);
    try {
      socket.receive(p);
      return StunMessage.decode(Arrays.copyOf(buf, p.getLength()));
    } catch (SocketTimeoutException e) {
      return fail("%s received nothing within %d ms", peerId, TIMEOUT_MILLIS);
    } catch (StunParseException e) {
      return fail("malformed datagram from the introducer: %s", e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    socket.close();
  }
}
