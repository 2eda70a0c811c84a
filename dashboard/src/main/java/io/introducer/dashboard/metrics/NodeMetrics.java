package io.introducer.dashboard.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.metrics.MetricsOptions;
import io.vertx.core.spi.VertxMetricsFactory;
import io.vertx.core.spi.metrics.VertxMetrics;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import io.vertx.micrometer.backends.BackendRegistry;
import io.vertx.micrometer.impl.VertxMetricsImpl;
import io.vertx.micrometer.impl.meters.RegisterOnceLongGauges;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/**
 * A node's Prometheus registry: Vert.x's own meters (HTTP, event bus, pools, JVM) through vertx-micrometer-metrics,
 * plus the meters each role binds with {@link #bind} (the introducer's {@link IntroducerMeters}; a relay binds its
 * own the same way). Served as {@code GET /metrics} by {@code NodeHttpServer}.
 *
 * <p>Use: {@code Vertx.builder().with(new VertxOptions().setMetricsOptions(m.vertxOptions()))
 * .withMetrics(m.vertxMetricsFactory())}.
 */
public final class NodeMetrics {
  /** Prometheus text exposition format 0.0.4. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  /** Unique: vertx-micrometer-metrics keeps registries in a static map by name, and a JVM may run several nodes. */
  private final String registryName = "introducer-" + UUID.randomUUID();
  private final List<MeterBinder> binders = new CopyOnWriteArrayList<>();
  /** The values of Vert.x's gauges by meter id (what vertx-micrometer-metrics keeps per registry). */
  private final ConcurrentMap<Meter.Id, LongAdder> longGauges = new ConcurrentHashMap<>();

  public MicrometerMetricsOptions vertxOptions() {
    return new MicrometerMetricsOptions()
        .setEnabled(true)
        .setRegistryName(registryName)
        .setJvmMetricsEnabled(true)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true));
  }

  /**
   * Makes Vert.x record into this registry rather than one of its own. What {@code MicrometerMetricsFactory(registry)}
   * does, except that Vert.x's gauges are registered once each ({@link RegisterOnceLongGauges}: the stock factory
   * re-registers them for every event-bus handler, message and HTTP request, which Micrometer reports with a WARN).
   */
  public VertxMetricsFactory vertxMetricsFactory() {
    return new VertxMetricsFactory() {
      @Override
      public VertxMetrics metrics(VertxOptions options) {
        MetricsOptions given = options.getMetricsOptions();
        MicrometerMetricsOptions micrometer = given instanceof MicrometerMetricsOptions m ? m
            : new MicrometerMetricsOptions(given.toJson());
        BackendRegistry backend = BackendRegistries.setupBackend(micrometer, registry);
        VertxMetricsImpl metrics = new VertxMetricsImpl(micrometer, backend, new RegisterOnceLongGauges(longGauges));
        metrics.init();
        return metrics;
      }

      @Override
      public MetricsOptions newOptions(MetricsOptions options) {
        return options instanceof MicrometerMetricsOptions m ? new MicrometerMetricsOptions(m)
            : VertxMetricsFactory.super.newOptions(options);
      }

      @Override
      public MetricsOptions newOptions() {
        return new MicrometerMetricsOptions();
      }

      @Override
      public MetricsOptions newOptions(JsonObject json) {
        return json == null ? new MicrometerMetricsOptions() : new MicrometerMetricsOptions(json);
      }
    };
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Registers a role's meters; the binder is kept (meters may hold only weak references to their sources). */
  public void bind(MeterBinder binder) {
    binders.add(binder);
    binder.bindTo(registry);
  }

  /** The Prometheus text of every meter. May run gauges that read stores: call it off the event loop. */
  public String scrape() {
    for (MeterBinder b : binders) {
      if (b instanceof RefreshableMeterBinder r) {
        r.refresh(registry);
      }
    }
    return registry.scrape();
  }
}
