package io.introducer.protocol.rendezvous;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Peer tokens of docs/PROTOCOL.md section 3, checked against javax.crypto directly. */
class PeerTokensTest {
  static final long EXPIRY = 1_900_000_000L;

  @Test
  void aTokenIsTheExpiryThenTheHmacOfTheLabelledIdsAndExpiryInBase64url() {
    String token = PeerTokens.mint("app-secret", "game", "alice", EXPIRY);

    byte[] raw = Base64.getUrlDecoder().decode(token);
    assertThat(raw).hasSize(40);
    assertThat(ByteBuffer.wrap(raw).getLong()).isEqualTo(EXPIRY);
    byte[] expected = RendezvousTest.hmacSha256("app-secret".getBytes(UTF_8),
        ("introducer-peer-token|game|alice|" + EXPIRY).getBytes(UTF_8));
    assertThat(Arrays.copyOfRange(raw, 8, 40)).isEqualTo(expected);
    assertThat(token).doesNotContain("=", "+", "/");
  }

  @Test
  void parseGivesBackTheExpiryAndTheKeyTheIntroducerDerives() {
    PeerTokens.Token t = PeerTokens.parse(PeerTokens.mint("app-secret", "game", "alice", EXPIRY));

    assertThat(t.expiryEpochSeconds()).isEqualTo(EXPIRY);
    assertThat(t.key()).isEqualTo(PeerTokens.key("app-secret", "game", "alice", EXPIRY));
    assertThat(t.toString()).doesNotContain(Base64.getEncoder().encodeToString(t.key()));
  }

  @Test
  void theTokenKeyIsNotThePeerKeyAndDependsOnEveryInput() {
    byte[] k = PeerTokens.key("app-secret", "game", "alice", EXPIRY);

    assertThat(k).isNotEqualTo(Rendezvous.peerKey("app-secret", "game", "alice"));
    assertThat(PeerTokens.key("app-secret", "game", "alice", EXPIRY + 1)).isNotEqualTo(k);
    assertThat(PeerTokens.key("app-secret", "game", "bob", EXPIRY)).isNotEqualTo(k);
    assertThat(PeerTokens.key("app-secret", "game2", "alice", EXPIRY)).isNotEqualTo(k);
    assertThat(PeerTokens.key("other-secret", "game", "alice", EXPIRY)).isNotEqualTo(k);
  }

  @Test
  void parseAcceptsPaddingAndTheStandardAlphabet() {
    String token = PeerTokens.mint("app-secret", "game", "alice", EXPIRY);
    byte[] raw = Base64.getUrlDecoder().decode(token);

    assertThat(PeerTokens.parse(Base64.getEncoder().encodeToString(raw)))
        .isEqualTo(PeerTokens.parse(token));
    assertThat(PeerTokens.parse(" " + Base64.getUrlEncoder().encodeToString(raw) + "\n"))
        .isEqualTo(PeerTokens.parse(token));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "not base64!", "AAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
  void malformedTokensAreRefused(String token) {
    assertThatThrownBy(() -> PeerTokens.parse(token)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aTokenWithAZeroOrNegativeExpiryIsRefused() {
    byte[] raw = new byte[40];
    assertThatThrownBy(() -> PeerTokens.parse(Base64.getUrlEncoder().encodeToString(raw)))
        .hasMessageContaining("expiry");
    raw[0] = (byte) 0x80;
    assertThatThrownBy(() -> PeerTokens.parse(Base64.getUrlEncoder().encodeToString(raw)))
        .hasMessageContaining("expiry");
  }

  @Test
  void mintRefusesBadInputs() {
    assertThatThrownBy(() -> PeerTokens.mint("", "game", "alice", EXPIRY)).hasMessageContaining("secret");
    assertThatThrownBy(() -> PeerTokens.mint("s", "a game", "alice", EXPIRY)).hasMessageContaining("id");
    assertThatThrownBy(() -> PeerTokens.mint("s", "game", "", EXPIRY)).hasMessageContaining("id");
    assertThatThrownBy(() -> PeerTokens.mint("s", "game", "alice", 0)).hasMessageContaining("expiry");
  }
}
