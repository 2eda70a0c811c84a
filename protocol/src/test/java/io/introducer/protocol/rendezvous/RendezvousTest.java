package io.introducer.protocol.rendezvous;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Key derivations and constants of docs/PROTOCOL.md section 3, checked against javax.crypto directly. */
class RendezvousTest {
  static final byte[] PEER_KEY = Rendezvous.peerKey("app-secret", "game", "alice");
  static final byte[] SESSION_KEY = bytes(32, 0x11);
  static final byte[] SESSION_ID = bytes(16, 0x22);
  static final byte[] TX = bytes(12, 0x33);

  @Test
  void peerKeyIsHmacSha256OfTheLabelledAppAndPeerIds() {
    byte[] expected = hmacSha256("app-secret".getBytes(UTF_8), "introducer-peer-key|game|alice".getBytes(UTF_8));
    assertThat(PEER_KEY).isEqualTo(expected);
  }

  @Test
  void peerKeyIsDeterministic() {
    assertThat(Rendezvous.peerKey("app-secret", "game", "alice")).isEqualTo(PEER_KEY).hasSize(32);
  }

  @Test
  void peerKeyDiffersBySecretAppAndPeer() {
    assertThat(Rendezvous.peerKey("other-secret", "game", "alice")).isNotEqualTo(PEER_KEY);
    assertThat(Rendezvous.peerKey("app-secret", "game2", "alice")).isNotEqualTo(PEER_KEY);
    assertThat(Rendezvous.peerKey("app-secret", "game", "bob")).isNotEqualTo(PEER_KEY);
  }

  @Test
  void maskIsTheKeyXorHmacOfTheLabelTransactionIdAndSessionId() {
    ByteArrayOutputStream input = new ByteArrayOutputStream();
    input.writeBytes("introducer-session-key|".getBytes(UTF_8));
    input.writeBytes(TX);
    input.writeBytes(SESSION_ID);
    byte[] pad = hmacSha256(PEER_KEY, input.toByteArray());
    byte[] expected = new byte[32];
    for (int i = 0; i < 32; i++) {
      expected[i] = (byte) (SESSION_KEY[i] ^ pad[i]);
    }
    assertThat(Rendezvous.maskSessionKey(SESSION_KEY, PEER_KEY, TX, SESSION_ID)).isEqualTo(expected);
  }

  @Test
  void maskingTwiceGivesBackTheKey() {
    byte[] masked = Rendezvous.maskSessionKey(SESSION_KEY, PEER_KEY, TX, SESSION_ID);
    assertThat(masked).isNotEqualTo(SESSION_KEY);
    assertThat(Rendezvous.maskSessionKey(masked, PEER_KEY, TX, SESSION_ID)).isEqualTo(SESSION_KEY);
  }

  @Test
  void maskDiffersPerTransactionId() {
    byte[] otherTx = TX.clone();
    otherTx[0] ^= 1;
    assertThat(Rendezvous.maskSessionKey(SESSION_KEY, PEER_KEY, otherTx, SESSION_ID))
        .isNotEqualTo(Rendezvous.maskSessionKey(SESSION_KEY, PEER_KEY, TX, SESSION_ID));
  }

  @Test
  void maskDiffersPerSessionIdAndPeerKey() {
    byte[] masked = Rendezvous.maskSessionKey(SESSION_KEY, PEER_KEY, TX, SESSION_ID);
    assertThat(Rendezvous.maskSessionKey(SESSION_KEY, PEER_KEY, TX, bytes(16, 0x23))).isNotEqualTo(masked);
    assertThat(Rendezvous.maskSessionKey(SESSION_KEY, Rendezvous.peerKey("app-secret", "game", "bob"), TX, SESSION_ID))
        .isNotEqualTo(masked);
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {0, 16, 31, 33})
  void maskRejectsASessionKeyThatIsNotThirtyTwoBytes(int length) {
    assertThatThrownBy(() -> Rendezvous.maskSessionKey(new byte[length], PEER_KEY, TX, SESSION_ID))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "alice", "Player_1", "user@host:7", "a.b-c", "0123456789012345678901234567890123456789012345678901234567890123"})
  void validIds(String id) {
    assertThat(Rendezvous.isValidId(id)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "has space", "slash/", "semi;colon", "caf\u00E9", "01234567890123456789012345678901234567890123456789012345678901234"})
  void invalidIds(String id) {
    assertThat(Rendezvous.isValidId(id)).isFalse();
  }

  @Test
  void nullIsNotAValidId() {
    assertThat(Rendezvous.isValidId(null)).isFalse();
  }

  @Test
  void strategyCodesMatchTheProtocolDocument() {
    assertThat(Strategy.SIMULTANEOUS.code()).isZero();
    assertThat(Strategy.HARD_SIDE_FIRST.code()).isEqualTo(1);
    assertThat(Strategy.PORT_PREDICTION.code()).isEqualTo(2);
    assertThat(Strategy.BIRTHDAY.code()).isEqualTo(3);
    assertThat(Strategy.RELAY.code()).isEqualTo(4);
    assertThat(Strategy.of(5)).isNull();
    assertThat(Strategy.HARD_SIDE_FIRST.wireName()).isEqualTo("hard-side-first");
  }

  @Test
  void outcomeCodesMatchTheProtocolDocument() {
    assertThat(Outcome.CONNECTED_DIRECT.code()).isZero();
    assertThat(Outcome.CONNECTED_RELAY.code()).isEqualTo(1);
    assertThat(Outcome.FAILED.code()).isEqualTo(2);
    assertThat(Outcome.of(3)).isNull();
    assertThat(Outcome.of(2)).isEqualTo(Outcome.FAILED);
    assertThat(Outcome.CONNECTED_DIRECT.wireName()).isEqualTo("connected-direct");
  }

  static byte[] bytes(int length, int fill) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (fill + i);
    }
    return b;
  }

  static byte[] hmacSha256(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new AssertionError(e);
    }
  }
}
