package io.introducer.dashboard;

import io.vertx.core.Future;

/**
 * One relay the dashboard shows: a data provider the node registers with {@link DashboardSources#addRelay} when it
 * deploys a relay role (e.g. reading {@code RelayVerticle.counters()} and its allocations snapshot). Until a relay
 * role exists there are none and the dashboard's relay list is empty.
 */
@FunctionalInterface
public interface RelaySource {
  Future<RelaySnapshot> snapshot();
}
