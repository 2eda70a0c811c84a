package io.introducer.dashboard;

import io.introducer.dashboard.impl.HttpJson;
import io.introducer.dashboard.impl.LoginThrottle;
import io.introducer.dashboard.impl.SessionTokens;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * Checks the credentials of {@link DashboardConfig} on HTTP requests. Accepted, in an {@code Authorization} header:
 * {@code Bearer <adminToken>}, {@code Bearer <login token>} (issued by {@link #login}), and {@code Basic} with a
 * configured user; {@code /metrics} also accepts {@code Bearer <metricsToken>}. Browsers' EventSource cannot send
 * headers, so the live-update stream alone also accepts a login token in the {@code access_token} query parameter.
 * Failures are answered {@code 401 {"error": ...}} with {@code WWW-Authenticate: Bearer} (which makes browsers show
 * no password prompt: the page has its own login form).
 */
public final class AccessControl {
  /** The query parameter carrying a login token on the live-update stream. */
  public static final String TOKEN_PARAMETER = "access_token";
  /** Key of the authenticated user's name in the routing context. */
  public static final String USER_KEY = "introducer.user";

  private final DashboardConfig config;
  private final SessionTokens tokens;
  private final LoginThrottle throttle;

  /** What an authenticated request may do. */
  public enum Scope { ADMIN, METRICS }

  public AccessControl(DashboardConfig config, Clock clock) {
    this.config = config;
    this.tokens = new SessionTokens(deriveKey(config), Duration.ofMinutes(config.sessionMinutes()), clock);
    this.throttle = new LoginThrottle(10, 60_000, clock);
  }

  public DashboardConfig config() {
    return config;
  }

  /** Requires admin credentials; {@code allowQueryToken} also accepts a login token in {@link #TOKEN_PARAMETER}. */
  public Handler<RoutingContext> requireAdmin(boolean allowQueryToken) {
    return ctx -> {
      String user = authenticate(ctx.request(), Scope.ADMIN, allowQueryToken);
      if (user == null) {
        unauthorized(ctx);
      } else {
        ctx.put(USER_KEY, user);
        ctx.next();
      }
    };
  }

  /** Requires the metrics token or admin credentials. */
  public Handler<RoutingContext> requireMetrics() {
    return ctx -> {
      if (authenticate(ctx.request(), Scope.METRICS, false) == null) {
        unauthorized(ctx);
      } else {
        ctx.next();
      }
    };
  }

  /** The authenticated principal's name ("admin-token", "metrics-token" or a username), or null. */
  public String authenticate(HttpServerRequest req, Scope scope, boolean allowQueryToken) {
    String header = req.getHeader(HttpHeaders.AUTHORIZATION);
    if (header != null) {
      if (header.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return bearer(header.substring(7).trim(), scope);
      }
      if (header.regionMatches(true, 0, "Basic ", 0, 6)) {
        return basic(header.substring(6).trim());
      }
      return null;
    }
    if (allowQueryToken) {
      SessionTokens.Verified v = tokens.verify(req.getParam(TOKEN_PARAMETER));
      return v == null ? null : v.user();
    }
    return null;
  }

  /** When a login token presented on this request expires (epoch millis); 0 for credentials that do not expire. */
  public long expiryOf(HttpServerRequest req) {
    String header = req.getHeader(HttpHeaders.AUTHORIZATION);
    String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim()
        : header == null ? req.getParam(TOKEN_PARAMETER) : null;
    SessionTokens.Verified v = tokens.verify(token);
    return v == null ? 0 : v.expiresAt();
  }

  /**
   * {@code POST /api/login} with {@code {"username": ..., "password": ...}} or {@code {"token": adminToken}}:
   * answers {@code {"token", "user", "expiresAt"}}, 401 for wrong credentials, 429 after too many failures.
   */
  public Handler<RoutingContext> loginHandler() {
    return ctx -> {
      String client = ctx.request().remoteAddress() == null ? "unknown" : ctx.request().remoteAddress().hostAddress();
      long wait = throttle.blockedFor(client);
      if (wait > 0) {
        ctx.response().putHeader("Retry-After", String.valueOf((wait + 999) / 1000));
        HttpJson.error(ctx, 429, "too many failed logins; retry later");
        return;
      }
      JsonObject body;
      try {
        body = ctx.body().asJsonObject();
      } catch (RuntimeException e) {
        body = null;
      }
      if (body == null) {
        HttpJson.error(ctx, 400, "expected a JSON object with username and password, or token");
        return;
      }
      Object username = body.getValue("username");
      Object password = body.getValue("password");
      Object token = body.getValue("token");
      String user = null;
      if (username instanceof String u && password instanceof String p && token == null) {
        user = checkUser(u, p);
      } else if (token instanceof String t && username == null && password == null) {
        user = !config.adminToken().isEmpty() && equal(t, config.adminToken()) ? "admin-token" : null;
      } else {
        HttpJson.error(ctx, 400, "expected a JSON object with username and password, or token");
        return;
      }
      if (user == null) {
        throttle.failed(client);
        HttpJson.error(ctx, 401, "invalid credentials");
        return;
      }
      throttle.succeeded(client);
      SessionTokens.Issued issued = tokens.issue(user);
      HttpJson.ok(ctx, new JsonObject().put("token", issued.token()).put("user", issued.user())
          .put("expiresAt", issued.expiresAt()));
    };
  }

  private String bearer(String token, Scope scope) {
    if (token.isEmpty()) {
      return null;
    }
    if (!config.adminToken().isEmpty() && equal(token, config.adminToken())) {
      return "admin-token";
    }
    if (scope == Scope.METRICS && !config.metricsToken().isEmpty() && equal(token, config.metricsToken())) {
      return "metrics-token";
    }
    SessionTokens.Verified v = tokens.verify(token);
    return v == null ? null : v.user();
  }

  private String basic(String encoded) {
    String decoded;
    try {
      decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return null;
    }
    int colon = decoded.indexOf(':');
    return colon < 0 ? null : checkUser(decoded.substring(0, colon), decoded.substring(colon + 1));
  }

  private String checkUser(String username, String password) {
    String expected = config.users().get(username);
    // Compare against something even for unknown users, so timing does not tell which usernames exist.
    boolean ok = equal(password, expected == null ? "\0unknown-user" : expected);
    return ok && expected != null ? username : null;
  }

  private static boolean equal(String a, String b) {
    return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
  }

  private static void unauthorized(RoutingContext ctx) {
    ctx.response().putHeader("WWW-Authenticate", "Bearer realm=\"introducer\"");
    HttpJson.error(ctx, 401, "authentication required: Authorization: Bearer <token> or Basic");
  }

  /** Key of the login tokens: a digest of every credential, so changing any invalidates issued tokens. */
  private static byte[] deriveKey(DashboardConfig config) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update("introducer-dashboard-login-v1".getBytes(StandardCharsets.UTF_8));
      feed(d, config.adminToken());
      for (Map.Entry<String, String> u : new TreeMap<>(config.users()).entrySet()) {
        feed(d, u.getKey());
        feed(d, u.getValue());
      }
      return d.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  private static void feed(MessageDigest d, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    d.update((byte) (b.length >>> 24));
    d.update((byte) (b.length >>> 16));
    d.update((byte) (b.length >>> 8));
    d.update((byte) b.length);
    d.update(b);
  }
}
