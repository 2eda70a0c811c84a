package io.introducer.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.dashboard.impl.LoginThrottle;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {
  private Instant now = Instant.parse("2025-01-01T00:00:00Z");
  private final Clock clock = new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  };

  @Test
  void aClientIsBlockedAfterTheMaximumOfFailuresUntilTheWindowEnds() {
    LoginThrottle t = new LoginThrottle(3, 60_000, clock);
    for (int i = 0; i < 3; i++) {
      assertThat(t.blockedFor("10.0.0.1")).isZero();
      t.failed("10.0.0.1");
    }
    assertThat(t.blockedFor("10.0.0.1")).isEqualTo(60_000);
    assertThat(t.blockedFor("10.0.0.2")).as("another client").isZero();

    now = now.plusSeconds(59);
    assertThat(t.blockedFor("10.0.0.1")).isEqualTo(1_000);
    now = now.plusSeconds(1);
    assertThat(t.blockedFor("10.0.0.1")).isZero();
  }

  @Test
  void aSuccessfulLoginClearsTheFailures() {
    LoginThrottle t = new LoginThrottle(2, 60_000, clock);
    t.failed("c");
    t.succeeded("c");
    t.failed("c");
    assertThat(t.blockedFor("c")).isZero();
  }
}
