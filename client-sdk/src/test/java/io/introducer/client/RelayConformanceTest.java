package io.introducer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.client.transport.UdpTransportFactory;
import io.introducer.protocol.ChannelData;
import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.LongTermCredentials;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client's relay side (PROTOCOL.md section 8, RFC 8656) against a hand-driven introducer, relay and peer
 * built from the codec alone: every message is checked field by field, and forged ones are shown to be ignored.
 */
class RelayConformanceTest {
  private static final String APP = "game";
  private static final String PEER = "relay-conformance";
  private static final String REMOTE = "remote-peer";
  private static final byte[] PEER_KEY = Rendezvous.peerKey("secret", APP, PEER);
  private static final String TURN_USER = "1999999999:" + PEER;
  private static final String TURN_PASSWORD = "dGhpcyBpcyB0aGUgcGFzc3dvcmQ=";
  private static final SecureRandom RANDOM = new SecureRandom();

  private DatagramSocket introducer;
  private DatagramSocket relay;
  private DatagramSocket remote;
  private IntroducerClient client;

  private record Received(StunMessage message, InetSocketAddress source, byte[] raw) {}

  @BeforeEach
  void sockets() throws Exception {
    introducer = socket();
    relay = socket();
    remote = socket();
  }

  @AfterEach
  void close() {
    if (client != null) {
      client.close();
    }
    introducer.close();
    relay.close();
    remote.close();
  }

  private static DatagramSocket socket() throws Exception {
    DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    s.setSoTimeout(3_000);
    return s;
  }

  private static InetSocketAddress address(DatagramSocket s) {
    return (InetSocketAddress) s.getLocalSocketAddress();
  }

  private static Received receive(DatagramSocket s) throws Exception {
    DatagramPacket p = new DatagramPacket(new byte[70_000], 70_000);
    try {
      s.receive(p);
    } catch (SocketTimeoutException e) {
      throw new AssertionError("nothing arrived within 3 s");
    }
    byte[] raw = Arrays.copyOf(p.getData(), p.getLength());
    StunMessage m = raw.length > 0 && (raw[0] & 0xFF) <= 3 ? StunMessage.decode(raw) : null;
    return new Received(m, (InetSocketAddress) p.getSocketAddress(), raw);
  }

  /** Receives until a datagram matches (retransmissions and punches keep coming meanwhile). */
  private static Received receive(DatagramSocket s, Predicate<Received> wanted, String what) throws Exception {
    for (int i = 0; i < 200; i++) {
      Received r = receive(s);
      if (wanted.test(r)) {
        return r;
      }
    }
    throw new AssertionError("no " + what);
  }

  private static Received receive(DatagramSocket s, int method, StunClass cls) throws Exception {
    return receive(s, r -> r.message() != null && r.message().is(method, cls), StunMethods.name(method) + " " + cls);
  }

  private static void send(DatagramSocket s, byte[] data, InetSocketAddress to) throws Exception {
    s.send(new DatagramPacket(data, data.length, to));
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  /** Starts the client (its default policy {@code policy}) and registers it. */
  private InetSocketAddress register(ConnectPolicy policy) throws Exception {
    ClientConfig config = ClientConfig.builder().server("127.0.0.1", address(introducer).getPort())
        .appId(APP).appSecret("secret").peerId(PEER).bindAddress(new InetSocketAddress("127.0.0.1", 0))
        .natDiscovery(false).defaultPolicy(policy)
        .transportFactory(new UdpTransportFactory())
        .keepaliveInterval(Duration.ofSeconds(30)).requestTimeout(Duration.ofSeconds(1)).build();
    CompletableFuture<IntroducerClient> started = IntroducerClient.start(config);
    Received reg = receive(introducer, StunMethods.REGISTER, StunClass.REQUEST);
    send(introducer, StunMessage.successFor(reg.message())
        .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, reg.source())
        .addU32(StunAttributes.REGISTRATION_LIFETIME, 60).integritySha256(PEER_KEY).fingerprint().encode(), reg.source());
    client = started.get(5, TimeUnit.SECONDS);
    return reg.source();
  }

