package io.introducer.node;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP endpoint for load balancers and deploy tooling: {@code GET /health} (the process is up) and
 * {@code GET /readiness} (roles deployed and, when clustered, a cluster member). 503 while not ready.
 */
final class HealthServer {
  private static final Logger log = LoggerFactory.getLogger(HealthServer.class);

  private final Vertx vertx;
  private final Supplier<JsonObject> readiness;
  private HttpServer server;

  /** {@code readiness} returns a JSON report whose boolean {@code ready} decides 200 or 503. */
  HealthServer(Vertx vertx, Supplier<JsonObject> readiness) {
    this.vertx = vertx;
    this.readiness = readiness;
  }

  Future<Integer> listen(String host, int port) {
    server = vertx.createHttpServer().requestHandler(this::handle);
    return server.listen(port, host).map(s -> {
      log.info("Health listening on http://{}:{}/health and /readiness", host, s.actualPort());
      return s.actualPort();
    });
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    if (!"GET".equals(req.method().name()) && !"HEAD".equals(req.method().name())) {
      req.response().setStatusCode(405).putHeader("Allow", "GET, HEAD").end();
      return;
    }
    switch (path) {
      case "/health" -> json(req, 200, new JsonObject().put("status", "UP"));
      case "/readiness" -> {
        JsonObject report = readiness.get();
        json(req, report.getBoolean("ready", false) ? 200 : 503, report);
      }
      default -> json(req, 404, new JsonObject().put("error", "not found: " + path));
    }
  }

  private static void json(HttpServerRequest req, int status, JsonObject body) {
    req.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
  }
}
