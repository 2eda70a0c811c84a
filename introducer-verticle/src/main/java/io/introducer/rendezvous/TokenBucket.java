package io.introducer.rendezvous;

/**
 * A token bucket: {@code ratePerSecond} tokens a second, holding at most {@code capacity}, full at first. Time is
 * passed in (nanoseconds) so that tests control it. Not thread-safe: used from the introducer's event loop.
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

  /** Takes one token if there is one; false, taking nothing, otherwise. */
  boolean tryTake(long nowNanos) {
    long elapsed = nowNanos - last;
    if (elapsed > 0) {
      tokens = Math.min(capacity, tokens + elapsed * ratePerNano);
      last = nowNanos;
    }
    if (tokens < 1) {
      return false;
    }
    tokens -= 1;
    return true;
  }

  /** When the bucket was last refilled, i.e. last asked for a token. */
  long lastNanos() {
    return last;
  }
}
