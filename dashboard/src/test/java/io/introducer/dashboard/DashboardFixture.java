package io.introducer.dashboard;

import io.introducer.dashboard.metrics.IntroducerMeters;
import io.introducer.dashboard.metrics.NodeMetrics;
import io.introducer.rendezvous.IntroducerVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A node's HTTP side assembled in-process on loopback and ephemeral ports: Vert.x with the node's metrics, an
 * introducer, the {@link NodeHttpServer} and a {@link DashboardVerticle} with short push periods.
 */
final class DashboardFixture implements AutoCloseable {
  static final String APP = "game";
  static final String SECRET = "game-secret";
  static final String ADMIN_TOKEN = "test-admin-token-0123456789";
  static final String USER = "ops";
  static final String PASSWORD = "ops-password";
  static final String METRICS_TOKEN = "test-metrics-token-0123456789";
  static final long STATS_PERIOD_MILLIS = 200;
  static final long RELAY_SAMPLE_MILLIS = 100;

  final Vertx vertx;
  final NodeMetrics metrics;
  final DashboardSources sources;
  final IntroducerVerticle introducer;
  final DashboardVerticle dashboard;
  final int httpPort;
  final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private DashboardFixture(Vertx vertx, NodeMetrics metrics, DashboardSources sources, IntroducerVerticle introducer,
      DashboardVerticle dashboard, int httpPort) {
    this.vertx = vertx;
    this.metrics = metrics;
    this.sources = sources;
    this.introducer = introducer;
    this.dashboard = dashboard;
    this.httpPort = httpPort;
  }

  static DashboardConfig config() {
    return DashboardConfig.fromJson(new JsonObject()
        .put("adminToken", ADMIN_TOKEN)
        .put("metricsToken", METRICS_TOKEN)
        .put("users", new JsonArray().add(new JsonObject().put("username", USER).put("password", PASSWORD))));
  }

  static DashboardFixture start() throws Exception {
    return start(sources -> {});
  }

  /** {@code customize} may replace sources (e.g. a session store filled by the test) or add relays. */
  static DashboardFixture start(Consumer<DashboardSources> customize) throws Exception {
    NodeMetrics metrics = new NodeMetrics();
    Vertx vertx = Vertx.builder().with(new VertxOptions().setMetricsOptions(metrics.vertxOptions()))
        .withMetrics(metrics.vertxMetricsFactory()).build();
    try {
      IntroducerVerticle introducer = new IntroducerVerticle();
      JsonObject conf = new JsonObject().put("host", "127.0.0.1").put("port", 0)
          .put("apps", new JsonArray().add(new JsonObject().put("id", APP).put("secret", SECRET)));
      await(vertx.deployVerticle(introducer, new DeploymentOptions().setConfig(conf)));
      metrics.bind(new IntroducerMeters(introducer.counters(), introducer::registry, introducer::sessions,
          Clock.systemUTC()));
      AccessControl access = new AccessControl(config(), Clock.systemUTC());
      NodeHttpServer server = new NodeHttpServer(vertx, () -> new JsonObject().put("ready", true), metrics, access);
      DashboardSources sources = new DashboardSources()
          .registry(introducer::registry)
          .sessions(introducer::sessions)
          .nodes(() -> Future.succeededFuture(List.of(new JsonObject().put("id", "local").put("name", "test-node")
              .put("address", null).put("roles", new JsonArray().add("introducer").add("dashboard"))
              .put("http", null).put("self", true).put("health", "ready"))));
      customize.accept(sources);
      DashboardVerticle dashboard = new DashboardVerticle(server.router(), access, sources, Clock.systemUTC(),
          STATS_PERIOD_MILLIS, RELAY_SAMPLE_MILLIS);
      await(vertx.deployVerticle(dashboard));
      int port = await(server.listen("127.0.0.1", 0));
      return new DashboardFixture(vertx, metrics, sources, introducer, dashboard, port);
    } catch (Exception | Error e) {
      vertx.close().await(10, TimeUnit.SECONDS);
      throw e;
    }
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.await(10, TimeUnit.SECONDS);
  }

  UdpPeer peer(String id) {
    return new UdpPeer(introducer.actualPort(), APP, id, SECRET);
  }

  URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + httpPort + pathAndQuery);
  }

  HttpResponse<String> get(String pathAndQuery, String authorization) throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(pathAndQuery)).timeout(Duration.ofSeconds(10)).GET();
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** GET with the admin token; asserts nothing. */
  HttpResponse<String> admin(String pathAndQuery) throws IOException, InterruptedException {
    return get(pathAndQuery, bearer(ADMIN_TOKEN));
  }

  JsonObject adminJson(String pathAndQuery) throws IOException, InterruptedException {
    HttpResponse<String> r = admin(pathAndQuery);
    if (r.statusCode() != 200) {
      throw new AssertionError("GET " + pathAndQuery + " answered " + r.statusCode() + ": " + r.body());
    }
    return new JsonObject(r.body());
  }

  HttpResponse<String> post(String path, String json) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static String bearer(String token) {
    return "Bearer " + token;
  }

  static String basic(String user, String password) {
    return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
  }
}
