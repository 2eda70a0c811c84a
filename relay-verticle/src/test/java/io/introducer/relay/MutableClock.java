package io.introducer.relay;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** A clock tests move forward by hand; read from the relay's event loop, moved from the test thread. */
final class MutableClock extends Clock {
  private final AtomicLong millis;

  MutableClock() {
    this(System.currentTimeMillis());
  }

  MutableClock(long startMillis) {
    this.millis = new AtomicLong(startMillis);
  }

  void advance(Duration d) {
    millis.addAndGet(d.toMillis());
  }

  @Override
  public long millis() {
    return millis.get();
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis.get());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
