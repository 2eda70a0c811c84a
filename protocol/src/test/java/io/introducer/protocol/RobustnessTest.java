package io.introducer.protocol;

import static io.introducer.protocol.Wire.ip;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.rendezvous.Candidate;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Bounded, seeded mutation of valid messages plus random datagrams: decode either succeeds or throws
 * {@link StunParseException}, and every getter of a decoded message answers without throwing.
 */
class RobustnessTest {
  static final long SEED = 0x1D7D0CE5L;
  static final int ITERATIONS = 20_000;
  static final byte[] KEY = "k".getBytes(UTF_8);
  static final Set<String> REASONS = Set.of("truncated", "not-stun", "bad-cookie", "bad-length", "attribute-overrun",
      "fingerprint-not-last", "bad-fingerprint", "bad-integrity-length");
  /** Attribute types a mutation may append: the ones decode treats specially, and some plain ones. */
  static final int[] TYPES = {StunAttributes.MESSAGE_INTEGRITY, StunAttributes.MESSAGE_INTEGRITY_SHA256,
      StunAttributes.FINGERPRINT, StunAttributes.XOR_MAPPED_ADDRESS, StunAttributes.MAPPED_ADDRESS,
      StunAttributes.ERROR_CODE, StunAttributes.UNKNOWN_ATTRIBUTES, StunAttributes.CANDIDATE, 0x7F00, 0xFFFF};

  @Test
  void mutatedAndRandomDatagramsEitherDecodeOrAreRefusedWithAKnownReason() {
    Random rnd = new Random(SEED);
    List<byte[]> corpus = corpus();
    Map<String, Integer> refusals = new TreeMap<>();
    int decoded = 0;
    for (int i = 0; i < ITERATIONS; i++) {
      byte[] datagram = mutate(corpus.get(rnd.nextInt(corpus.size())), rnd);
      try {
        StunMessage m = StunMessage.decode(datagram.clone());
        exerciseEveryGetter(m);
        decoded++;
      } catch (StunParseException e) {
        refusals.merge(e.reason(), 1, Integer::sum);
      } catch (RuntimeException | AssertionError e) {
        throw new AssertionError("iteration " + i + ", datagram " + Wire.hex(datagram), e);
      }
    }
    assertThat(refusals.keySet()).as("refusal reasons seen").isEqualTo(REASONS);
    assertThat(decoded).as("datagrams that decoded").isGreaterThan(ITERATIONS / 10);
  }

  static void exerciseEveryGetter(StunMessage m) throws StunParseException {
    m.method();
    m.messageClass();
    m.transactionKey();
    m.hasFingerprint();
    m.hasIntegrity();
    m.hasIntegritySha256();
    m.unknownComprehensionRequired();
    m.unknownAttributes();
    m.errorCode();
    m.verifyIntegrity(KEY);
    m.verifyIntegritySha256(KEY);
    m.toString();
    for (int type : m.attributeTypes()) {
      assertThat(m.has(type)).isTrue();
      assertThat(m.getAll(type)).isNotEmpty();
      m.getString(type);
      m.getU32(type);
      m.getU64(type);
      m.getXorAddress(type);
      m.getAddress(type);
      Candidate.decode(m.get(type), m.transactionId());
    }
    StunMessage.successFor(m).fingerprint().encode();
    StunMessage again = StunMessage.decode(m.bytes());
    assertThat(again.attributeTypes()).isEqualTo(m.attributeTypes());
    assertThat(again.length()).isEqualTo(m.length());
  }

  static byte[] mutate(byte[] original, Random rnd) {
    byte[] d = original.clone();
    switch (rnd.nextInt(8)) {
      case 0 -> { // flip a few bits
        for (int n = 1 + rnd.nextInt(3); n > 0; n--) {
          d[rnd.nextInt(d.length)] ^= (byte) (1 << rnd.nextInt(8));
        }
      }
      case 1 -> d[rnd.nextInt(d.length)] = (byte) rnd.nextInt(256);
      case 2 -> d = Arrays.copyOf(d, rnd.nextInt(d.length));
      case 3 -> { // cut at a word boundary and keep the length field consistent
        int words = (d.length - 20) / 4;
        d = Arrays.copyOf(d, 20 + 4 * rnd.nextInt(words + 1));
        d = Wire.withLengthField(d, d.length - 20);
      }
      case 4 -> d = corruptAnAttributeLength(d, rnd);
      case 5 -> d = Wire.append(d, Wire.attr(TYPES[rnd.nextInt(TYPES.length)], randomBytes(rnd, rnd.nextInt(40))));
      case 6 -> d = randomStunLikeDatagram(rnd);
      default -> d = randomBytes(rnd, rnd.nextInt(64));
    }
    return d;
  }

