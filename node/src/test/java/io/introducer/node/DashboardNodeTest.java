package io.introducer.node;

import static io.introducer.node.IntroducerNodeTest.freePort;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The dashboard role and the HTTP endpoints as the node wires them: config, credentials, cluster view, metrics. */
class DashboardNodeTest {
  private static final String TOKEN = "node-test-admin-token-0123456789";
  private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
  private IntroducerNode node;

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private static Map<String, String> clustered() throws Exception {
    int hz = freePort();
    Map<String, String> env = new HashMap<>(Map.of(
        "INTRODUCER_CLUSTER_NAME", "test-" + UUID.randomUUID(),
        "INTRODUCER_CLUSTER_PORT", String.valueOf(hz),
        "INTRODUCER_CLUSTER_PORT_AUTO_INCREMENT", "false",
        "INTRODUCER_CLUSTER_MEMBERS", "127.0.0.1:" + hz,
        "INTRODUCER_CLUSTER_EVENT_BUS_PORT", String.valueOf(freePort()),
        "INTRODUCER_INTRODUCER_PORT", "0",
        "INTRODUCER_RELAY_PORT", "0",
        "INTRODUCER_HTTP_PORT", "0"));
    env.put("INTRODUCER_NODE_ID", "node-a");
    env.put("INTRODUCER_NODE_ROLES", "introducer,relay,dashboard");
    env.put("INTRODUCER_DASHBOARD_ADMIN_TOKEN", TOKEN);
    return env;
  }

  private HttpResponse<String> get(String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + path))
        .timeout(Duration.ofSeconds(10));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static Throwable startFailure(IntroducerNode n) {
    try {
      n.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      throw new AssertionError("the node started");
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException | java.util.concurrent.TimeoutException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aClusteredNodeServesTheDashboardApiMetricsAndItsMemberList() throws Exception {
    node = new IntroducerNode(NodeConfig.load(null, clustered()));
    node.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);

    assertThat(get("/api/nodes", null).statusCode()).isEqualTo(401);
    JsonArray nodes = new JsonObject(get("/api/nodes", TOKEN).body()).getJsonArray("items");
    assertThat(nodes).hasSize(1);
    JsonObject self = nodes.getJsonObject(0);
    assertThat(self.getString("name")).isEqualTo("node-a");
    assertThat(self.getJsonArray("roles")).containsExactly("introducer", "relay", "dashboard");
    assertThat(self.getBoolean("self")).isTrue();
    assertThat(self.getString("health")).isEqualTo("ready");
    assertThat(self.getString("address")).startsWith("127.0.0.1:");

    JsonArray relays = new JsonObject(get("/api/relays", TOKEN).body()).getJsonArray("items");
    assertThat(relays).hasSize(1);
    assertThat(relays.getJsonObject(0).getLong("allocations")).isZero();
    assertThat(relays.getJsonObject(0).getLong("capacity")).isEqualTo(10_000);

    assertThat(new JsonObject(get("/api/sessions", TOKEN).body()).getInteger("total")).isZero();

    HttpResponse<String> metrics = get("/metrics", TOKEN);
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("introducer_registrations_total 0.0").contains("relay_allocations_active 0.0")
        .contains("relay_allocations_total 0.0")
        .contains("vertx_eventbus_handlers");
    assertThat(metrics.body()).doesNotContain("_created");
    assertThat(get("/metrics", null).statusCode()).isEqualTo(401);
    assertThat(get("/readiness", null).statusCode()).isEqualTo(200);
  }

  @Test
  void theDevelopmentCredentialsAreRefusedOnANonLoopbackHttpHost() throws Exception {
    Map<String, String> env = Map.of("INTRODUCER_CLUSTER_ENABLED", "false", "INTRODUCER_HTTP_HOST", "0.0.0.0",
        "INTRODUCER_HTTP_PORT", "0", "INTRODUCER_INTRODUCER_PORT", "0", "INTRODUCER_RELAY_PORT", "0");
    IntroducerNode refused = new IntroducerNode(NodeConfig.load(null, env));

    assertThat(startFailure(refused)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("refusing to serve HTTP on non-loopback host 0.0.0.0 with the development dashboard"
            + " credentials");
    assertThat(refused.vertx()).as("nothing was started").isNull();
  }

  @Test
  void aDashboardNobodyCanLogInToIsRefused() throws Exception {
    Map<String, String> env = Map.of("INTRODUCER_CLUSTER_ENABLED", "false", "INTRODUCER_HTTP_PORT", "0",
        "INTRODUCER_DASHBOARD_ADMIN_TOKEN", "", "INTRODUCER_DASHBOARD_USERS", "[]");
    IntroducerNode refused = new IntroducerNode(NodeConfig.load(null, env));

    assertThatThrownBy(() -> refused.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS))
        .hasRootCauseMessage("the dashboard role needs dashboard.adminToken or dashboard.users: nobody could log in");
  }
}
