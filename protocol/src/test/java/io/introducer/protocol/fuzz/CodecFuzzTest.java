package io.introducer.protocol.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.introducer.protocol.ChannelData;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunParseException;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.PunchParams;
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
}