  /** Rewrites the length of one attribute header found by walking the TLVs. */
  static byte[] corruptAnAttributeLength(byte[] d, Random rnd) {
    int pos = 20;
    int target = rnd.nextInt(4);
    while (pos + 4 <= d.length && target-- > 0) {
      int len = ((d[pos + 2] & 0xFF) << 8) | (d[pos + 3] & 0xFF);
      int next = pos + 4 + ((len + 3) & ~3);
      if (next + 4 > d.length) {
        break;
      }
      pos = next;
    }
    if (pos + 4 <= d.length) {
      int value = rnd.nextBoolean() ? rnd.nextInt(0x10000) : rnd.nextInt(48);
      d[pos + 2] = (byte) (value >> 8);
      d[pos + 3] = (byte) value;
    }
    return d;
  }

  /** Random attributes behind a well-formed header, so parsing gets past the cookie and length checks. */
  static byte[] randomStunLikeDatagram(Random rnd) {
    byte[] body = randomBytes(rnd, 4 * rnd.nextInt(24));
    byte[] header = Wire.header(rnd.nextInt(0x4000), body.length, randomBytes(rnd, 12));
    return Wire.concat(header, body);
  }

  static byte[] randomBytes(Random rnd, int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }

  static List<byte[]> corpus() {
    byte[] tx = Wire.transactionId(9);
    InetSocketAddress v4 = new InetSocketAddress(ip("192.0.2.44"), 5000);
    InetSocketAddress v6 = new InetSocketAddress(ip("2001:db8::7"), 6000);
    byte[] register = StunMessage.builder(StunMethods.REGISTER, StunClass.REQUEST, tx)
        .addString(StunAttributes.APP_ID, "game")
        .addString(StunAttributes.PEER_ID, "alice")
        .addU64(StunAttributes.TIMESTAMP, 1_700_000_000_000L)
        .add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.HOST, v4).encode(tx))
        .add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.HOST, v6).encode(tx))
        .integritySha256(KEY)
        .encode();
    byte[] connectSuccess = StunMessage.builder(StunMethods.CONNECT, StunClass.SUCCESS_RESPONSE, tx)
        .add(StunAttributes.SESSION_ID, new byte[16])
        .add(StunAttributes.SESSION_KEY, new byte[32])
        .addU32(StunAttributes.ROLE, 0)
        .addString(StunAttributes.TARGET_PEER_ID, "bob")
        .add(StunAttributes.CANDIDATE, new Candidate(Candidate.Kind.SERVER_REFLEXIVE, v6).encode(tx))
        .addU32(StunAttributes.PUNCH_WINDOW, 5000)
        .integrity(KEY)
        .integritySha256(KEY)
        .encode();
    byte[] bindingSuccess = StunMessage.builder(StunMethods.BINDING, StunClass.SUCCESS_RESPONSE, tx)
        .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, v6)
        .addAddress(StunAttributes.MAPPED_ADDRESS, v4)
        .addString(StunAttributes.SOFTWARE, "introducer")
        .encode();
    byte[] unknownAttribute = StunMessage.builder(StunMethods.BINDING, StunClass.ERROR_RESPONSE, tx)
        .addErrorCode(420, "unknown attribute")
        .addUnknownAttributes(List.of(0x7F01))
        .fingerprint()
        .encode();
    return List.of(Rfc5769VectorsTest.SAMPLE_REQUEST, Rfc5769VectorsTest.SAMPLE_IPV4_RESPONSE,
        Rfc5769VectorsTest.SAMPLE_IPV6_RESPONSE, Rfc5769VectorsTest.SAMPLE_LONG_TERM_REQUEST,
        Rfc8489VectorTest.AppendixB1.VECTOR, register, Wire.appendFingerprint(register), connectSuccess,
        bindingSuccess, unknownAttribute, Wire.header(0x0001, 0, tx));
  }
}
