package io.introducer.protocol.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.introducer.protocol.ChannelData;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunParseException;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.PeerTokens;
import io.introducer.protocol.rendezvous.PunchParams;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Jazzer fuzz targets for every wire parser. Under {@code mvn verify} they replay the regression corpus in
 * src/test/resources/io/introducer/protocol/fuzz/CodecFuzzTestInputs/; with JAZZER_FUZZ=1 they fuzz (README).
 * Property: a parser either returns or throws StunParseException; what it returns never throws when read, and a
 * decoded message re-encodes to a message that decodes to the same attributes.
 */
class CodecFuzzTest {

  @FuzzTest(maxDuration = "30s")
  void stunDecode(byte[] data) {
    StunMessage m;
    try {
      m = StunMessage.decode(data);
    } catch (StunParseException expected) {
      return;
    }
    readEverything(m);
    byte[] key = {1, 2, 3};
    m.verifyIntegrity(key);
    m.verifyIntegritySha256(key);
    StunMessage.Builder b = StunMessage.builder(m.method(), m.messageClass(), m.transactionId());
    for (int t : m.attributeTypes()) {
      if (t != StunAttributes.FINGERPRINT && t != StunAttributes.MESSAGE_INTEGRITY
          && t != StunAttributes.MESSAGE_INTEGRITY_SHA256) {
        for (byte[] v : m.getAll(t)) {
          b.add(t, v);
        }
      }
    }
    StunMessage again;
    try {
      again = StunMessage.decode(b.fingerprint().encode());
    } catch (StunParseException e) {
      throw new AssertionError("re-encoded message does not decode: " + e.getMessage(), e);
    }
    if (again.method() != m.method() || again.messageClass() != m.messageClass()
        || !Arrays.equals(again.transactionId(), m.transactionId())) {
      throw new AssertionError("header changed in a round trip");
    }
  }

  private static void readEverything(StunMessage m) {
    m.toString();
    m.unknownComprehensionRequired();
    m.unknownAttributes();
    m.errorCode();
    for (int t : m.attributeTypes()) {
      m.getString(t);
      m.getU32(t);
      m.getU64(t);
      m.getXorAddress(t);
      m.getAddress(t);
      for (byte[] v : m.getAll(t)) {
        Candidate.decode(v, m.transactionId());
        NatProfile.decode(v);
        PunchParams.decode(v);
      }
    }
  }

  @FuzzTest(maxDuration = "10s")
  void channelDataDecode(byte[] data) {
    try {
      ChannelData.decode(data, 0, data.length);
    } catch (StunParseException expected) {
      // refused, as it should be for malformed input
    }
  }

  /** NAT-PROFILE: null or a profile that re-encodes to the same 8 bytes (byte 5 reserved, written as zero). */
  @FuzzTest(maxDuration = "10s")
  void natProfileDecode(byte[] data) {
    NatProfile p = NatProfile.decode(data);
    if (p == null) {
      return;
    }
    byte[] again = p.encode();
    byte[] expected = data.clone();
    expected[5] = 0;
    if (!Arrays.equals(again, expected) || !p.equals(NatProfile.decode(again))) {
      throw new AssertionError("NAT-PROFILE does not round-trip: " + Arrays.toString(data) + " -> " + p);
    }
    p.summary();
    p.toString();
  }

  /** PUNCH-PARAMS: null or parameters that re-encode to the same first 6 bytes. */
  @FuzzTest(maxDuration = "10s")
  void punchParamsDecode(byte[] data) {
    PunchParams p = PunchParams.decode(data);
    if (p == null) {
      return;
    }
    if (!Arrays.equals(Arrays.copyOf(p.encode(), 6), Arrays.copyOf(data, 6)) || !p.equals(PunchParams.decode(p.encode()))) {
      throw new AssertionError("PUNCH-PARAMS does not round-trip: " + Arrays.toString(data) + " -> " + p);
    }
  }

  /**
   * CANDIDATE: the first 12 bytes are the transaction id, the rest the value. Null, or a candidate that re-encodes
   * under the same transaction id to a value that decodes to it again.
   */
  @FuzzTest(maxDuration = "10s")
  void candidateDecode(byte[] data) {
    if (data.length < 12) {
      return;
    }
    byte[] tx = Arrays.copyOf(data, 12);
    Candidate c = Candidate.decode(Arrays.copyOfRange(data, 12, data.length), tx);
    if (c == null) {
      return;
    }
    if (!c.equals(Candidate.decode(c.encode(tx), tx))) {
      throw new AssertionError("CANDIDATE does not round-trip: " + c);
    }
    c.toString();
  }

  /** Peer tokens as text from a client's config: parsed or refused with IllegalArgumentException, nothing else. */
  @FuzzTest(maxDuration = "10s")
  void peerTokenParse(byte[] data) {
    PeerTokens.Token t;
    try {
      t = PeerTokens.parse(new String(data, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException refused) {
      return;
    }
    if (t.expiryEpochSeconds() <= 0 || t.key().length != 32) {
      throw new AssertionError("accepted a malformed token: " + t);
    }
  }
}
