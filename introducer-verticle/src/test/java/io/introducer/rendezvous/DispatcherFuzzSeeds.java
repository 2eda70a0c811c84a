package io.introducer.rendezvous;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.PeerTokens;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the seed corpus of {@link DispatcherFuzzTest}: real messages of every kind the introducer receives, signed
 * for {@link DispatcherHarness} (its apps, its peers, its clock). Run from the module directory:
 * {@code java -cp target/test-classes:target/classes:$(cat cp.txt) io.introducer.rendezvous.DispatcherFuzzSeeds}
 * (cp.txt from {@code mvn dependency:build-classpath -Dmdep.outputFile=cp.txt}).
 */
public final class DispatcherFuzzSeeds {
  private static final byte[] ALICE_KEY = Rendezvous.peerKey(DispatcherHarness.SECRET, DispatcherHarness.APP, "alice");

  private DispatcherFuzzSeeds() {}

  public static void main(String[] args) throws IOException {
    Path base = Path.of(args.length > 0 ? args[0] : "src/test/resources/io/introducer/rendezvous/DispatcherFuzzTestInputs");
    Path raw = base.resolve("onDatagram");
    Path signed = base.resolve("onSignedRequest");
    Files.createDirectories(raw);
    Files.createDirectories(signed);
    write(raw, "binding", StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, tx(1)).encode());
    write(raw, "binding-fingerprint", StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, tx(2)).fingerprint().encode());
    write(raw, "binding-change-port", StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, tx(3))
        .add(StunAttributes.CHANGE_REQUEST, new byte[] {0, 0, 0, Dispatcher.CHANGE_PORT}).fingerprint().encode());
    write(raw, "binding-response-port-padded", StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, tx(4))
        .add(StunAttributes.RESPONSE_PORT, new byte[] {(byte) 0x9C, 0x41, 0, 0})
        .addString(StunAttributes.SOFTWARE, "x".repeat(64)).encode());
    write(raw, "binding-unknown-attribute", StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST, tx(5))
        .add(0x0031, new byte[4]).encode());
    write(raw, "register", sign(register(tx(6))));
    write(raw, "keepalive", sign(request(StunMethods.KEEPALIVE, tx(7))));
    write(raw, "connect-bob", sign(request(StunMethods.CONNECT, tx(8)).addString(StunAttributes.TARGET_PEER_ID, "bob")));
    write(raw, "result-unknown-session", sign(result(tx(9))));
    write(raw, "update-unknown-session", sign(update(tx(10))));
    write(raw, "register-bad-integrity", request(StunMethods.REGISTER, tx(11)).integritySha256(new byte[32])
        .fingerprint().encode());
    write(raw, "register-token", tokenRegister(tx(12)));
    write(raw, "introduce-success-unmatched", StunMessage.builder(StunMethods.INTRODUCE, StunClass.SUCCESS_RESPONSE, tx(13))
        .add(StunAttributes.SESSION_ID, new byte[16]).integritySha256(ALICE_KEY).fingerprint().encode());
    write(raw, "deregister", sign(request(StunMethods.DEREGISTER, tx(14))));

    write(signed, "register", register(tx(21)).encode());
    write(signed, "connect-bob", request(StunMethods.CONNECT, tx(22)).addString(StunAttributes.TARGET_PEER_ID, "bob").encode());
    write(signed, "result", result(tx(23)).encode());
    write(signed, "update", update(tx(24)).encode());
    write(signed, "keepalive-token", request(StunMethods.KEEPALIVE, tx(25)).addU64(StunAttributes.TOKEN_EXPIRY, 1_900_000_000L).encode());
    write(signed, "connect-strict-app", StunMessage.builder(StunMethods.CONNECT, StunClass.REQUEST, tx(26))
        .addString(StunAttributes.APP_ID, DispatcherHarness.TOKEN_APP).addString(StunAttributes.PEER_ID, "carol")
        .addU64(StunAttributes.TIMESTAMP, DispatcherHarness.T0).addString(StunAttributes.TARGET_PEER_ID, "alice").encode());
  }

  private static byte[] tx(int n) {
    byte[] t = new byte[12];
    t[11] = (byte) n;
    t[0] = 0x5E;
    return t;
  }

  private static StunMessage.Builder request(int method, byte[] tx) {
    return StunMessage.builder(method, StunClass.REQUEST, tx)
        .addString(StunAttributes.APP_ID, DispatcherHarness.APP)
        .addString(StunAttributes.PEER_ID, "alice")
        .addU64(StunAttributes.TIMESTAMP, DispatcherHarness.T0);
  }

  private static StunMessage.Builder register(byte[] tx) {
    StunMessage.Builder b = request(StunMethods.REGISTER, tx)
        .add(StunAttributes.NAT_PROFILE, new NatProfile(NatProfile.Mapping.APDM, NatProfile.Filtering.APDF,
            NatProfile.Allocation.SEQUENTIAL, 2, NatProfile.Hairpinning.NO, 120).encode());
    b.add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.HOST, new InetSocketAddress("10.0.0.7", 40000)).encode(tx));
    b.add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.HOST, new InetSocketAddress("fd00::7", 40001)).encode(tx));
    return b;
  }

  private static StunMessage.Builder result(byte[] tx) {
    byte[] outcome = ByteBuffer.allocate(12).put((byte) 0).put((byte) 0).putShort((short) 0).putInt(120).putInt(900).array();
    return request(StunMethods.RESULT, tx).add(StunAttributes.SESSION_ID, new byte[16])
        .add(StunAttributes.OUTCOME, outcome)
        .add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.SERVER_REFLEXIVE, DispatcherHarness.BOB).encode(tx));
  }

  private static StunMessage.Builder update(byte[] tx) {
    return request(StunMethods.UPDATE, tx).add(StunAttributes.SESSION_ID, new byte[16])
        .add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.RELAYED, new InetSocketAddress("192.0.2.50", 50000))
            .encode(tx));
  }

  private static byte[] tokenRegister(byte[] tx) {
    long expiry = 1_900_000_000L;
    return StunMessage.builder(StunMethods.REGISTER, StunClass.REQUEST, tx)
        .addString(StunAttributes.APP_ID, DispatcherHarness.TOKEN_APP).addString(StunAttributes.PEER_ID, "carol")
        .addU64(StunAttributes.TIMESTAMP, DispatcherHarness.T0).addU64(StunAttributes.TOKEN_EXPIRY, expiry)
        .integritySha256(PeerTokens.key(DispatcherHarness.TOKEN_SECRET, DispatcherHarness.TOKEN_APP, "carol", expiry))
        .fingerprint().encode();
  }

  private static byte[] sign(StunMessage.Builder b) {
    return b.integritySha256(ALICE_KEY).fingerprint().encode();
  }

  private static void write(Path dir, String name, byte[] datagram) throws IOException {
    Files.write(dir.resolve(name), datagram);
  }
}
