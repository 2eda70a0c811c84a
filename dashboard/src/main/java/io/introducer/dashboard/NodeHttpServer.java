package io.introducer.dashboard;

import io.introducer.dashboard.impl.HttpJson;
import io.introducer.dashboard.metrics.NodeMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's one HTTP server (port {@code http.port}): a Vert.x Web {@link Router} that always serves
 * {@code GET /health} (the process is up), {@code GET /readiness} (roles deployed and, when clustered, a cluster
 * member; 503 while not ready), both open, and {@code GET /metrics} (Prometheus text; metrics token or admin
 * credentials). Roles add their own routes to {@link #router()}: the dashboard role mounts the page and
 * {@code /api/*}. Errors are JSON {@code {"error": ...}}.
 */
public final class NodeHttpServer {
  private static final Logger log = LoggerFactory.getLogger(NodeHttpServer.class);

  private final Vertx vertx;
  private final Router router;
  private HttpServer server;

  /** {@code readiness} returns a JSON report whose boolean {@code ready} decides 200 or 503. */
  public NodeHttpServer(Vertx vertx, Supplier<JsonObject> readiness, NodeMetrics metrics, AccessControl access) {
    this.vertx = vertx;
    this.router = Router.router(vertx);
    router.route().handler(NodeHttpServer::securityHeaders);
    router.route("/health").method(HttpMethod.GET).method(HttpMethod.HEAD)
        .handler(ctx -> HttpJson.ok(ctx, new JsonObject().put("status", "UP")));
    router.route("/readiness").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(ctx -> {
      JsonObject report = readiness.get();
      HttpJson.send(ctx, report.getBoolean("ready", false) ? 200 : 503, report);
    });
    router.route("/metrics").method(HttpMethod.GET).handler(access.requireMetrics())
        .handler(ctx -> vertx.executeBlocking(metrics::scrape, false).onComplete(ar -> {
          if (ar.succeeded()) {
            ctx.response().putHeader("Content-Type", NodeMetrics.CONTENT_TYPE).end(ar.result());
          } else {
            ctx.fail(ar.cause());
          }
        }));
    router.errorHandler(404, ctx -> HttpJson.error(ctx, 404, "not found: " + ctx.request().path()));
    router.errorHandler(405, ctx -> HttpJson.error(ctx, 405, "method not allowed: " + ctx.request().method()));
    router.errorHandler(500, ctx -> {
      log.warn("HTTP {} {} failed", ctx.request().method(), ctx.request().path(), ctx.failure());
      HttpJson.error(ctx, 500, "server error");
    });
  }

  /** Where roles add their routes; safe to modify while serving (Vert.x Web routers are thread-safe). */
  public Router router() {
    return router;
  }

  /** Binds; resolves to the actual port (useful with port 0). */
  public Future<Integer> listen(String host, int port) {
    server = vertx.createHttpServer().requestHandler(router);
    return server.listen(port, host).map(s -> {
      String h = host.contains(":") ? "[" + host + "]" : host;
      log.info("HTTP listening on http://{}:{} (/health, /readiness, /metrics)", h, s.actualPort());
      return s.actualPort();
    });
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private static void securityHeaders(RoutingContext ctx) {
    ctx.response()
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Referrer-Policy", "no-referrer");
    ctx.next();
  }
}
