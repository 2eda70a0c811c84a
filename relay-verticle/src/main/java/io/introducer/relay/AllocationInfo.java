package io.introducer.relay;

import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * A read-only snapshot of one allocation, for dashboards and tests.
 *
 * @param client the client's transport address as "ip:port" ("[v6]:port" for IPv6)
 * @param relayed the relayed transport address advertised to the client, same form
 * @param permissions live permissions (peer IPs)
 * @param channels active channel bindings
 */
public record AllocationInfo(
    String username,
    String client,
    String relayed,
    Instant createdAt,
    Instant expiresAt,
    int permissions,
    int channels,
    long bytesToPeer,
    long packetsToPeer,
    long bytesToClient,
    long packetsToClient) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("username", username)
        .put("client", client)
        .put("relayed", relayed)
        .put("createdAt", createdAt.toString())
        .put("expiresAt", expiresAt.toString())
        .put("permissions", permissions)
        .put("channels", channels)
        .put("bytesToPeer", bytesToPeer)
        .put("packetsToPeer", packetsToPeer)
        .put("bytesToClient", bytesToClient)
        .put("packetsToClient", packetsToClient);
  }
}
