package io.introducer.relay;

import io.introducer.protocol.ChannelData;
import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.LongTermCredentials;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.function.Consumer;

/**
 * A deliberately small, blocking TURN client for tests, built on the protocol codec: it speaks to the
 * relay over a real UDP socket on 127.0.0.1 and keeps datagrams that are not the awaited response
 * (Data indications, ChannelData) for {@link #receive}.
 */
final class TurnClient implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(3);

  final DatagramSocket socket;
  private final InetSocketAddress server;
  private final Deque<byte[]> pending = new ArrayDeque<>();
  String username;
  String realm;
  String nonce;
  byte[] key;
  InetSocketAddress relayed;
  InetSocketAddress mapped;

  TurnClient(int serverPort) throws IOException {
    socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    server = new InetSocketAddress(InetAddress.getLoopbackAddress(), serverPort);
  }

  InetSocketAddress localAddress() {
    return (InetSocketAddress) socket.getLocalSocketAddress();
  }

  void credentials(String user, String password, String realm) {
    this.username = user;
    this.realm = realm;
    this.key = LongTermCredentials.md5Key(user, realm, password);
  }

  void sendRaw(byte[] bytes) throws IOException {
    socket.send(new DatagramPacket(bytes, bytes.length, server));
  }

  /** The next datagram not yet consumed, or null after {@code timeout}. */
  byte[] receive(Duration timeout) throws IOException {
    if (!pending.isEmpty()) {
      return pending.poll();
    }
    return read(timeout);
  }

  private byte[] read(Duration timeout) throws IOException {
    byte[] buf = new byte[65_536];
    DatagramPacket p = new DatagramPacket(buf, buf.length);
    socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
    try {
      socket.receive(p);
    } catch (SocketTimeoutException e) {
      return null;
    }
    return Arrays.copyOf(buf, p.getLength());
  }

  /** Sends {@code bytes} and waits for the response with this transaction id; null on timeout. */
  StunMessage exchange(byte[] bytes) throws IOException {
    byte[] txid = Arrays.copyOfRange(bytes, 8, 20);
    sendRaw(bytes);
    return awaitResponse(txid);
  }

  /** The response with this transaction id; other datagrams are kept for {@link #receive}. Null on timeout. */
  StunMessage awaitResponse(byte[] txid) throws IOException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      byte[] d = read(Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
      if (d == null) {
        return null;
      }
      if (d.length >= 20 && (d[0] & 0xC0) == 0 && Arrays.equals(Arrays.copyOfRange(d, 8, 20), txid)) {
        try {
          return StunMessage.decode(d);
        } catch (StunParseException e) {
          throw new AssertionError("relay sent a malformed response: " + e.getMessage(), e);
        }
      }
      pending.add(d);
    }
    return null;
  }

  /** A request builder carrying USERNAME, REALM and the current NONCE; sign it with {@link #signed}. */
  StunMessage.Builder authenticated(int method) {
    StunMessage.Builder b = StunMessage.builder(method, StunClass.REQUEST);
    return withCredentials(b);
  }

  StunMessage.Builder withCredentials(StunMessage.Builder b) {
    return b.addString(StunAttributes.USERNAME, username)
        .addString(StunAttributes.REALM, realm)
        .addString(StunAttributes.NONCE, nonce);
  }

  byte[] signed(StunMessage.Builder b) {
    return b.integrity(key).fingerprint().encode();
  }

  /** Sends an unauthenticated request of {@code method} to learn REALM and NONCE from the 401. */
  StunMessage challenge(int method) throws IOException {
    StunMessage.Builder b = StunMessage.builder(method, StunClass.REQUEST);
    if (method == StunMethods.ALLOCATE) {
      b.add(StunAttributes.REQUESTED_TRANSPORT, new byte[] {17, 0, 0, 0});
    }
    StunMessage r = exchange(b.fingerprint().encode());
    if (r != null && r.errorCode() != null && r.errorCode().code() == ErrorCode.UNAUTHORIZED) {
      realm = r.getString(StunAttributes.REALM);
      nonce = r.getString(StunAttributes.NONCE);
    }
    return r;
  }

  /** Signed request with the current nonce; extra attributes added by {@code attrs}. */
  StunMessage request(int method, Consumer<StunMessage.Builder> attrs) throws IOException {
    StunMessage.Builder b = StunMessage.builder(method, StunClass.REQUEST);
    attrs.accept(b);
    return exchange(signed(withCredentials(b)));
  }

  /** 401 dance then an authenticated UDP Allocate; remembers the relayed and mapped addresses on success. */
  StunMessage allocate(String user, String password) throws IOException {
    StunMessage challenge = challenge(StunMethods.ALLOCATE);
    if (challenge == null || nonce == null) {
      throw new AssertionError("no 401 challenge: " + challenge);
    }
    credentials(user, password, realm);
    return allocateNow(b -> { });
  }

  StunMessage allocateNow(Consumer<StunMessage.Builder> extra) throws IOException {
    StunMessage r = request(StunMethods.ALLOCATE, b -> {
      b.add(StunAttributes.REQUESTED_TRANSPORT, new byte[] {17, 0, 0, 0});
      extra.accept(b);
    });
    if (r != null && r.messageClass() == StunClass.SUCCESS_RESPONSE) {
      relayed = r.getXorAddress(StunAttributes.XOR_RELAYED_ADDRESS);
      mapped = r.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS);
    }
    return r;
  }

  /** Allocates, failing the test unless it succeeds. */
  TurnClient allocated(String user, String password) throws IOException {
    StunMessage r = allocate(user, password);
    if (r == null || r.messageClass() != StunClass.SUCCESS_RESPONSE) {
      throw new AssertionError("allocation failed: " + r + (r == null ? "" : " " + r.errorCode()));
    }
    return this;
  }

  StunMessage createPermission(InetSocketAddress... peers) throws IOException {
    return request(StunMethods.CREATE_PERMISSION, b -> {
      for (InetSocketAddress p : peers) {
        b.addXorAddress(StunAttributes.XOR_PEER_ADDRESS, p);
      }
    });
  }

  StunMessage channelBind(int channel, InetSocketAddress peer) throws IOException {
    return request(StunMethods.CHANNEL_BIND, b -> b
        .add(StunAttributes.CHANNEL_NUMBER, new byte[] {(byte) (channel >> 8), (byte) channel, 0, 0})
        .addXorAddress(StunAttributes.XOR_PEER_ADDRESS, peer));
  }

  StunMessage refresh(long lifetime) throws IOException {
    return request(StunMethods.REFRESH, b -> b.addU32(StunAttributes.LIFETIME, lifetime));
  }

  void sendIndication(InetSocketAddress peer, byte[] data) throws IOException {
    sendRaw(StunMessage.builder(StunMethods.SEND, StunClass.INDICATION)
        .addXorAddress(StunAttributes.XOR_PEER_ADDRESS, peer)
        .add(StunAttributes.DATA, data)
        .encode());
  }

  void sendChannelData(int channel, byte[] data) throws IOException {
    sendRaw(new ChannelData(channel, data).encode());
  }

  @Override
  public void close() {
    socket.close();
  }

  /** A plain UDP socket on loopback standing in for a peer. */
  static final class Peer implements AutoCloseable {
    final DatagramSocket socket;

    Peer() throws IOException {
      socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    InetSocketAddress address() {
      return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    void send(byte[] data, InetSocketAddress to) throws IOException {
      socket.send(new DatagramPacket(data, data.length, to));
    }

    /** The next datagram and its source, or null after {@code timeout}. */
    DatagramPacket receive(Duration timeout) throws IOException {
      byte[] buf = new byte[65_536];
      DatagramPacket p = new DatagramPacket(buf, buf.length);
      socket.setSoTimeout((int) timeout.toMillis());
      try {
        socket.receive(p);
      } catch (SocketTimeoutException e) {
        return null;
      }
      return p;
    }

    static byte[] payload(DatagramPacket p) {
      return Arrays.copyOfRange(p.getData(), p.getOffset(), p.getOffset() + p.getLength());
    }

    @Override
    public void close() {
      socket.close();
    }
  }
}
