package io.introducer.relay;

/**
 * A token bucket: {@code rate} tokens per second, holding at most {@code capacity}. Not thread-safe: each
 * bucket is used from one event loop. Time is passed in (nanoseconds) so tests control it.
 */
final class TokenBucket {
  private final double ratePerNano;
  private final double capacity;
  private double tokens;
  private long last;

  TokenBucket(double ratePerSecond, double capacity, long nowNanos) {
    this.ratePerNano = ratePerSecond / 1e9;
    this.capacity = capacity;
    this.tokens = capacity;
    this.last = nowNanos;
  }

  /** Takes {@code n} tokens if available; false (taking nothing) otherwise. */
  boolean tryTake(double n, long nowNanos) {
    refill(nowNanos);
    if (tokens < n) {
      return false;
    }
    tokens -= n;
    return true;
  }

  /** True when the bucket has been full since at least {@code nowNanos} (nothing to remember). */
  boolean isFull(long nowNanos) {
    refill(nowNanos);
    return tokens >= capacity;
  }

  private void refill(long nowNanos) {
    long elapsed = nowNanos - last;
    if (elapsed > 0) {
      tokens = Math.min(capacity, tokens + elapsed * ratePerNano);
      last = nowNanos;
    }
  }
}
