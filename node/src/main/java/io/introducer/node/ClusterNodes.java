package io.introducer.node;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import io.introducer.dashboard.NodeDirectory;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * The dashboard's node list, from Hazelcast's member list (a local, non-blocking view kept current by Hazelcast's
 * failure detector). Each node describes itself through member attributes set before it joins: its name, roles and
 * HTTP address. Without clustering the list is this node alone.
 */
final class ClusterNodes implements NodeDirectory {
  static final String NAME = "introducer.name";
  static final String ROLES = "introducer.roles";
  static final String HTTP = "introducer.http";

  private final HazelcastClusterManager clusterManager;
  private final String name;
  private final List<Role> roles;
  private final String http;
  private final BooleanSupplier ready;

  /** {@code clusterManager} null when not clustered; {@code name} and {@code http} may be empty. */
  ClusterNodes(HazelcastClusterManager clusterManager, String name, List<Role> roles, String http,
      BooleanSupplier ready) {
    this.clusterManager = clusterManager;
    this.name = name;
    this.roles = List.copyOf(roles);
    this.http = http;
    this.ready = ready;
  }

  /** Adds this node's description to the Hazelcast config, for the other members' dashboards. */
  static void describe(Config config, String name, List<Role> roles, String http) {
    if (!name.isBlank()) {
      config.getMemberAttributeConfig().setAttribute(NAME, name);
    }
    config.getMemberAttributeConfig().setAttribute(ROLES, String.join(",", roleNames(roles)));
    if (!http.isBlank()) {
      config.getMemberAttributeConfig().setAttribute(HTTP, http);
    }
  }

  @Override
  public Future<List<JsonObject>> nodes() {
    HazelcastInstance hz = clusterManager == null ? null : clusterManager.getHazelcastInstance();
    if (hz == null || !hz.getLifecycleService().isRunning()) {
      return Future.succeededFuture(List.of(new JsonObject()
          .put("id", "local")
          .put("name", name.isBlank() ? "this node" : name)
          .putNull("address")
          .put("roles", new JsonArray(roleNames(roles)))
          .put("http", http.isBlank() ? null : http)
          .put("self", true)
          .put("health", ready.getAsBoolean() ? "ready" : "starting")));
    }
    List<JsonObject> out = new ArrayList<>();
    for (Member m : hz.getCluster().getMembers()) {
      String address = m.getAddress().getHost() + ":" + m.getAddress().getPort();
      String memberName = m.getAttribute(NAME);
      String memberRoles = m.getAttribute(ROLES);
      boolean self = m.localMember();
      out.add(new JsonObject()
          .put("id", m.getUuid().toString())
          .put("name", memberName == null || memberName.isBlank() ? address : memberName)
          .put("address", address)
          .put("roles", new JsonArray(memberRoles == null || memberRoles.isBlank() ? List.of()
              : Arrays.asList(memberRoles.split(","))))
          .put("http", m.getAttribute(HTTP))
          .put("self", self)
          .put("health", self ? (ready.getAsBoolean() ? "ready" : "starting") : "member"));
    }
    return Future.succeededFuture(out);
  }

  private static List<String> roleNames(List<Role> roles) {
    return roles.stream().map(r -> r.name().toLowerCase(Locale.ROOT)).toList();
  }
}
