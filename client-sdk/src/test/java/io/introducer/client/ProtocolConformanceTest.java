package io.introducer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.client.transport.UdpTransportFactory;
import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.PunchParams;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.protocol.rendezvous.Strategy;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The client against a hand-driven introducer and peer built from the codec alone: every message the
 * client sends is checked against docs/PROTOCOL.md, and forged answers are shown to be ignored.
 */
class ProtocolConformanceTest {
  private static final String APP = "game";
  private static final String PEER = "conformance-peer";
  private static final String REMOTE = "remote-peer";
  private static final byte[] PEER_KEY = Rendezvous.peerKey("secret", APP, PEER);
  private static final SecureRandom RANDOM = new SecureRandom();

  private DatagramSocket introducer;
  private DatagramSocket remote;
  private IntroducerClient client;

  private record Received(StunMessage message, InetSocketAddress source, byte[] raw) {}

  @BeforeEach
  void sockets() throws Exception {
    introducer = socket();
    remote = socket();
  }

  @AfterEach
  void close() {
    if (client != null) {
      client.close();
    }
    introducer.close();
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
    StunMessage m = raw.length > 0 && raw[0] != (byte) 0xDA ? StunMessage.decode(raw) : null;
    return new Received(m, (InetSocketAddress) p.getSocketAddress(), raw);
  }

  /** Receives until a message of this method and class arrives (punches keep coming meanwhile). */
  private static Received receive(DatagramSocket s, int method, StunClass cls) throws Exception {
    for (int i = 0; i < 100; i++) {
      Received r = receive(s);
      if (r.message() != null && r.message().is(method, cls)) {
        return r;
      }
    }
    throw new AssertionError("no " + StunMethods.name(method) + " " + cls);
  }

  private static void send(DatagramSocket s, byte[] data, InetSocketAddress to) throws Exception {
    s.send(new DatagramPacket(data, data.length, to));
  }

  private void assertSignedIntroducerRequest(StunMessage m) {
    assertThat(m.messageClass()).isEqualTo(StunClass.REQUEST);
    assertThat(m.getString(StunAttributes.APP_ID)).isEqualTo(APP);
    assertThat(m.getString(StunAttributes.PEER_ID)).isEqualTo(PEER);
    assertThat(m.getU64(StunAttributes.TIMESTAMP)).isCloseTo(System.currentTimeMillis(), Offset.offset(30_000L));
    assertThat(m.verifyIntegritySha256(PEER_KEY)).isTrue();
    assertThat(m.hasFingerprint()).isTrue();
  }

