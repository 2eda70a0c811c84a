package io.introducer.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Stateless nonces: valid for their lifetime, for the IP they were issued to, unforgeable. */
class NoncesTest {
  private final MutableClock clock = new MutableClock(1_700_000_000_000L);
  private final Nonces nonces = new Nonces(new byte[32], 600, clock);

  @Test
  void freshNonceIsValidForItsClient() {
    String n = nonces.issue("192.0.2.1");
    assertThat(n).hasSizeLessThan(128);
    assertThat(nonces.check(n, "192.0.2.1")).isEqualTo(Nonces.Check.VALID);
  }

  @Test
  void nonceIsStaleAfterItsLifetime() {
    String n = nonces.issue("192.0.2.1");
    clock.advance(Duration.ofSeconds(599));
    assertThat(nonces.check(n, "192.0.2.1")).isEqualTo(Nonces.Check.VALID);
    clock.advance(Duration.ofSeconds(1));
    assertThat(nonces.check(n, "192.0.2.1")).isEqualTo(Nonces.Check.STALE);
  }

  @Test
  void nonceIssuedToAnotherIpIsInvalid() {
    assertThat(nonces.check(nonces.issue("192.0.2.1"), "192.0.2.2")).isEqualTo(Nonces.Check.INVALID);
  }

  @Test
  void tamperedOrForeignNoncesAreInvalid() {
    String n = nonces.issue("192.0.2.1");
    String longer = "ffffffffffffffff" + n.substring(16);
    assertThat(nonces.check(longer, "192.0.2.1")).isEqualTo(Nonces.Check.INVALID);
    assertThat(nonces.check(new Nonces(new byte[] {1}, 600, clock).issue("192.0.2.1"), "192.0.2.1"))
        .isEqualTo(Nonces.Check.INVALID);
    assertThat(nonces.check("not hex at all, but the right size!!!!!!", "192.0.2.1")).isEqualTo(Nonces.Check.INVALID);
    assertThat(nonces.check("", "192.0.2.1")).isEqualTo(Nonces.Check.INVALID);
  }
}
