package io.introducer.dashboard.impl;

import io.introducer.dashboard.RelaySnapshot;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * Relay load over time: one sample per period, the last {@code capacity} kept. Rates are computed from the change
 * in the relays' byte and packet counters since the previous sample (a counter that went down, e.g. a restarted
 * relay, counts as a fresh start).
 */
public final class LoadHistory {
  private final int capacity;
  private final Deque<JsonObject> samples = new ArrayDeque<>();
  private long lastAt = -1;
  private long lastBytes;
  private long lastPackets;

  public LoadHistory(int capacity) {
    this.capacity = capacity;
  }

  public synchronized void add(long at, List<RelaySnapshot> relays) {
    long allocations = 0;
    long capacitySum = 0;
    long bytes = 0;
    long packets = 0;
    for (RelaySnapshot r : relays) {
      allocations += r.allocations();
      capacitySum += r.capacity();
      bytes += r.bytesRelayed();
      packets += r.packetsRelayed();
    }
    double seconds = lastAt < 0 ? 0 : (at - lastAt) / 1000.0;
    JsonObject sample = new JsonObject()
        .put("at", at)
        .put("relays", relays.size())
        .put("allocations", allocations)
        .put("capacity", capacitySum)
        .put("bytesPerSecond", seconds <= 0 ? 0.0 : Math.max(0, bytes - lastBytes) / seconds)
        .put("packetsPerSecond", seconds <= 0 ? 0.0 : Math.max(0, packets - lastPackets) / seconds);
    lastAt = at;
    lastBytes = bytes;
    lastPackets = packets;
    samples.addLast(sample);
    while (samples.size() > capacity) {
      samples.removeFirst();
    }
  }

  public synchronized JsonArray toJson() {
    JsonArray out = new JsonArray();
    samples.forEach(s -> out.add(s.copy()));
    return out;
  }
}
