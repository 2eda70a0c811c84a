package io.introducer.relay;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Jazzer fuzz targets for the relay's listening socket: its request handler (Binding, Allocate, Refresh,
 * CreatePermission, ChannelBind) and its data plane (Send indications, ChannelData). The relay's internals need
 * their event loops and sockets, so the targets go through a real socket on loopback: each input is sent from a client
 * that holds an allocation with a permission for 127.0.0.1 and channel 0x4000 bound, then a Binding proves the relay
 * still answers (the same 5-tuple is handled in order), and nothing may have been caught as a bug
 * ({@code internal-error}). Each input waits at most 5 s. Under {@code mvn verify} the corpus in
 * src/test/resources/io/introducer/relay/RelayFuzzTestInputs/ is replayed; JAZZER_FUZZ=1 fuzzes (README, Fuzzing).
 */
class RelayFuzzTest {
  private static final int MAX_UDP_PAYLOAD = 65_507;
  private static Vertx vertx;
  private static RelayFixture relay;
  private static TurnClient client;
  private static DatagramSocket peer;
  private static int sentinel;

  private static final ch.qos.logback.classic.Logger LOG =
      (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.introducer");
  private static ch.qos.logback.classic.Level level;

  @BeforeAll
  static void start() throws Exception {
    level = LOG.getLevel();
    LOG.setLevel(ch.qos.logback.classic.Level.INFO); // a debug line per dropped datagram would slow fuzzing down
    vertx = Vertx.vertx();
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("unauthRatePerSecond", 1_000_000));
    client = relay.client();
    client.allocated(RelayFixture.ALICE, RelayFixture.ALICE_PASSWORD);
    peer = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    InetSocketAddress peerAddress = (InetSocketAddress) peer.getLocalSocketAddress();
    require(client.createPermission(peerAddress), "CreatePermission");
    require(client.channelBind(0x4000, peerAddress), "ChannelBind");
  }

  private static void require(StunMessage answer, String what) {
    if (answer == null || answer.messageClass() != StunClass.SUCCESS_RESPONSE) {
      throw new IllegalStateException(what + " failed: " + answer);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    peer.close();
    relay.close();
    vertx.close().await(10, TimeUnit.SECONDS);
    LOG.setLevel(level);
  }

  /** Any datagram from the allocated client, as it arrives. */
  @FuzzTest(maxDuration = "60s")
  void onDatagram(byte[] datagram) throws IOException {
    send(datagram.length > MAX_UDP_PAYLOAD ? Arrays.copyOf(datagram, MAX_UDP_PAYLOAD) : datagram);
    assertStillServing();
  }

  /**
   * STUN requests re-signed with the client's long-term credentials and current nonce, to reach what lies behind
   * authentication: Allocate, Refresh, CreatePermission and ChannelBind with any attributes.
   */
  @FuzzTest(maxDuration = "60s")
  void onAuthenticatedRequest(byte[] request) throws IOException {
    StunMessage m;
    try {
      m = StunMessage.decode(request);
    } catch (StunParseException e) {
      return;
    }
    if (m.messageClass() != StunClass.REQUEST) {
      return;
    }
    StunMessage.Builder b = StunMessage.builder(m.method(), StunClass.REQUEST, m.transactionId());
    byte[] signed;
    try {
      for (int type : m.attributeTypes()) {
        if (type != StunAttributes.USERNAME && type != StunAttributes.REALM && type != StunAttributes.NONCE
            && type != StunAttributes.MESSAGE_INTEGRITY && type != StunAttributes.MESSAGE_INTEGRITY_SHA256
            && type != StunAttributes.FINGERPRINT) {
          for (byte[] v : m.getAll(type)) {
            b.add(type, v);
          }
        }
      }
      signed = client.signed(client.withCredentials(b));
    } catch (IllegalArgumentException | IllegalStateException tooLong) {
      return;
    }
    send(signed);
    assertStillServing();
  }

  private static void send(byte[] datagram) throws IOException {
    client.sendRaw(datagram);
  }

  /** A Binding from the same client is answered (within 5 s), and the relay caught no bug. */
  private static void assertStillServing() throws IOException {
    byte[] tx = new byte[12];
    tx[0] = (byte) 0xB1;
    tx[8] = (byte) (++sentinel >>> 24);
    tx[9] = (byte) (sentinel >>> 16);
    tx[10] = (byte) (sentinel >>> 8);
    tx[11] = (byte) sentinel;
    send(StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, tx).encode());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    byte[] buf = new byte[65_536];
    while (true) {
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) {
        throw new AssertionError("the relay stopped answering");
      }
      client.socket.setSoTimeout((int) left);
      DatagramPacket p = new DatagramPacket(buf, buf.length);
      try {
        client.socket.receive(p);
      } catch (SocketTimeoutException e) {
        throw new AssertionError("the relay stopped answering", e);
      }
      if (p.getLength() >= 20 && Arrays.equals(Arrays.copyOfRange(buf, 8, 20), tx)) {
        break;
      }
      nonceFrom(Arrays.copyOf(buf, p.getLength()));
    }
    if (relay.counters().drops("internal-error") > 0) {
      throw new AssertionError("the relay caught a bug (see the log)");
    }
  }

  /** Keeps the client's nonce fresh when the relay says it is stale (438). */
  private static void nonceFrom(byte[] datagram) {
    try {
      StunMessage m = StunMessage.decode(datagram);
      if (m.errorCode() != null && m.errorCode().code() == ErrorCode.STALE_NONCE && m.getString(StunAttributes.NONCE) != null) {
        client.nonce = m.getString(StunAttributes.NONCE);
      }
    } catch (StunParseException notStun) {
      // ChannelData or data from the peer: nothing to learn
    }
  }
}
