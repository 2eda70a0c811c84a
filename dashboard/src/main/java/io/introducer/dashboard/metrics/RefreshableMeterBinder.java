package io.introducer.dashboard.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * A {@link MeterBinder} whose label values appear at run time (a new drop reason, a new error code): {@link #refresh}
 * runs before every scrape and registers the meters of values seen since. Label values must come from bounded sets
 * (reasons and codes in the code, never peer or user ids).
 */
public interface RefreshableMeterBinder extends MeterBinder {
  void refresh(MeterRegistry registry);
}
