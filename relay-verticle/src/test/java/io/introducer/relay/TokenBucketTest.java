package io.introducer.relay;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TokenBucketTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void startsFullAndRefusesBeyondCapacity() {
    TokenBucket b = new TokenBucket(100, 300, 0);
    assertThat(b.tryTake(300, 0)).isTrue();
    assertThat(b.tryTake(1, 0)).isFalse();
  }

  @Test
  void refillsAtTheRateUpToTheCapacity() {
    TokenBucket b = new TokenBucket(100, 300, 0);
    b.tryTake(300, 0);
    assertThat(b.tryTake(50, SECOND / 2)).isTrue();
    assertThat(b.tryTake(1, SECOND / 2)).isFalse();
    assertThat(b.isFull(100 * SECOND)).isTrue();
    assertThat(b.tryTake(301, 100 * SECOND)).isFalse();
  }

  @Test
  void aRefusedTakeConsumesNothing() {
    TokenBucket b = new TokenBucket(10, 10, 0);
    assertThat(b.tryTake(11, 0)).isFalse();
    assertThat(b.tryTake(10, 0)).isTrue();
  }
}
