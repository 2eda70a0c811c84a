package io.introducer.relay;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SourceRateLimiterTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void limitsEachSourceSeparately() {
    SourceRateLimiter l = new SourceRateLimiter(2);
    assertThat(l.take("192.0.2.1", 0)).isEqualTo(SourceRateLimiter.Verdict.ALLOW);
    assertThat(l.take("192.0.2.1", 0)).isEqualTo(SourceRateLimiter.Verdict.ALLOW);
    assertThat(l.take("192.0.2.1", 0)).isEqualTo(SourceRateLimiter.Verdict.RATE_EXCEEDED);
    assertThat(l.take("192.0.2.2", 0)).isEqualTo(SourceRateLimiter.Verdict.ALLOW);
    assertThat(l.take("192.0.2.1", SECOND / 2)).isEqualTo(SourceRateLimiter.Verdict.ALLOW);
  }

  @Test
  void sweepForgetsRefilledSourcesAndTheTableIsBounded() {
    SourceRateLimiter l = new SourceRateLimiter(1, 2);
    l.take("192.0.2.1", 0);
    l.take("192.0.2.2", 0);
    assertThat(l.take("192.0.2.3", 0)).isEqualTo(SourceRateLimiter.Verdict.TABLE_FULL);
    l.sweep(10 * SECOND);
    assertThat(l.size()).isZero();
    assertThat(l.take("192.0.2.3", 10 * SECOND)).isEqualTo(SourceRateLimiter.Verdict.ALLOW);
  }
}
