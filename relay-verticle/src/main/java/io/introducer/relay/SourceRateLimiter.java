package io.introducer.relay;

import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * Per-source-IP token buckets for requests that have not (yet) authenticated, so a spoofing or
 * brute-forcing source cannot make the relay answer at line rate. The table is bounded: when full,
 * unknown sources are refused until the next sweep forgets idle ones.
 */
final class SourceRateLimiter {
  static final int MAX_SOURCES = 65_536;

  private final double rate;
  private final double burst;
  private final int maxSources;
  private final Map<String, TokenBucket> buckets = new HashMap<>();

  SourceRateLimiter(int ratePerSecond) {
    this(ratePerSecond, MAX_SOURCES);
  }

  SourceRateLimiter(int ratePerSecond, int maxSources) {
    this.rate = ratePerSecond;
    this.burst = ratePerSecond; // one second's worth
    this.maxSources = maxSources;
  }

  enum Verdict { ALLOW, RATE_EXCEEDED, TABLE_FULL }

  Verdict take(String sourceIp, long nowNanos) {
    TokenBucket b = buckets.get(sourceIp);
    if (b == null) {
      if (buckets.size() >= maxSources) {
        return Verdict.TABLE_FULL;
      }
      b = new TokenBucket(rate, burst, nowNanos);
      buckets.put(sourceIp, b);
    }
    return b.tryTake(1, nowNanos) ? Verdict.ALLOW : Verdict.RATE_EXCEEDED;
  }

  /** Forgets sources whose bucket has refilled: they are indistinguishable from new ones. */
  void sweep(long nowNanos) {
    for (Iterator<TokenBucket> it = buckets.values().iterator(); it.hasNext(); ) {
      if (it.next().isFull(nowNanos)) {
        it.remove();
      }
    }
  }

  int size() {
    return buckets.size();
  }
}
