package io.introducer.node;

import io.introducer.dashboard.RelaySnapshot;
import io.introducer.dashboard.RelaySource;
import io.introducer.relay.RelayCounters;
import io.introducer.relay.RelayVerticle;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.vertx.core.Future;
import java.net.InetSocketAddress;
import java.util.function.ToDoubleFunction;

/** How a node's relay role shows on the dashboard ({@link RelaySource}) and in /metrics ({@link MeterBinder}). */
final class RelayViews {
  private RelayViews() {}

  /** The relay's load from its counters; capacity is its configured maximum of allocations. */
  static RelaySource source(RelayVerticle relay, String nodeName) {
    return () -> {
      InetSocketAddress a = relay.publicAddress();
      if (a == null) {
        return Future.failedFuture("relay not started");
      }
      RelayCounters c = relay.counters();
      String address = a.getAddress().getHostAddress() + ":" + a.getPort();
      return Future.succeededFuture(new RelaySnapshot(
          (nodeName.isBlank() ? "relay" : nodeName) + "/" + a.getPort(),
          address,
          c.allocationsActive(),
          relay.relayConfig().maxAllocations(),
          c.bytesToPeer() + c.bytesToClient(),
          c.packetsToPeer() + c.packetsToClient()));
    };
  }

  /**
   * The relay's meters: {@code relay_allocations_active} (now), {@code relay_allocations_total} (created),
   * {@code relay_bytes_total{direction="to-peer"|"to-client"}}, {@code relay_packets_total{direction}},
   * {@code relay_auth_failures_total}.
   */
  static MeterBinder meters(RelayCounters counters) {
    return registry -> {
      Gauge.builder("relay.allocations.active", counters, RelayCounters::allocationsActive)
          .description("TURN allocations active now").register(registry);
      counter(registry, counters, "relay.allocations", "TURN allocations created",
          RelayCounters::allocationsCreated);
      counter(registry, counters, "relay.bytes", "bytes relayed, by direction", RelayCounters::bytesToPeer,
          "direction", "to-peer");
      counter(registry, counters, "relay.bytes", "bytes relayed, by direction", RelayCounters::bytesToClient,
          "direction", "to-client");
      counter(registry, counters, "relay.packets", "packets relayed, by direction", RelayCounters::packetsToPeer,
          "direction", "to-peer");
      counter(registry, counters, "relay.packets", "packets relayed, by direction", RelayCounters::packetsToClient,
          "direction", "to-client");
      counter(registry, counters, "relay.auth.failures", "requests refused for bad credentials",
          RelayCounters::authFailures);
      counter(registry, counters, "relay.credential.rollovers",
          "allocations moved to fresh TURN REST credentials of the same user", RelayCounters::credentialRollovers);
    };
  }

  private static void counter(MeterRegistry registry, RelayCounters counters, String name, String description,
      ToDoubleFunction<RelayCounters> f, String... tags) {
    FunctionCounter.builder(name, counters, f).description(description).tags(tags).register(registry);
  }
}
