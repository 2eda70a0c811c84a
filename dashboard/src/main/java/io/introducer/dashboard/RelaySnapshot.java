package io.introducer.dashboard;

import io.vertx.core.json.JsonObject;

/**
 * A relay's load at one instant.
 *
 * @param id stable identifier (e.g. node name + port)
 * @param address the relay's public transport address, host:port
 * @param allocations TURN allocations active now
 * @param capacity most allocations the relay accepts (its relay port range), or 0 when unbounded or unknown
 * @param bytesRelayed bytes relayed since start, both directions
 * @param packetsRelayed packets relayed since start, both directions
 */
public record RelaySnapshot(String id, String address, long allocations, long capacity, long bytesRelayed,
    long packetsRelayed) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id)
        .put("address", address)
        .put("allocations", allocations)
        .put("capacity", capacity == 0 ? null : capacity)
        .put("load", capacity == 0 ? null : (double) allocations / capacity)
        .put("bytesRelayed", bytesRelayed)
        .put("packetsRelayed", packetsRelayed);
  }
}
