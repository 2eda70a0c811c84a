package io.introducer.rendezvous;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
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
 * Loopback sources are exempt when configured so (they cannot arrive from the network).
 *
 * <p>Threads: {@link #admit} and {@link #spend} run on every event loop that reads a primary socket (the introducer's
 * {@code threads}: one socket per loop on the same port with SO_REUSEPORT), and on the verticle's context. The source
 * table is therefore striped: {@link #STRIPES} LRU maps, each guarded by its own monitor, chosen by the source key's
 * hash, so two loops contend only when they serve sources of the same stripe at the same instant, and a refusal still
 * costs one uncontended lock and a counter. The bound on the table ({@code maxSources}) is one atomic count, touched
 * only when a source is added or forgotten. Per-loop tables with the budget split among loops would not do: the
 * kernel picks a SO_REUSEPORT socket by hashing the 4-tuple (source IP <em>and port</em>, destination IP and port;
 * {@code udp_ehashfn} in {@code reuseport_select_sock}), so one source address:port always meets the same loop, but
 * a host (the key here) sending from several ports is spread over all of them, and one sending from a single port
 * would get only its share of the budget. {@link #admitApp} and {@link #admitDelivery} are called on the verticle's
 * context only and stay confined to it.
 */
final class RateLimits {
  /** The credit of a new or quiet source: one datagram's worth, enough for the largest answer (a CONNECT success). */
  static final int ALLOWANCE_BYTES = 1500;
  /** Credit a source may bank, so that a burst of answers after a burst of requests stays bounded too. */
  static final int MAX_CREDIT_BYTES = 16 * ALLOWANCE_BYTES;
  /** After this much silence a source is quiet: its credit is back to (at least) the allowance. */
  static final long QUIET_NANOS = 1_000_000_000L;
  /** Stripes of the source table (a power of two). */
  static final int STRIPES = 64;
  /** A full table looks for idle sources in every stripe at most this often (it always looks in the new one's). */
  static final long SWEEP_ALL_NANOS = 1_000_000L;

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
  /** Sources by stripe, each in access order (its head is the one heard from longest ago); guarded by the map. */
  @SuppressWarnings("unchecked")
  private final LinkedHashMap<Object, Source>[] stripes = new LinkedHashMap[STRIPES];
  /** Sources in all stripes: at most {@code maxSources}, reserved before a source is added. */
  private final AtomicInteger size = new AtomicInteger();
  /** When a full table may next look for idle sources in every stripe. */
  private volatile long nextSweepAll = Long.MIN_VALUE;
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
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new LinkedHashMap<>(64, 0.75f, true);
    }
  }

  private static long secondsToFill(int burst, int perSecond) {
    return perSecond == 0 ? 0 : (long) Math.ceil(burst * 1e9 / perSecond);
  }

  /**
   * Charges a datagram of {@code length} bytes to its source; false (counted) when it must be dropped. Thread-safe
   * (the source's stripe is locked).
   */
  boolean admit(InetSocketAddress from, int length) {
    boolean rated = limits.perSourcePerSecond() > 0;
    boolean guarded = limits.amplificationFactor() > 0;
    if (!rated && !guarded || exempt(from.getAddress())) {
      return true;
    }
    long now = nanos.getAsLong();
    Object key = key(from.getAddress());
    LinkedHashMap<Object, Source> stripe = stripe(key);
    for (int attempt = 0; ; attempt++) {
      synchronized (stripe) {
        Source s = stripe.get(key);
        if (s == null) {
          forgetIdle(stripe, now);
          if (reserve()) {
            s = new Source(limits.perSourceBurst(), ALLOWANCE_BYTES, now);
            stripe.put(key, s);
          } else if (attempt > 0 || !sweepAllDue(now)) {
            counters.drop("table-full");
            return false;
          } else {
            s = null; // look for idle sources in the other stripes (outside this lock), then once more here
          }
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
        if (s != null) {
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
      }
      for (LinkedHashMap<Object, Source> other : stripes) {
        synchronized (other) { // one stripe at a time: never two locks held
          forgetIdle(other, now);
        }
      }
    }
  }

  /**
   * Pays for an answer of {@code length} bytes to {@code to} (a source that was {@link #admit admitted}); false
   * (counted {@code amplification}) when its credit does not cover it and the answer must not be sent. Thread-safe.
   */
  boolean spend(InetSocketAddress to, int length) {
    if (limits.amplificationFactor() == 0 || exempt(to.getAddress())) {
      return true;
    }
    Object key = key(to.getAddress());
    LinkedHashMap<Object, Source> stripe = stripe(key);
    synchronized (stripe) {
      Source s = stripe.get(key);
      if (s != null && s.credit >= length) {
        s.credit -= length;
        return true;
      }
    }
    counters.drop("amplification");
    return false;
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
    return size.get();
  }

  private boolean exempt(InetAddress ip) {
    return limits.exemptLoopback() && ip.isLoopbackAddress();
  }

  private LinkedHashMap<Object, Source> stripe(Object key) {
    int h = key.hashCode() * 0x9E3779B9; // Fibonacci hashing: the top bits depend on every bit of the key's hash
    return stripes[h >>> (32 - Integer.numberOfTrailingZeros(STRIPES))];
  }

  /** Takes a place in the table for a new source; false when it is full. */
  private boolean reserve() {
    int max = limits.maxSources();
    for (int n = size.get(); n < max; n = size.get()) {
      if (size.compareAndSet(n, n + 1)) {
        return true;
      }
    }
    return false;
  }

  /** Whether a full table may look through every stripe now (at most once per {@link #SWEEP_ALL_NANOS}). */
  private boolean sweepAllDue(long now) {
    long next = nextSweepAll;
    if (next != Long.MIN_VALUE && now - next < 0) {
      return false;
    }
    nextSweepAll = now + SWEEP_ALL_NANOS;
    return true;
  }

  /** Removes a stripe's sources idle long enough to be indistinguishable from new ones, oldest first; locked. */
  private void forgetIdle(LinkedHashMap<Object, Source> stripe, long now) {
    for (Iterator<Source> it = stripe.values().iterator(); it.hasNext(); ) {
      if (now - it.next().last < forgetNanos) {
        return;
      }
      it.remove();
      size.decrementAndGet();
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
