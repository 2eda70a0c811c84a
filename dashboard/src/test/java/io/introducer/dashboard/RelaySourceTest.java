package io.introducer.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Relays reach the dashboard through {@link RelaySource}s: listed with their load, and sampled over time. */
class RelaySourceTest {

  @Test
  void aRelaySourceIsListedAndItsLoadIsSampledIntoRates() throws Exception {
    AtomicLong bytes = new AtomicLong();
    RelaySource relay = () -> Future.succeededFuture(
        new RelaySnapshot("node-a/3479", "203.0.113.7:3479", 3, 12, bytes.addAndGet(10_000), 100));
    try (DashboardFixture node = DashboardFixture.start(s -> s.addRelay(relay))) {
      JsonObject listed = node.adminJson("/api/relays").getJsonArray("items").getJsonObject(0);
      assertThat(listed.getString("id")).isEqualTo("node-a/3479");
      assertThat(listed.getString("address")).isEqualTo("203.0.113.7:3479");
      assertThat(listed.getLong("allocations")).isEqualTo(3);
      assertThat(listed.getLong("capacity")).isEqualTo(12);
      assertThat(listed.getDouble("load")).isEqualTo(0.25);

      // Samples every RELAY_SAMPLE_MILLIS; wait (bounded) for two, which give a rate.
      JsonArray samples = new JsonArray();
      for (int i = 0; i < 100 && samples.size() < 2; i++) {
        Thread.sleep(DashboardFixture.RELAY_SAMPLE_MILLIS / 2);
        samples = node.adminJson("/api/stats").getJsonArray("relayLoad");
      }
      assertThat(samples.size()).isGreaterThanOrEqualTo(2);
      JsonObject latest = samples.getJsonObject(samples.size() - 1);
      assertThat(latest.getLong("relays")).isEqualTo(1);
      assertThat(latest.getLong("allocations")).isEqualTo(3);
      assertThat(latest.getLong("capacity")).isEqualTo(12);
      assertThat(latest.getDouble("bytesPerSecond")).isPositive();
    }
  }

  @Test
  void aFailingRelayIsLeftOutRatherThanFailingTheList() throws Exception {
    RelaySource broken = () -> Future.failedFuture("relay not started");
    try (DashboardFixture node = DashboardFixture.start(s -> s.addRelay(broken))) {
      assertThat(node.adminJson("/api/relays").getJsonArray("items")).isEmpty();
    }
  }
}
