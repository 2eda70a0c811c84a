package io.introducer.dashboard.impl;

import java.time.Clock;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Slows password guessing: at most {@code maxFailures} failed logins per client address within a window; memory is
 * bounded by dropping stale entries once the table grows large.
 */
public final class LoginThrottle {
  private static final int MAX_TRACKED = 10_000;

  private record Window(long startMillis, int failures) {}

  private final int maxFailures;
  private final long windowMillis;
  private final Clock clock;
  private final Map<String, Window> byClient = new ConcurrentHashMap<>();

  public LoginThrottle(int maxFailures, long windowMillis, Clock clock) {
    this.maxFailures = maxFailures;
    this.windowMillis = windowMillis;
    this.clock = clock;
  }

  /** Milliseconds until {@code client} may try again, or 0 when it may try now. */
  public long blockedFor(String client) {
    Window w = byClient.get(client);
    long now = clock.millis();
    if (w == null || now - w.startMillis() >= windowMillis || w.failures() < maxFailures) {
      return 0;
    }
    return w.startMillis() + windowMillis - now;
  }

  public void failed(String client) {
    long now = clock.millis();
    if (byClient.size() >= MAX_TRACKED) {
      byClient.values().removeIf(w -> now - w.startMillis() >= windowMillis);
    }
    byClient.compute(client, (k, w) -> w == null || now - w.startMillis() >= windowMillis
        ? new Window(now, 1) : new Window(w.startMillis(), w.failures() + 1));
  }

  public void succeeded(String client) {
    byClient.remove(client);
  }
}
