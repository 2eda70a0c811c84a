package io.introducer.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** TURN REST API credentials, the form coturn's use-auth-secret accepts. */
class TurnRestCredentialsTest {
  private final Clock clock = Clock.fixed(Instant.ofEpochSecond(1_700_000_000L), ZoneOffset.UTC);

  @Test
  void usernameIsExpiryColonUser() {
    TurnRestCredentials.Credentials c = TurnRestCredentials.mint("s3cret", "peer-1", Duration.ofHours(1), clock);
    assertThat(c.username()).isEqualTo("1700003600:peer-1");
    assertThat(c.expiresAt()).isEqualTo(Instant.ofEpochSecond(1_700_003_600L));
  }

  @Test
  void passwordIsBase64OfHmacSha1OfTheUsername() throws Exception {
    TurnRestCredentials.Credentials c = TurnRestCredentials.mint("s3cret", "peer-1", Duration.ofHours(1), clock);
    Mac mac = Mac.getInstance("HmacSHA1");
    mac.init(new SecretKeySpec("s3cret".getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
    String expected = Base64.getEncoder().encodeToString(mac.doFinal("1700003600:peer-1".getBytes(StandardCharsets.UTF_8)));
    assertThat(c.password()).isEqualTo(expected).hasSize(28);
  }

  @Test
  void expiryIsReadBackFromTheUsername() {
    assertThat(TurnRestCredentials.expiryOf("1700003600:peer-1")).isEqualTo(1_700_003_600L);
    assertThat(TurnRestCredentials.expiryOf("1700003600")).isEqualTo(1_700_003_600L);
    assertThat(TurnRestCredentials.expiryOf("alice")).isEqualTo(-1);
    assertThat(TurnRestCredentials.expiryOf(":alice")).isEqualTo(-1);
    assertThat(TurnRestCredentials.expiryOf("12ab:alice")).isEqualTo(-1);
  }

  @Test
  void passwordIsNotPrinted() {
    TurnRestCredentials.Credentials c = TurnRestCredentials.mint("s3cret", "peer-1", Duration.ofHours(1), clock);
    assertThat(c.toString()).doesNotContain(c.password());
  }

  @Test
  void refusesAnEmptySecretOrANonPositiveTtl() {
    assertThatThrownBy(() -> TurnRestCredentials.mint("", "u", Duration.ofHours(1), clock))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TurnRestCredentials.mint("s", "u", Duration.ZERO, clock))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