  private static byte[] introduce(byte[] sessionId, byte[] sessionKey, InetSocketAddress candidate, long windowMillis) {
    byte[] tx = StunMessage.newTransactionId();
    return StunMessage.builder(StunMethods.INTRODUCE, StunClass.REQUEST, tx)
        .addString(StunAttributes.APP_ID, APP).addString(StunAttributes.PEER_ID, PEER)
        .addU64(StunAttributes.TIMESTAMP, System.currentTimeMillis())
        .add(StunAttributes.SESSION_ID, sessionId)
        .add(StunAttributes.SESSION_KEY, Rendezvous.maskSessionKey(sessionKey, PEER_KEY, tx, sessionId))
        .add(StunAttributes.ROLE, new byte[] {1, 0, 0, 0})
        .addString(StunAttributes.TARGET_PEER_ID, REMOTE)
        .add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.SERVER_REFLEXIVE, candidate).encode(tx))
        .add(StunAttributes.STRATEGY, new byte[] {0, 0, 0, 0}).addU32(StunAttributes.PUNCH_WINDOW, windowMillis)
        .integritySha256(PEER_KEY).fingerprint().encode();
  }

  /** The introducer's UPDATE to the client, signed with {@code key}. */
  private static byte[] update(byte[] sessionId, InetSocketAddress relayed, byte[] key) {
    byte[] tx = StunMessage.newTransactionId();
    return StunMessage.builder(StunMethods.UPDATE, StunClass.REQUEST, tx)
        .addString(StunAttributes.APP_ID, APP).addString(StunAttributes.PEER_ID, PEER)
        .addU64(StunAttributes.TIMESTAMP, System.currentTimeMillis())
        .add(StunAttributes.SESSION_ID, sessionId)
        .addString(StunAttributes.TARGET_PEER_ID, REMOTE)
        .add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.RELAYED, relayed).encode(tx))
        .integritySha256(key).fingerprint().encode();
  }

  private static byte[] punchRequest(byte[] sessionId, byte[] key) {
    return StunMessage.builder(StunMethods.PUNCH, StunClass.REQUEST).add(StunAttributes.SESSION_ID, sessionId)
        .addString(StunAttributes.PEER_ID, REMOTE).integritySha256(key).fingerprint().encode();
  }

  private static byte[] punchSuccess(StunMessage request, byte[] sessionId, InetSocketAddress mapped, byte[] key) {
    return StunMessage.successFor(request).add(StunAttributes.SESSION_ID, sessionId)
        .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, mapped).integritySha256(key).fingerprint().encode();
  }

  @Test
  void updatesAreVerifiedAckedAndTheirRelayedCandidateIsPunchedAsARelayPath() throws Exception {
    InetSocketAddress clientAddress = register(ConnectPolicy.AUTO);
    BlockingQueue<PeerChannel> incoming = new LinkedBlockingQueue<>();
    client.onIncoming(incoming::add);
    byte[] sessionId = random(16);
    byte[] sessionKey = random(32);
    // The peer's server-reflexive candidate leads nowhere (nobody answers there); only the relay will work.
    InetSocketAddress deadEnd;
    try (DatagramSocket s = socket()) {
      deadEnd = address(s);
    }
    send(introducer, introduce(sessionId, sessionKey, deadEnd, 10_000), clientAddress);
    receive(introducer, StunMethods.INTRODUCE, StunClass.SUCCESS_RESPONSE);

    // A forged UPDATE (wrong key) is neither acked nor used; the genuine one after it is acked, signed.
    byte[] forged = update(sessionId, address(relay), random(32));
    byte[] genuine = update(sessionId, address(remote), PEER_KEY);
    send(introducer, forged, clientAddress);
    send(introducer, genuine, clientAddress);
    StunMessage ack = receive(introducer, StunMethods.UPDATE, StunClass.SUCCESS_RESPONSE).message();
    assertThat(ack.transactionId()).isEqualTo(Arrays.copyOfRange(genuine, 8, 20));
    assertThat(ack.get(StunAttributes.SESSION_ID)).isEqualTo(sessionId);
    assertThat(ack.verifyIntegritySha256(PEER_KEY)).isTrue();
    assertThat(ack.hasFingerprint()).isTrue();

    // The relayed candidate is punched at once, like any candidate; its answer opens a RELAY path.
    Received punch = receive(remote, StunMethods.PUNCH, StunClass.REQUEST);
    assertThat(punch.source()).isEqualTo(clientAddress);
    send(remote, punchSuccess(punch.message(), sessionId, clientAddress, sessionKey), clientAddress);
    PeerChannel ch = incoming.poll(5, TimeUnit.SECONDS);
    assertThat(ch).isNotNull();
    assertThat(ch.path()).isEqualTo(Path.RELAY);
    assertThat(ch.remoteAddress()).isEqualTo(address(remote));

    StunMessage result = receive(introducer, StunMethods.RESULT, StunClass.REQUEST).message();
    assertThat(result.get(StunAttributes.OUTCOME)[0]).isEqualTo((byte) Outcome.CONNECTED_RELAY.code());
    assertThat(Candidate.decode(result.get(StunAttributes.CANDIDATE), result.transactionId()).address())
        .isEqualTo(address(remote));
    // Nothing was ever sent to the forged UPDATE's candidate.
    relay.setSoTimeout(300);
    assertThat(catchNothing(relay)).isTrue();

    // Data to a relayed candidate is plain: the relay wraps it for the allocating peer.
    ch.send("hello".getBytes(StandardCharsets.UTF_8));
    Received data = receive(remote, r -> r.raw().length > 0 && r.raw()[0] == (byte) 0xDA, "data frame");
    assertThat(new String(data.raw(), 1, data.raw().length - 1, StandardCharsets.UTF_8)).isEqualTo("hello");
  }

  private static boolean catchNothing(DatagramSocket s) throws Exception {
    try {
      s.receive(new DatagramPacket(new byte[2048], 2048));
      return false;
    } catch (SocketTimeoutException e) {
      return true;
    }
  }

  @Test
  void aDirectOnlyClientAcksUpdatesButNeverPunchesRelayedCandidates() throws Exception {
    InetSocketAddress clientAddress = register(ConnectPolicy.DIRECT_ONLY);
    byte[] sessionId = random(16);
    byte[] sessionKey = random(32);
    send(introducer, introduce(sessionId, sessionKey, address(remote), 10_000), clientAddress);
    receive(introducer, StunMethods.INTRODUCE, StunClass.SUCCESS_RESPONSE);
    receive(remote, StunMethods.PUNCH, StunClass.REQUEST); // the direct candidate is punched

    send(introducer, update(sessionId, address(relay), PEER_KEY), clientAddress);

    assertThat(receive(introducer, StunMethods.UPDATE, StunClass.SUCCESS_RESPONSE).message()
        .verifyIntegritySha256(PEER_KEY)).isTrue();
    relay.setSoTimeout(1_000);
    assertThat(catchNothing(relay)).as("no punch to the relayed candidate").isTrue();
  }

  @Test
  void anInitiatorAllocatesAnnouncesAndAnswersThroughTheRelay() throws Exception {
    InetSocketAddress clientAddress = register(ConnectPolicy.AUTO);
    CompletableFuture<PeerChannel> connecting = client.connect(REMOTE, ConnectOptions.policy(ConnectPolicy.RELAY_FIRST));

    // CONNECT success with relay credentials; the password travels masked with K_peer and the transaction id.
    Received connect = receive(introducer, StunMethods.CONNECT, StunClass.REQUEST);
    byte[] tx = connect.message().transactionId();
    byte[] sessionId = random(16);
    byte[] sessionKey = random(32);
    InetSocketAddress peerReflexive = new InetSocketAddress("127.0.0.1", address(remote).getPort());
    send(introducer, StunMessage.successFor(connect.message())
        .add(StunAttributes.SESSION_ID, sessionId)
        .add(StunAttributes.SESSION_KEY, Rendezvous.maskSessionKey(sessionKey, PEER_KEY, tx, sessionId))
        .add(StunAttributes.ROLE, new byte[] {0, 0, 0, 0})
        .addString(StunAttributes.TARGET_PEER_ID, REMOTE)
        .add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.SERVER_REFLEXIVE, peerReflexive).encode(tx))
        .add(StunAttributes.STRATEGY, new byte[] {0, 0, 0, 0}).addU32(StunAttributes.PUNCH_WINDOW, 10_000)
        .addXorAddress(StunAttributes.RELAY_ADDRESS, address(relay))
        .addString(StunAttributes.RELAY_USERNAME, TURN_USER)
        .add(StunAttributes.RELAY_PASSWORD,
            Rendezvous.maskRelayPassword(TURN_PASSWORD.getBytes(StandardCharsets.UTF_8), PEER_KEY, tx))
        .integritySha256(PEER_KEY).fingerprint().encode(), connect.source());

    // Allocate: first without credentials, to learn REALM and NONCE from the 401.
    StunMessage first = receive(relay, StunMethods.ALLOCATE, StunClass.REQUEST).message();
    assertThat(first.get(StunAttributes.REQUESTED_TRANSPORT)).containsExactly(17, 0, 0, 0);
    assertThat(first.hasIntegrity()).isFalse();
    send(relay, StunMessage.errorFor(first, ErrorCode.UNAUTHORIZED, "Unauthorized")
        .addString(StunAttributes.REALM, "conformance").addString(StunAttributes.NONCE, "nonce-1")
        .fingerprint().encode(), clientAddress);
    byte[] key = LongTermCredentials.md5Key(TURN_USER, "conformance", TURN_PASSWORD);
    Predicate<Received> authenticatedAllocate = r -> r.message() != null
        && r.message().is(StunMethods.ALLOCATE, StunClass.REQUEST) && r.message().hasIntegrity();
    StunMessage allocate = receive(relay, authenticatedAllocate, "authenticated Allocate").message();
    assertThat(allocate.getString(StunAttributes.USERNAME)).isEqualTo(TURN_USER);
    assertThat(allocate.getString(StunAttributes.REALM)).isEqualTo("conformance");
    assertThat(allocate.getString(StunAttributes.NONCE)).isEqualTo("nonce-1");
    assertThat(allocate.verifyIntegrity(key)).isTrue();
    assertThat(allocate.hasFingerprint()).isTrue();
    // A stale nonce: the client retries with the new one.
    send(relay, StunMessage.errorFor(allocate, ErrorCode.STALE_NONCE, "Stale Nonce")
        .addString(StunAttributes.REALM, "conformance").addString(StunAttributes.NONCE, "nonce-2")
        .fingerprint().encode(), clientAddress);
    StunMessage retried = receive(relay, r -> authenticatedAllocate.test(r)
        && "nonce-2".equals(r.message().getString(StunAttributes.NONCE)), "Allocate with the new nonce").message();
    assertThat(retried.verifyIntegrity(key)).isTrue();
    // An unsigned success is not believed; the signed one is.
    InetSocketAddress relayed = new InetSocketAddress("127.0.0.1", 49999);
    StunMessage.Builder success = StunMessage.successFor(retried)
        .addXorAddress(StunAttributes.XOR_RELAYED_ADDRESS, relayed).addU32(StunAttributes.LIFETIME, 600)
        .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, clientAddress);
    send(relay, success.fingerprint().encode(), clientAddress);
    send(relay, success.integrity(key).fingerprint().encode(), clientAddress);

    // CreatePermission for the peer's server-reflexive IP, then UPDATE with the relayed candidate.
    StunMessage permission = receive(relay, StunMethods.CREATE_PERMISSION, StunClass.REQUEST).message();
    assertThat(permission.verifyIntegrity(key)).isTrue();
    assertThat(permission.getXorAddress(StunAttributes.XOR_PEER_ADDRESS).getAddress())
        .isEqualTo(peerReflexive.getAddress());
    send(relay, StunMessage.successFor(permission).integrity(key).fingerprint().encode(), clientAddress);
    StunMessage announced = receive(introducer, StunMethods.UPDATE, StunClass.REQUEST).message();
    assertThat(announced.verifyIntegritySha256(PEER_KEY)).isTrue();
    assertThat(announced.getString(StunAttributes.PEER_ID)).isEqualTo(PEER);
    assertThat(announced.get(StunAttributes.SESSION_ID)).isEqualTo(sessionId);
    assertThat(Candidate.decode(announced.get(StunAttributes.CANDIDATE), announced.transactionId()))
        .isEqualTo(new Candidate(Candidate.Kind.RELAYED, relayed));
    send(introducer, StunMessage.successFor(announced).integritySha256(PEER_KEY).fingerprint().encode(),
        clientAddress);

    // The peer punches the relayed address: a Data indication. The client answers with a Send indication,
    // punches back, and binds a channel to the peer's address as the relay saw it.
    InetSocketAddress peerAtRelay = new InetSocketAddress("127.0.0.1", 40404);
    byte[] peerPunch = punchRequest(sessionId, sessionKey);
    send(relay, StunMessage.builder(StunMethods.DATA, StunClass.INDICATION)
        .addXorAddress(StunAttributes.XOR_PEER_ADDRESS, peerAtRelay).add(StunAttributes.DATA, peerPunch)
        .fingerprint().encode(), clientAddress);
    StunMessage answer = null;
    StunMessage triggered = null;
    StunMessage bind = null;
    while (answer == null || triggered == null || bind == null) {
      Received r = receive(relay);
      StunMessage m = r.message();
      if (m != null && m.is(StunMethods.SEND, StunClass.INDICATION)) {
        assertThat(m.getXorAddress(StunAttributes.XOR_PEER_ADDRESS)).isEqualTo(peerAtRelay);
        StunMessage inner = StunMessage.decode(m.get(StunAttributes.DATA));
        if (inner.is(StunMethods.PUNCH, StunClass.SUCCESS_RESPONSE)) {
          answer = inner;
        } else if (inner.is(StunMethods.PUNCH, StunClass.REQUEST)) {
          triggered = inner;
        }
      } else if (m != null && m.is(StunMethods.CHANNEL_BIND, StunClass.REQUEST)) {
        bind = m;
      }
    }
    assertThat(answer.transactionId()).isEqualTo(Arrays.copyOfRange(peerPunch, 8, 20));
    assertThat(answer.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(peerAtRelay);
    assertThat(answer.verifyIntegritySha256(sessionKey)).isTrue();
    assertThat(triggered.verifyIntegritySha256(sessionKey)).isTrue();
    assertThat(bind.verifyIntegrity(key)).isTrue();
    assertThat(bind.get(StunAttributes.CHANNEL_NUMBER)).containsExactly(0x40, 0x00, 0, 0);
    assertThat(bind.getXorAddress(StunAttributes.XOR_PEER_ADDRESS)).isEqualTo(peerAtRelay);
    send(relay, StunMessage.successFor(bind).integrity(key).fingerprint().encode(), clientAddress);

    // With the channel bound, the client's next punch travels in ChannelData; the peer's answer comes back
    // the same way, and the connect completes on the RELAY path.
    Received channelPunch = receive(relay, r -> r.raw()[0] == 0x40 && r.raw().length > 4 && (r.raw()[4] & 0xFF) <= 3,
        "PUNCH in ChannelData");
    ChannelData carried = ChannelData.decode(channelPunch.raw(), 0, channelPunch.raw().length);
    assertThat(carried.channel()).isEqualTo(0x4000);
    StunMessage punchedAgain = StunMessage.decode(carried.data());
    assertThat(punchedAgain.is(StunMethods.PUNCH, StunClass.REQUEST)).isTrue();
    byte[] peerAnswer = punchSuccess(punchedAgain, sessionId, relayed, sessionKey);
    send(relay, new ChannelData(0x4000, peerAnswer).encode(), clientAddress);
    PeerChannel ch = connecting.get(5, TimeUnit.SECONDS);
    assertThat(ch.path()).isEqualTo(Path.RELAY);
    assertThat(ch.remoteAddress()).isEqualTo(peerAtRelay);
    assertThat(ch.sessionId()).isEqualTo(HexFormat.of().formatHex(sessionId));

    // Data both ways in ChannelData on the bound channel.
    BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    ch.onMessage(b -> messages.add(new String(b, StandardCharsets.UTF_8)));
    send(relay, new ChannelData(0x4000, new byte[] {(byte) 0xDA, 'h', 'i'}).encode(), clientAddress);
    assertThat(messages.poll(5, TimeUnit.SECONDS)).isEqualTo("hi");
    ch.send("yo".getBytes(StandardCharsets.UTF_8));
    Received data = receive(relay, r -> r.raw()[0] == 0x40 && r.raw().length > 4 && r.raw()[4] == (byte) 0xDA,
        "data in ChannelData");
    assertThat(ChannelData.decode(data.raw(), 0, data.raw().length))
        .isEqualTo(new ChannelData(0x4000, new byte[] {(byte) 0xDA, 'y', 'o'}));

    // Closing the channel: CLOSE through the channel, then the allocation is deleted (Refresh LIFETIME 0).
    ch.close();
    Received close = receive(relay, r -> r.raw()[0] == 0x40 && r.raw().length > 4 && r.raw()[4] != (byte) 0xDA,
        "CLOSE in ChannelData");
    StunMessage closeIndication = StunMessage.decode(Arrays.copyOfRange(close.raw(), 4, close.raw().length));
    assertThat(closeIndication.is(StunMethods.CLOSE, StunClass.INDICATION)).isTrue();
    assertThat(closeIndication.verifyIntegritySha256(sessionKey)).isTrue();
    StunMessage delete = receive(relay, StunMethods.REFRESH, StunClass.REQUEST).message();
    assertThat(delete.getU32(StunAttributes.LIFETIME)).isZero();
    assertThat(delete.verifyIntegrity(key)).isTrue();
    send(relay, StunMessage.successFor(delete).addU32(StunAttributes.LIFETIME, 0).integrity(key).fingerprint()
        .encode(), clientAddress);
  }
}
