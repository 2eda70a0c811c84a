package io.introducer.dashboard.impl;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** JSON responses of the node's HTTP endpoints; never cached. */
public final class HttpJson {
  private HttpJson() {}

  public static void ok(RoutingContext ctx, Object body) {
    send(ctx, 200, body);
  }

  public static void send(RoutingContext ctx, int status, Object body) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    ctx.response().setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json; charset=utf-8")
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-store")
        .end(body instanceof JsonObject j ? j.encode() : io.vertx.core.json.Json.encode(body));
  }

  /** {@code {"error": message}} with the given status. */
  public static void error(RoutingContext ctx, int status, String message) {
    send(ctx, status, new JsonObject().put("error", message));
  }
}
