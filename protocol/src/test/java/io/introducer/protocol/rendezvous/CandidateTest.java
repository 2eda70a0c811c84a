package io.introducer.protocol.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.introducer.protocol.StunAddress;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The CANDIDATE attribute: kind, reserved byte, then an XOR-MAPPED-ADDRESS value (docs/PROTOCOL.md). */
class CandidateTest {
  static final byte[] TX = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  static final InetSocketAddress V4 = new InetSocketAddress(ip("203.0.113.9"), 51000);
  static final InetSocketAddress V6 = new InetSocketAddress(ip("2001:db8:0:1::42"), 3478);

  @ParameterizedTest
  @EnumSource(Candidate.Kind.class)
  void ipv4CandidateOfEveryKindRoundTrips(Candidate.Kind kind) {
    Candidate c = new Candidate(kind, V4);
    assertThat(Candidate.decode(c.encode(TX), TX)).isEqualTo(c);
  }

  @ParameterizedTest
  @EnumSource(Candidate.Kind.class)
  void ipv6CandidateOfEveryKindRoundTrips(Candidate.Kind kind) {
    Candidate c = new Candidate(kind, V6);
    assertThat(Candidate.decode(c.encode(TX), TX)).isEqualTo(c);
  }

  @Test
  void wireFormIsKindThenReservedZeroThenTheXorAddress() {
    byte[] v = new Candidate(Candidate.Kind.SERVER_REFLEXIVE, V6).encode(TX);
    assertThat(v).hasSize(2 + 20);
    assertThat(v[0]).isEqualTo((byte) 1);
    assertThat(v[1]).isZero();
    assertThat(Arrays.copyOfRange(v, 2, v.length)).isEqualTo(StunAddress.encodeXor(V6, TX));
  }

  @Test
  void kindCodesMatchTheProtocolDocument() {
    assertThat(Candidate.Kind.HOST.code()).isZero();
    assertThat(Candidate.Kind.SERVER_REFLEXIVE.code()).isEqualTo(1);
    assertThat(Candidate.Kind.RELAYED.code()).isEqualTo(2);
    assertThat(Candidate.Kind.PREDICTED.code()).isEqualTo(3);
    assertThat(Candidate.Kind.of(4)).isNull();
  }

  @Test
  void unknownKindDecodesToNull() {
    byte[] v = new Candidate(Candidate.Kind.HOST, V4).encode(TX);
    v[0] = 9;
    assertThat(Candidate.decode(v, TX)).isNull();
  }

  @Test
  void tooShortValueDecodesToNull() {
    byte[] v = new Candidate(Candidate.Kind.HOST, V4).encode(TX);
    assertThat(Candidate.decode(Arrays.copyOf(v, 9), TX)).isNull();
    assertThat(Candidate.decode(new byte[0], TX)).isNull();
  }

  @Test
  void familyAndLengthMismatchDecodesToNull() {
    byte[] v = new Candidate(Candidate.Kind.HOST, V4).encode(TX);
    v[3] = 2; // claims IPv6 with an IPv4-sized address
    assertThat(Candidate.decode(v, TX)).isNull();
  }

  @Test
  void decodingUnderAnotherTransactionIdGivesAnotherAddress() {
    byte[] v = new Candidate(Candidate.Kind.HOST, V6).encode(TX);
    byte[] otherTx = TX.clone();
    otherTx[11] ^= 0x7F;
    assertThat(Candidate.decode(v, otherTx).address()).isNotEqualTo(V6);
  }

  @Test
  void repeatedCandidatesKeepTheirOrderInAMessage() throws Exception {
    List<Candidate> candidates = List.of(new Candidate(Candidate.Kind.SERVER_REFLEXIVE, V4),
        new Candidate(Candidate.Kind.HOST, V6), new Candidate(Candidate.Kind.HOST, new InetSocketAddress(ip("10.0.0.2"), 7)));
    StunMessage.Builder b = StunMessage.builder(StunMethods.CONNECT, StunClass.SUCCESS_RESPONSE, TX);
    candidates.forEach(c -> b.add(StunAttributes.CANDIDATE, c.encode(b.transactionId())));
    StunMessage m = StunMessage.decode(b.fingerprint().encode());
    List<Candidate> decoded = m.getAll(StunAttributes.CANDIDATE).stream()
        .map(v -> Candidate.decode(v, m.transactionId())).toList();
    assertThat(decoded).isEqualTo(candidates);
  }

  @Test
  void candidateNeedsAKindAndAResolvedAddress() {
    assertThatThrownBy(() -> new Candidate(null, V4)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Candidate(Candidate.Kind.HOST, null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Candidate(Candidate.Kind.HOST, InetSocketAddress.createUnresolved("example.org", 1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void toStringNamesKindAddressAndPort() {
    assertThat(new Candidate(Candidate.Kind.SERVER_REFLEXIVE, V4)).hasToString("server_reflexive:203.0.113.9:51000");
  }

  static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal); // a literal: no DNS lookup
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(literal, e);
    }
  }
}
