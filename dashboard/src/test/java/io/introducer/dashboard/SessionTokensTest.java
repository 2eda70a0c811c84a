package io.introducer.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.dashboard.impl.SessionTokens;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SessionTokensTest {
  private static final byte[] KEY = "k".repeat(32).getBytes(StandardCharsets.UTF_8);
  private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");

  private static SessionTokens at(Instant now) {
    return new SessionTokens(KEY, Duration.ofMinutes(10), Clock.fixed(now, ZoneOffset.UTC));
  }

  @Test
  void anIssuedTokenIsValidForItsLifetimeOnly() {
    SessionTokens.Issued t = at(T0).issue("ops");

    assertThat(t.expiresAt()).isEqualTo(T0.plusSeconds(600).toEpochMilli());
    assertThat(at(T0.plusSeconds(599)).verify(t.token())).isEqualTo(new SessionTokens.Verified("ops", t.expiresAt()));
    assertThat(at(T0.plusSeconds(600)).verify(t.token())).isNull();
  }

  @Test
  void anotherKeyOrATamperedPayloadIsRejected() {
    String token = at(T0).issue("ops").token();
    SessionTokens otherKey = new SessionTokens("x".repeat(32).getBytes(StandardCharsets.UTF_8), Duration.ofMinutes(10),
        Clock.fixed(T0, ZoneOffset.UTC));
    String forgedPayload = Base64.getUrlEncoder().withoutPadding()
        .encodeToString(("v1|admin|" + T0.plusSeconds(600).toEpochMilli()).getBytes(StandardCharsets.UTF_8));

    assertThat(otherKey.verify(token)).isNull();
    assertThat(at(T0).verify(forgedPayload + token.substring(token.indexOf('.')))).isNull();
    for (String junk : new String[] {null, "", ".", "abc", "a.b.c", "!!.!!", token + "x"}) {
      assertThat(at(T0).verify(junk)).as("%s", junk).isNull();
    }
  }
}
