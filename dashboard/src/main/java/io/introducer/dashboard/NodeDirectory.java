package io.introducer.dashboard;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * The nodes the dashboard lists: this node and, when clustered, every cluster member. Implemented by the node (the
 * only module that knows Hazelcast). Each entry: {@code id}, {@code name}, {@code address}, {@code roles} (array of
 * role names), {@code http} (host:port or null), {@code self} (boolean), {@code health} ("ready", "starting" or,
 * for other members, "member": alive per the cluster's failure detector).
 */
@FunctionalInterface
public interface NodeDirectory {
  Future<List<JsonObject>> nodes();
}
