package io.introducer.dashboard;

import static io.introducer.dashboard.DashboardFixture.ADMIN_TOKEN;
import static io.introducer.dashboard.DashboardFixture.METRICS_TOKEN;
import static io.introducer.dashboard.DashboardFixture.PASSWORD;
import static io.introducer.dashboard.DashboardFixture.USER;
import static io.introducer.dashboard.DashboardFixture.basic;
import static io.introducer.dashboard.DashboardFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Who may use which endpoint: the API needs admin credentials, /metrics also the metrics token, health is open. */
class AccessTest {
  private static final List<String> API = List.of("/api/sessions", "/api/peers", "/api/nodes", "/api/relays",
      "/api/stats", "/api/events");
  private static DashboardFixture node;

  @BeforeAll
  static void start() throws Exception {
    node = DashboardFixture.start();
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  private static void assertUnauthorized(HttpResponse<String> r, String what) {
    assertThat(r.statusCode()).as("%s: %s", what, r.body()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).as(what).hasValue("Bearer realm=\"introducer\"");
    assertThat(r.headers().firstValue("Content-Type")).as(what).hasValueSatisfying(
        v -> assertThat(v).startsWith("application/json"));
    assertThat(new JsonObject(r.body()).getString("error")).as(what).startsWith("authentication required");
  }

  @Test
  void everyApiEndpointRefusesARequestWithoutCredentials() throws Exception {
    for (String path : API) {
      assertUnauthorized(node.get(path, null), path);
    }
  }

  @Test
  void wrongTokensAndPasswordsAreRefused() throws Exception {
    for (String auth : List.of(bearer("wrong-token"), bearer(""), bearer(ADMIN_TOKEN + "x"), basic(USER, "wrong"),
        basic("nobody", PASSWORD), "Basic not-base64!", "Digest username=\"ops\"", bearer(METRICS_TOKEN))) {
      assertUnauthorized(node.get("/api/sessions", auth), auth);
    }
  }

  @Test
  void theAdminTokenAndConfiguredUsersAreAccepted() throws Exception {
    assertThat(node.get("/api/sessions", bearer(ADMIN_TOKEN)).statusCode()).isEqualTo(200);
    assertThat(node.get("/api/sessions", basic(USER, PASSWORD)).statusCode()).isEqualTo(200);
  }

  @Test
  void theLoginFormIssuesATokenThatOpensTheApiAndTheLiveStreamQueryParameter() throws Exception {
    HttpResponse<String> login = node.post("/api/login",
        new JsonObject().put("username", USER).put("password", PASSWORD).encode());
    assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
    JsonObject body = new JsonObject(login.body());
    String token = body.getString("token");
    assertThat(body.getString("user")).isEqualTo(USER);
    assertThat(body.getLong("expiresAt")).isGreaterThan(System.currentTimeMillis());

    assertThat(node.get("/api/stats", bearer(token)).statusCode()).isEqualTo(200);
    // A token in the URL is accepted by the live stream only, never by the rest of the API.
    assertUnauthorized(node.get("/api/stats?access_token=" + token, null), "token as query parameter");
    assertUnauthorized(node.get("/api/events?access_token=" + token.substring(1), null), "tampered token");

    HttpResponse<String> viaAdminToken = node.post("/api/login", new JsonObject().put("token", ADMIN_TOKEN).encode());
    assertThat(viaAdminToken.statusCode()).isEqualTo(200);
  }

  @Test
  void loginWithWrongCredentialsIs401AndMalformedLoginIs400() throws Exception {
    HttpResponse<String> wrong = node.post("/api/login",
        new JsonObject().put("username", USER).put("password", "nope").encode());
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(wrong.body()).getString("error")).isEqualTo("invalid credentials");

    for (String body : List.of("not json", "[]", "{\"username\":\"ops\"}", "{\"token\":\"t\",\"username\":\"ops\"}")) {
      HttpResponse<String> r = node.post("/api/login", body);
      assertThat(r.statusCode()).as(body).isEqualTo(400);
      assertThat(new JsonObject(r.body()).getString("error")).as(body).startsWith("expected a JSON object");
    }
  }

  @Test
  void metricsNeedTheMetricsTokenOrAdminCredentials() throws Exception {
    assertUnauthorized(node.get("/metrics", null), "no credentials");
    assertUnauthorized(node.get("/metrics", bearer("wrong")), "wrong token");
    assertThat(node.get("/metrics", bearer(METRICS_TOKEN)).statusCode()).isEqualTo(200);
    assertThat(node.get("/metrics", bearer(ADMIN_TOKEN)).statusCode()).isEqualTo(200);
    assertThat(node.get("/metrics", basic(USER, PASSWORD)).statusCode()).isEqualTo(200);
  }

  @Test
  void healthReadinessAndThePageShellAreOpen() throws Exception {
    HttpResponse<String> health = node.get("/health", null);
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(health.body()).getString("status")).isEqualTo("UP");
    assertThat(node.get("/readiness", null).statusCode()).isEqualTo(200);
    HttpResponse<String> page = node.get("/", null);
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
    assertThat(page.body()).contains("<form id=\"login-form\"");
    assertThat(node.get("/assets/app.js", null).statusCode()).isEqualTo(200);
  }

  @Test
  void unknownPathsAreJson404s() throws Exception {
    HttpResponse<String> outside = node.get("/nope", null);
    assertThat(outside.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(outside.body()).getString("error")).isEqualTo("not found: /nope");
    assertThat(node.admin("/api/nope").statusCode()).isEqualTo(404);
    assertUnauthorized(node.get("/api/nope", null), "unknown API path without credentials");
  }
}
