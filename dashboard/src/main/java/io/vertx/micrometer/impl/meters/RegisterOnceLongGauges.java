package io.vertx.micrometer.impl.meters;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;

/**
 * Vert.x's {@link LongGauges}, except that each gauge reaches the Micrometer registry once.
 *
 * <p>Why: vertx-micrometer-metrics 5.0.x registers its {@code LongAdder}-backed gauges again every time it needs one
 * (every event-bus handler, every message received, every HTTP request and connection) and relies on Micrometer
 * handing back the gauge already registered. Micrometer 1.13.9 and later log each such re-registration ("This Gauge
 * has been already registered ..."; a WARN the first time in a JVM, DEBUG after), so every node logged that WARN as
 * soon as a second event-bus consumer was registered (vert-x3/vertx-micrometer-metrics#259, micrometer#6931). Here a
 * gauge is registered on its first use and its {@code LongAdder} is then taken from a map keyed by name and tags
 * as given (before the registry's filters, which Vert.x sets up before its first meter): the same adder Vert.x's own
 * builder would have returned, without touching the registry again.
 *
 * <p>It lives in Vert.x's package because {@link LongGaugeBuilder}'s constructor is package-private. Remove it once
 * the Vert.x BOM brings a vertx-micrometer-metrics that stops re-registering gauges.
 */
public final class RegisterOnceLongGauges extends LongGauges {
  private final ConcurrentMap<Meter.Id, LongAdder> longGauges;
  private final ConcurrentMap<Key, LongAdder> registered = new ConcurrentHashMap<>();

  public RegisterOnceLongGauges(ConcurrentMap<Meter.Id, LongAdder> longGauges) {
    super(longGauges);
    this.longGauges = longGauges;
  }

  @Override
  public LongGaugeBuilder builder(String name, ToDoubleFunction<LongAdder> func) {
    return new OnceBuilder(name, func);
  }

  private record Key(String name, Tags tags) {}

  private final class OnceBuilder extends LongGaugeBuilder {
    private final String name;
    private Tags tags = Tags.empty();

    OnceBuilder(String name, ToDoubleFunction<LongAdder> func) {
      super(name, longGauges, func);
      this.name = name;
    }

    @Override
    public LongGaugeBuilder tags(Iterable<Tag> tags) {
      this.tags = this.tags.and(tags);
      super.tags(tags);
      return this;
    }

    @Override
    public LongAdder register(MeterRegistry registry) {
      Key key = new Key(name, tags);
      LongAdder adder = registered.get(key);
      return adder != null ? adder : registered.computeIfAbsent(key, k -> super.register(registry));
    }
  }
}
