package io.introducer.rendezvous;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The introducer's rate limits and its amplification bound ({@link IntroducerConfig.Limits}, docs/SECURITY.md). All
 * are checked before any crypto work, and a refusal only costs a counter increment:
 * <ul>
 *   <li>{@link #admit}: every datagram is charged to its source (an IPv4 address, or an IPv6 /64: one subscriber's
 *       allocation) in a token bucket; beyond it the datagram is dropped ({@code rate-source}). The table of sources
 *       is bounded; when it is full of sources that are not idle, new ones are dropped ({@code table-full}).
 *   <li>{@link #spend}: every answer to a source is paid for from a credit that the source earns,
 *       {@code amplificationFactor} bytes for each byte it sends, and that starts at {@link #ALLOWANCE_BYTES} (and
 *       returns to it after a quiet second). An answer the credit does not cover is not sent ({@code amplification}).
 *       So a source, or a victim whose address is spoofed, gets at most factor x its bytes + the allowance while it
 *       keeps sending.
 *   <li>{@link #admitApp}: requests naming an app are charged to the app ({@code rate-app}), so no app can take the
 *       node's HMAC work from the others.
 *   <li>{@link #admitDelivery}: INTRODUCE and forwarded UPDATE transactions per target peer ({@code rate-target}).
 * </ul>
 * Loopback sources are exempt when configured so (they cannot arrive from the network). Event-loop confined.
 */
final class RateLimits {
  /** The credit of a new or quiet source: one datagram's worth, enough for the largest answer (a CONNECT success). */
  static final int ALLOWANCE_BYTES = 1500;
  /** Credit a source may bank, so that a burst of answers after a burst of requests stays bounded too. */
  static final int MAX_CREDIT_BYTES = 16 * ALLOWANCE_BYTES;
  /** After this much silence a source is quiet: its credit is back to (at least) the allowance. */
  static final long QUIET_NANOS = 1_000_000_000L;

  /** A source's packet bucket and answer credit. */
  private static final class Source {
    double tokens;
    double credit;
    long last;

    Source(double tokens, double credit, long now) {
      this.tokens = tokens;
      this.credit = credit;
      this.last = now;
    }
  }

  private final IntroducerConfig.Limits limits;
  private final IntroducerCounters counters;
  private final LongSupplier nanos;
  private final double sourceRatePerNano;
  /** A source idle this long is indistinguishable from a new one (bucket full, credit at the allowance). */
  private final long forgetNanos;
  private final long forgetTargetNanos;
  /** Sources in access order: the head is the one heard from longest ago. */
  private final LinkedHashMap<Object, Source> sources = new LinkedHashMap<>(1024, 0.75f, true);
  private final Map<String, TokenBucket> apps = new HashMap<>();
  private final LinkedHashMap<String, TokenBucket> targets = new LinkedHashMap<>(1024, 0.75f, true);

  RateLimits(IntroducerConfig.Limits limits, IntroducerCounters counters) {
    this(limits, counters, System::nanoTime);
  }

  RateLimits(IntroducerConfig.Limits limits, IntroducerCounters counters, LongSupplier nanos) {
    this.limits = limits;
    this.counters = counters;
    this.nanos = nanos;
    this.sourceRatePerNano = limits.perSourcePerSecond() / 1e9;
    this.forgetNanos = Math.max(QUIET_NANOS, secondsToFill(limits.perSourceBurst(), limits.perSourcePerSecond()));
    this.forgetTargetNanos = secondsToFill(limits.introducesPerTargetBurst(), limits.introducesPerTargetPerSecond());
  }

  private static long secondsToFill(int burst, int perSecond) {
    return perSecond == 0 ? 0 : (long) Math.ceil(burst * 1e9 / perSecond);
  }

  /** Charges a datagram of {@code length} bytes to its source; false (counted) when it must be dropped. */
  boolean admit(InetSocketAddress from, int length) {
    boolean rated = limits.perSourcePerSecond() > 0;
    boolean guarded = limits.amplificationFactor() > 0;
    if (!rated && !guarded || exempt(from.getAddress())) {
      return true;
    }
    long now = nanos.getAsLong();
    Object key = key(from.getAddress());
    Source s = sources.get(key);
    if (s == null) {
      forgetIdle(now);
      if (sources.size() >= limits.maxSources()) {
        counters.drop("table-full");
        return false;
      }
      s = new Source(limits.perSourceBurst(), ALLOWANCE_BYTES, now);
      sources.put(key, s);
    } else {
      long idle = now - s.last;
      if (idle > 0) {
        s.tokens = Math.min(limits.perSourceBurst(), s.tokens + idle * sourceRatePerNano);
        s.last = now;
      }
      if (idle >= QUIET_NANOS && s.credit < ALLOWANCE_BYTES) {
        s.credit = ALLOWANCE_BYTES;
      }
    }
    if (rated) {
      if (s.tokens < 1) {
        counters.drop("rate-source");
        return false;
      }
      s.tokens -= 1;
    }
    if (guarded) {
      s.credit = Math.min(MAX_CREDIT_BYTES, s.credit + (double) limits.amplificationFactor() * length);
    }
    return true;
  }

  /**
   * Pays for an answer of {@code length} bytes to {@code to} (a source that was {@link #admit admitted}); false
   * (counted {@code amplification}) when its credit does not cover it and the answer must not be sent.
   */
  boolean spend(InetSocketAddress to, int length) {
    if (limits.amplificationFactor() == 0 || exempt(to.getAddress())) {
      return true;
    }
    Source s = sources.get(key(to.getAddress()));
    if (s == null || s.credit < length) {
      counters.drop("amplification");
      return false;
    }
    s.credit -= length;
    return true;
  }

  /** Charges a request to the (configured) app it names; false (counted {@code rate-app}) when it must be dropped. */
  boolean admitApp(String appId) {
    if (limits.perAppPerSecond() == 0) {
      return true;
    }
    long now = nanos.getAsLong();
    TokenBucket b = apps.computeIfAbsent(appId, a -> new TokenBucket(limits.perAppPerSecond(), limits.perAppBurst(), now));
    if (!b.tryTake(now)) {
      counters.drop("rate-app");
      return false;
    }
    return true;
  }

  /**
   * Charges one INTRODUCE or forwarded UPDATE transaction to its target peer; false (counted {@code rate-target}) when
   * the target has had its share and the request that would cause it must be refused.
   */
  boolean admitDelivery(String appId, String peerId) {
    if (limits.introducesPerTargetPerSecond() == 0) {
      return true;
    }
    long now = nanos.getAsLong();
    String key = appId + '\n' + peerId;
    TokenBucket b = targets.get(key);
    if (b == null) {
      // Idle targets are full buckets: forget them. Beyond the bound the least recently served goes (it gets a full
      // bucket again if it comes back: a bounded leniency, never a refusal of service to others).
      for (Iterator<TokenBucket> it = targets.values().iterator(); it.hasNext(); ) {
        TokenBucket head = it.next();
        if (now - head.lastNanos() < forgetTargetNanos && targets.size() < limits.maxSources()) {
          break;
        }
        it.remove();
      }
      b = new TokenBucket(limits.introducesPerTargetPerSecond(), limits.introducesPerTargetBurst(), now);
      targets.put(key, b);
    }
    if (!b.tryTake(now)) {
      counters.drop("rate-target");
      return false;
    }
    return true;
  }

  /** Sources currently remembered (for tests). */
  int sources() {
    return sources.size();
  }

  private boolean exempt(InetAddress ip) {
    return limits.exemptLoopback() && ip.isLoopbackAddress();
  }

  /** Removes sources idle long enough to be indistinguishable from new ones, oldest first. */
  private void forgetIdle(long now) {
    for (Iterator<Source> it = sources.values().iterator(); it.hasNext(); ) {
      if (now - it.next().last < forgetNanos) {
        return;
      }
      it.remove();
    }
  }

  /** An IPv4 address is its own key; an IPv6 address counts by its /64, which one subscriber gets whole. */
  private static Object key(InetAddress ip) {
    if (ip instanceof Inet4Address) {
      return ip;
    }
    byte[] a = ip.getAddress();
    long prefix = 0;
    for (int i = 0; i < 8; i++) {
      prefix = prefix << 8 | (a[i] & 0xFF);
    }
    return prefix;
  }
}