  private static byte[] registerSuccess(StunMessage request, InetSocketAddress mapped, byte[] key) {
    StunMessage.Builder b = StunMessage.successFor(request).addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, mapped)
        .addU32(StunAttributes.REGISTRATION_LIFETIME, 60);
    if (key != null) {
      b.integritySha256(key);
    }
    return b.fingerprint().encode();
  }

  /** Starts the client and registers it; forged success responses before the real one must be ignored. */
  private InetSocketAddress register(ClientListener listener) throws Exception {
    ClientConfig config = ClientConfig.builder().server("127.0.0.1", address(introducer).getPort())
        .appId(APP).appSecret("secret").peerId(PEER).bindAddress(new InetSocketAddress("127.0.0.1", 0))
        .natDiscovery(false) // this hand-driven introducer does not answer Binding
        .transportFactory(new UdpTransportFactory()).listener(listener)
        .keepaliveInterval(Duration.ofSeconds(30)).requestTimeout(Duration.ofSeconds(1)).build();
    CompletableFuture<IntroducerClient> started = IntroducerClient.start(config);
    Received reg = receive(introducer, StunMethods.REGISTER, StunClass.REQUEST);
    assertSignedIntroducerRequest(reg.message());
    List<Candidate> hosts = reg.message().getAll(StunAttributes.CANDIDATE).stream()
        .map(v -> Candidate.decode(v, reg.message().transactionId())).toList();
    assertThat(hosts).containsExactly(new Candidate(Candidate.Kind.HOST, reg.source()));

    StunMessage request = reg.message();
    send(introducer, registerSuccess(request, new InetSocketAddress("127.0.0.66", 1), null), reg.source());
    send(introducer, registerSuccess(request, new InetSocketAddress("127.0.0.77", 2), new byte[32]), reg.source());
    send(introducer, registerSuccess(request, reg.source(), PEER_KEY), reg.source());
    client = started.get(5, TimeUnit.SECONDS);
    assertThat(client.publicAddress()).isEqualTo(reg.source());
    assertThat(client.droppedDatagrams()).isEqualTo(2);
    return reg.source();
  }

  private static byte[] introduce(byte[] tx, byte[] sessionId, byte[] sessionKey, InetSocketAddress candidate) {
    return introduce(tx, sessionId, sessionKey, candidate, new byte[] {0, 0, 0, 0}, null);
  }

  private static byte[] introduce(byte[] tx, byte[] sessionId, byte[] sessionKey, InetSocketAddress candidate,
      byte[] strategy, PunchParams params) {
    StunMessage.Builder b = StunMessage.builder(StunMethods.INTRODUCE, StunClass.REQUEST, tx)
        .addString(StunAttributes.APP_ID, APP).addString(StunAttributes.PEER_ID, PEER)
        .addU64(StunAttributes.TIMESTAMP, System.currentTimeMillis())
        .add(StunAttributes.SESSION_ID, sessionId)
        .add(StunAttributes.SESSION_KEY, Rendezvous.maskSessionKey(sessionKey, PEER_KEY, tx, sessionId))
        .add(StunAttributes.ROLE, new byte[] {1, 0, 0, 0})
        .addString(StunAttributes.TARGET_PEER_ID, REMOTE);
    b.add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.SERVER_REFLEXIVE, candidate).encode(tx));
    if (params != null) {
      b.add(StunAttributes.PUNCH_PARAMS, params.encode());
    }
    return b.add(StunAttributes.STRATEGY, strategy).addU32(StunAttributes.PUNCH_WINDOW, 5_000)
        .integritySha256(PEER_KEY).fingerprint().encode();
  }

  /** A PUNCH request from the remote peer, optionally with an unknown comprehension-required attribute. */
  private static byte[] punchRequest(byte[] tx, byte[] sessionId, byte[] key, boolean unknownAttribute) {
    return punchRequest(tx, sessionId, key, unknownAttribute, false);
  }

  private static byte[] punchRequest(byte[] tx, byte[] sessionId, byte[] key, boolean unknownAttribute,
      boolean nominated) {
    StunMessage.Builder b = StunMessage.builder(StunMethods.PUNCH, StunClass.REQUEST, tx)
        .add(StunAttributes.SESSION_ID, sessionId).addString(StunAttributes.PEER_ID, REMOTE);
    if (unknownAttribute) {
      b.add(0x0777, new byte[4]);
    }
    if (nominated) {
      b.add(StunAttributes.NOMINATED, new byte[0]);
    }
    return b.integritySha256(key).fingerprint().encode();
  }

  private static byte[] punchSuccess(StunMessage request, byte[] sessionId, InetSocketAddress mapped, byte[] key) {
    return StunMessage.successFor(request).add(StunAttributes.SESSION_ID, sessionId)
        .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, mapped).integritySha256(key).fingerprint().encode();
  }

  private static byte[] closeIndication(byte[] sessionId, byte[] key) {
    return StunMessage.builder(StunMethods.CLOSE, StunClass.INDICATION).add(StunAttributes.SESSION_ID, sessionId)
        .addString(StunAttributes.PEER_ID, REMOTE).integritySha256(key).fingerprint().encode();
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  @Test
  void anIntroducedSessionFollowsTheProtocolFromIntroduceToClose() throws Exception {
    AtomicInteger introductions = new AtomicInteger();
    InetSocketAddress clientAddress = register(new ClientListener() {
      @Override
      public void introduced(String remotePeerId, String sessionId, List<Candidate> c, Strategy s) {
        introductions.incrementAndGet();
      }
    });
    BlockingQueue<PeerChannel> incoming = new LinkedBlockingQueue<>();
    client.onIncoming(incoming::add);

    // INTRODUCE, twice (a retransmission): both acknowledged, one session.
    byte[] tx = StunMessage.newTransactionId();
    byte[] sessionId = random(16);
    byte[] sessionKey = random(32);
    byte[] intro = introduce(tx, sessionId, sessionKey, address(remote));
    send(introducer, intro, clientAddress);
    send(introducer, intro, clientAddress);
    for (int i = 0; i < 2; i++) {
      StunMessage ack = receive(introducer, StunMethods.INTRODUCE, StunClass.SUCCESS_RESPONSE).message();
      assertThat(ack.transactionId()).isEqualTo(tx);
      assertThat(ack.get(StunAttributes.SESSION_ID)).isEqualTo(sessionId);
      assertThat(ack.verifyIntegritySha256(PEER_KEY)).isTrue();
      assertThat(ack.hasFingerprint()).isTrue();
    }

    // The client punches the candidate: PUNCH signed with the session key.
    Received punch = receive(remote, StunMethods.PUNCH, StunClass.REQUEST);
    assertThat(punch.source()).isEqualTo(clientAddress);
    assertThat(punch.message().get(StunAttributes.SESSION_ID)).isEqualTo(sessionId);
    assertThat(punch.message().getString(StunAttributes.PEER_ID)).isEqualTo(PEER);
    assertThat(punch.message().verifyIntegritySha256(sessionKey)).isTrue();
    assertThat(punch.message().hasFingerprint()).isTrue();

    // A valid PUNCH from an address that is no candidate (a hard NAT's new port) is answered, and the
    // client punches that address too.
    try (DatagramSocket hardSide = socket()) {
      byte[] hardTx = StunMessage.newTransactionId();
      send(hardSide, punchRequest(hardTx, sessionId, sessionKey, false), clientAddress);
      StunMessage answered = receive(hardSide, StunMethods.PUNCH, StunClass.SUCCESS_RESPONSE).message();
      assertThat(answered.transactionId()).isEqualTo(hardTx);
      assertThat(answered.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(address(hardSide));
      StunMessage punchedBack = receive(hardSide, StunMethods.PUNCH, StunClass.REQUEST).message();
      assertThat(punchedBack.verifyIntegritySha256(sessionKey)).isTrue();
    }

    // A success under the wrong key does not connect; the right one does.
    send(remote, punchSuccess(punch.message(), sessionId, clientAddress, random(32)), clientAddress);
    send(remote, punchSuccess(punch.message(), sessionId, clientAddress, sessionKey), clientAddress);
    PeerChannel ch = incoming.poll(5, TimeUnit.SECONDS);
    assertThat(ch).isNotNull();
    assertThat(ch.remotePeerId()).isEqualTo(REMOTE);
    assertThat(ch.remoteAddress()).isEqualTo(address(remote));
    assertThat(ch.sessionId()).isEqualTo(java.util.HexFormat.of().formatHex(sessionId));
    assertThat(introductions.get()).isEqualTo(1);

    // RESULT: connected-direct, with the chosen address.
    StunMessage result = receive(introducer, StunMethods.RESULT, StunClass.REQUEST).message();
    assertSignedIntroducerRequest(result);
    assertThat(result.get(StunAttributes.SESSION_ID)).isEqualTo(sessionId);
    byte[] outcome = result.get(StunAttributes.OUTCOME);
    assertThat(outcome).hasSize(12);
    assertThat(outcome[0]).isEqualTo((byte) Outcome.CONNECTED_DIRECT.code());
    assertThat(Candidate.decode(result.get(StunAttributes.CANDIDATE), result.transactionId()).address())
        .isEqualTo(address(remote));

    // A PUNCH request from the peer is answered with its source; one with an unknown
    // comprehension-required attribute gets 420.
    byte[] probeTx = StunMessage.newTransactionId();
    send(remote, punchRequest(probeTx, sessionId, sessionKey, false), clientAddress);
    StunMessage answer = receive(remote, StunMethods.PUNCH, StunClass.SUCCESS_RESPONSE).message();
    assertThat(answer.transactionId()).isEqualTo(probeTx);
    assertThat(answer.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(address(remote));
    assertThat(answer.verifyIntegritySha256(sessionKey)).isTrue();
    send(remote, punchRequest(StunMessage.newTransactionId(), sessionId, sessionKey, true), clientAddress);
    StunMessage refused = receive(remote, StunMethods.PUNCH, StunClass.ERROR_RESPONSE).message();
    assertThat(refused.errorCode().code()).isEqualTo(ErrorCode.UNKNOWN_ATTRIBUTE);
    assertThat(refused.get(StunAttributes.UNKNOWN_ATTRIBUTES)).containsExactly(0x07, 0x77);

    // Data both ways: 0xDA then the payload.
    BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    ch.onMessage(b -> messages.add(new String(b, StandardCharsets.UTF_8)));
    send(remote, new byte[] {(byte) 0xDA, 'h', 'i'}, clientAddress);
    assertThat(messages.poll(5, TimeUnit.SECONDS)).isEqualTo("hi");
    ch.send("yo".getBytes(StandardCharsets.UTF_8));
    Received data;
    do {
      data = receive(remote);
    } while (data.raw()[0] != (byte) 0xDA);
    assertThat(data.raw()).containsExactly(0xDA, 'y', 'o');

    // A CLOSE under the wrong key is ignored; a PUNCH answered afterwards proves it was processed.
    CompletableFuture<String> closed = new CompletableFuture<>();
    ch.onClose(closed::complete);
    send(remote, closeIndication(sessionId, random(32)), clientAddress);
    send(remote, punchRequest(StunMessage.newTransactionId(), sessionId, sessionKey, false), clientAddress);
    receive(remote, StunMethods.PUNCH, StunClass.SUCCESS_RESPONSE);
    assertThat(ch.isOpen()).isTrue();
    send(remote, closeIndication(sessionId, sessionKey), clientAddress);
    assertThat(closed.get(5, TimeUnit.SECONDS)).isEqualTo("closed by peer");
  }

  @Test
  void theBirthdayEasySideFollowsTheAddressTheHardSideNominates() throws Exception {
    // The easy side opened on one of the hard side's mappings (remote) while the hard side kept another socket
    // (kept): the hard side's NOMINATED punches move the channel there once a punch of ours is answered from it.
    InetSocketAddress clientAddress = register(new ClientListener() {});
    BlockingQueue<PeerChannel> incoming = new LinkedBlockingQueue<>();
    client.onIncoming(incoming::add);
    byte[] sessionId = random(16);
    byte[] sessionKey = random(32);
    byte[] easySide = {(byte) Strategy.BIRTHDAY.code(), 2, 0, 0};
    send(introducer, introduce(StunMessage.newTransactionId(), sessionId, sessionKey, address(remote), easySide,
        new PunchParams(256, 0, 1000)), clientAddress);
    Received punch = receive(remote, StunMethods.PUNCH, StunClass.REQUEST);
    send(remote, punchSuccess(punch.message(), sessionId, clientAddress, sessionKey), clientAddress);
    PeerChannel ch = incoming.poll(5, TimeUnit.SECONDS);
    assertThat(ch).isNotNull();
    assertThat(ch.remoteAddress()).isEqualTo(address(remote));

    try (DatagramSocket kept = socket(); DatagramSocket other = socket()) {
      // A punch without NOMINATED from another address is answered, but the channel stays.
      send(other, punchRequest(StunMessage.newTransactionId(), sessionId, sessionKey, false), clientAddress);
      receive(other, StunMethods.PUNCH, StunClass.SUCCESS_RESPONSE);
      assertThat(ch.remoteAddress()).isEqualTo(address(remote));

      // NOMINATED: answered, and validated by a punch of ours; until that is answered the channel stays.
      send(kept, punchRequest(StunMessage.newTransactionId(), sessionId, sessionKey, false, true), clientAddress);
      receive(kept, StunMethods.PUNCH, StunClass.SUCCESS_RESPONSE);
      Received validation = receive(kept, StunMethods.PUNCH, StunClass.REQUEST);
      assertThat(validation.message().verifyIntegritySha256(sessionKey)).isTrue();
      assertThat(ch.remoteAddress()).isEqualTo(address(remote));
      send(kept, punchSuccess(validation.message(), sessionId, clientAddress, random(32)), clientAddress);
      send(kept, punchSuccess(validation.message(), sessionId, clientAddress, sessionKey), clientAddress);
      for (int i = 0; i < 100 && !ch.remoteAddress().equals(address(kept)); i++) {
        Thread.sleep(20);
      }
      assertThat(ch.remoteAddress()).isEqualTo(address(kept));
      assertThat(ch.path()).isEqualTo(Path.DIRECT);
      ch.send("moved".getBytes(StandardCharsets.UTF_8));
      Received data;
      do {
        data = receive(kept);
      } while (data.raw()[0] != (byte) 0xDA);
      assertThat(new String(data.raw(), 1, data.raw().length - 1, StandardCharsets.UTF_8)).isEqualTo("moved");
    }
  }

  @Test
  void closeSendsCloseToOpenChannelsAndDeregisters() throws Exception {
    InetSocketAddress clientAddress = register(new ClientListener() {});
    BlockingQueue<PeerChannel> incoming = new LinkedBlockingQueue<>();
    client.onIncoming(incoming::add);
    byte[] tx = StunMessage.newTransactionId();
    byte[] sessionId = random(16);
    byte[] sessionKey = random(32);
    send(introducer, introduce(tx, sessionId, sessionKey, address(remote)), clientAddress);
    Received punch = receive(remote, StunMethods.PUNCH, StunClass.REQUEST);
    send(remote, punchSuccess(punch.message(), sessionId, clientAddress, sessionKey), clientAddress);
    assertThat(incoming.poll(5, TimeUnit.SECONDS)).isNotNull();

    CompletableFuture<Void> closing = CompletableFuture.runAsync(client::close);

    StunMessage close = receive(remote, StunMethods.CLOSE, StunClass.INDICATION).message();
    assertThat(close.get(StunAttributes.SESSION_ID)).isEqualTo(sessionId);
    assertThat(close.getString(StunAttributes.PEER_ID)).isEqualTo(PEER);
    assertThat(close.verifyIntegritySha256(sessionKey)).isTrue();
    Received dereg = receive(introducer, StunMethods.DEREGISTER, StunClass.REQUEST);
    assertSignedIntroducerRequest(dereg.message());
    byte[] deregistered = StunMessage.successFor(dereg.message()).integritySha256(PEER_KEY).fingerprint().encode();
    send(introducer, deregistered, dereg.source());
    closing.get(5, TimeUnit.SECONDS);
    client = null;
  }
}
