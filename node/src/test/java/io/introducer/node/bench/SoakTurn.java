package io.introducer.node.bench;

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
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * A small blocking TURN client of the soak (RFC 8656 over UDP, built on the protocol codec): allocate with the
 * long-term mechanism (401 challenge, 438 retried once), CreatePermission, ChannelBind, ChannelData, Refresh. Its
 * own socket on its own loopback address; every wait is bounded. One thread uses it.
 */
final class SoakTurn implements AutoCloseable {
  private static final int WAIT_MILLIS = 1500;
  private static final int ATTEMPTS = 3;

  private final DatagramSocket socket;
  private final InetSocketAddress server;
  private final byte[] buf = new byte[2048];
  private String username;
  private String realm;
  private String nonce;
  private byte[] key;
  InetSocketAddress relayed;

  SoakTurn(String bindIp, InetSocketAddress server) throws IOException {
    this.socket = new DatagramSocket(new InetSocketAddress(bindIp, 0));
    this.server = server;
  }

  InetSocketAddress server() {
    return server;
  }

  /** The challenge, then an authenticated Allocate; the relayed address, or an IOException saying why not. */
  InetSocketAddress allocate(String user, String password) throws IOException {
    StunMessage.Builder b = StunMessage.builder(StunMethods.ALLOCATE, StunClass.REQUEST)
        .add(StunAttributes.REQUESTED_TRANSPORT, new byte[] {17, 0, 0, 0});
    StunMessage challenge = exchange(b.fingerprint().encode());
    if (challenge == null || challenge.errorCode() == null || challenge.errorCode().code() != ErrorCode.UNAUTHORIZED) {
      throw new IOException("no 401 challenge: " + describe(challenge));
    }
    realm = challenge.getString(StunAttributes.REALM);
    nonce = challenge.getString(StunAttributes.NONCE);
    username = user;
    key = LongTermCredentials.md5Key(user, realm, password);
    StunMessage r = request(StunMethods.ALLOCATE, x -> x.add(StunAttributes.REQUESTED_TRANSPORT, new byte[] {17, 0, 0, 0}));
    if (r == null || r.messageClass() != StunClass.SUCCESS_RESPONSE) {
      throw new IOException("Allocate: " + describe(r));
    }
    relayed = r.getXorAddress(StunAttributes.XOR_RELAYED_ADDRESS);
    return relayed;
  }

  void permit(InetSocketAddress peer) throws IOException {
    expectSuccess("CreatePermission", request(StunMethods.CREATE_PERMISSION,
        b -> b.addXorAddress(StunAttributes.XOR_PEER_ADDRESS, peer)));
  }

  void bindChannel(int channel, InetSocketAddress peer) throws IOException {
    expectSuccess("ChannelBind", request(StunMethods.CHANNEL_BIND, b -> b
        .add(StunAttributes.CHANNEL_NUMBER, new byte[] {(byte) (channel >> 8), (byte) channel, 0, 0})
        .addXorAddress(StunAttributes.XOR_PEER_ADDRESS, peer)));
  }

  /** Refresh with this LIFETIME (0 deletes the allocation). */
  void refresh(long lifetime) throws IOException {
    expectSuccess("Refresh", request(StunMethods.REFRESH, b -> b.addU32(StunAttributes.LIFETIME, lifetime)));
  }

  void sendChannelData(int channel, byte[] data) throws IOException {
    byte[] bytes = new ChannelData(channel, data).encode();
    socket.send(new DatagramPacket(bytes, bytes.length, server));
  }

  /** The payload of the next ChannelData from the relay, or null after {@code millis}. Other datagrams are skipped. */
  byte[] receiveChannelData(int millis) throws IOException {
    long deadline = System.nanoTime() + millis * 1_000_000L;
    for (int i = 0; i < 64; i++) {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        return null;
      }
      byte[] d = read((int) left);
      if (d == null) {
        return null;
      }
      if (d.length >= 4 && (d[0] & 0xC0) == 0x40) {
        try {
          return ChannelData.decode(d, 0, d.length).data();
        } catch (StunParseException e) {
          // not one of ours
        }
      }
    }
    return null;
  }

  private static void expectSuccess(String what, StunMessage r) throws IOException {
    if (r == null || r.messageClass() != StunClass.SUCCESS_RESPONSE) {
      throw new IOException(what + ": " + describe(r));
    }
  }

  private static String describe(StunMessage r) {
    if (r == null) {
      return "no answer";
    }
    return r.errorCode() != null ? r.errorCode().code() + " " + r.errorCode().reason() : r.messageClass().toString();
  }

  /** A signed request; a 438 is re-sent once with the fresh nonce. */
  private StunMessage request(int method, Consumer<StunMessage.Builder> attrs) throws IOException {
    for (int round = 0; round < 2; round++) {
      StunMessage.Builder b = StunMessage.builder(method, StunClass.REQUEST);
      attrs.accept(b);
      b.addString(StunAttributes.USERNAME, username).addString(StunAttributes.REALM, realm)
          .addString(StunAttributes.NONCE, nonce);
      StunMessage r = exchange(b.integrity(key).fingerprint().encode());
      if (r != null && r.errorCode() != null && r.errorCode().code() == ErrorCode.STALE_NONCE) {
        nonce = r.getString(StunAttributes.NONCE);
        continue;
      }
      return r;
    }
    return null;
  }

  /** Sends {@code bytes} (retransmitting up to {@link #ATTEMPTS} times) and waits for the response to it. */
  private StunMessage exchange(byte[] bytes) throws IOException {
    byte[] txid = Arrays.copyOfRange(bytes, 8, 20);
    for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
      socket.send(new DatagramPacket(bytes, bytes.length, server));
      long deadline = System.nanoTime() + WAIT_MILLIS * 1_000_000L;
      for (int i = 0; i < 256; i++) {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
          break;
        }
        byte[] d = read((int) left);
        if (d == null) {
          break;
        }
        if (d.length >= 20 && (d[0] & 0xC0) == 0 && Arrays.equals(Arrays.copyOfRange(d, 8, 20), txid)) {
          try {
            return StunMessage.decode(d);
          } catch (StunParseException e) {
            throw new IOException("malformed response: " + e.getMessage(), e);
          }
        }
      }
    }
    return null;
  }

  private byte[] read(int millis) throws IOException {
    DatagramPacket p = new DatagramPacket(buf, buf.length);
    socket.setSoTimeout(Math.max(1, millis));
    try {
      socket.receive(p);
    } catch (SocketTimeoutException e) {
      return null;
    }
    return Arrays.copyOf(buf, p.getLength());
  }

  /** Closes the socket only: an allocation not deleted before stays on the relay until its lifetime ends. */
  @Override
  public void close() {
    socket.close();
  }
}
