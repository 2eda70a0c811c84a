package io.introducer.dashboard;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Who may use the node's authenticated HTTP endpoints (the dashboard, its JSON API and {@code /metrics}): the node
 * config's {@code dashboard} section. Build it with {@link #fromJson}; bad values are reported as
 * {@link IllegalArgumentException}s naming the key.
 *
 * @param adminToken bearer token with full access; empty disables it
 * @param users basic-auth and login-form users, username to password
 * @param metricsToken bearer token valid for {@code /metrics} only (for Prometheus); empty disables it
 * @param sessionMinutes lifetime of a token issued by the login form
 */
public record DashboardConfig(String adminToken, Map<String, String> users, String metricsToken, int sessionMinutes) {

  /** The development credentials of the embedded defaults: fine on loopback, refused anywhere else. */
  public static final String DEV_ADMIN_TOKEN = "dev-admin-token";
  public static final String DEV_USERNAME = "admin";
  public static final String DEV_PASSWORD = "admin";

  private static final Pattern USERNAME = Pattern.compile("[A-Za-z0-9._@-]{1,64}");
  private static final Pattern IPV4_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  public DashboardConfig {
    require(adminToken != null, "dashboard.adminToken must be a string");
    require(metricsToken != null, "dashboard.metricsToken must be a string");
    require(users != null, "dashboard.users must be an array");
    require(sessionMinutes >= 1 && sessionMinutes <= 10_080,
        "dashboard.sessionMinutes must be 1-10080, got " + sessionMinutes);
    for (Map.Entry<String, String> u : users.entrySet()) {
      require(USERNAME.matcher(u.getKey()).matches(),
          "dashboard.users: invalid username \"" + u.getKey() + "\" (1-64 characters of A-Z a-z 0-9 . _ @ -)");
      require(u.getValue() != null && !u.getValue().isEmpty(),
          "dashboard.users: password of \"" + u.getKey() + "\" is empty");
    }
    users = Collections.unmodifiableMap(new LinkedHashMap<>(users));
  }

  /** Parses the {@code dashboard} section; absent keys mean no credential of that kind. */
  public static DashboardConfig fromJson(JsonObject json) {
    JsonObject j = json == null ? new JsonObject() : json;
    return new DashboardConfig(string(j, "adminToken"), users(j.getValue("users")), string(j, "metricsToken"),
        integer(j, "sessionMinutes", 480));
  }

  /** True when any credential of the embedded defaults is still accepted. */
  public boolean usesDevelopmentCredentials() {
    return DEV_ADMIN_TOKEN.equals(adminToken) || DEV_ADMIN_TOKEN.equals(metricsToken)
        || DEV_PASSWORD.equals(users.get(DEV_USERNAME));
  }

  /** True when at least one way to log in to the dashboard is configured. */
  public boolean hasAdminCredentials() {
    return !adminToken.isEmpty() || !users.isEmpty();
  }

  /**
   * Refuses configurations that would expose the node: the development credentials on an HTTP host other than
   * loopback (they guard {@code /metrics} on every node, and the dashboard where it runs), or a dashboard nobody
   * can log in to.
   *
   * @throws IllegalArgumentException with the reason and the keys to set
   */
  public void checkExposure(String httpHost, boolean dashboardRole) {
    if (usesDevelopmentCredentials() && !isLoopback(httpHost)) {
      throw new IllegalArgumentException("refusing to serve HTTP on non-loopback host " + httpHost
          + " with the development dashboard credentials (adminToken \"" + DEV_ADMIN_TOKEN + "\" or user "
          + DEV_USERNAME + "/" + DEV_PASSWORD + "): set your own dashboard.adminToken and dashboard.users"
          + " (INTRODUCER_DASHBOARD_ADMIN_TOKEN, INTRODUCER_DASHBOARD_USERS) or bind http.host to 127.0.0.1");
    }
    if (dashboardRole && !hasAdminCredentials()) {
      throw new IllegalArgumentException("the dashboard role needs dashboard.adminToken or dashboard.users:"
          + " nobody could log in");
    }
  }

  /** Loopback check without DNS: names other than "localhost" count as non-loopback, and so does 0.0.0.0. */
  public static boolean isLoopback(String host) {
    String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    if (h.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (!IPV4_LITERAL.matcher(h).matches() && !h.contains(":")) {
      return false;
    }
    try {
      return InetAddress.getByName(h).isLoopbackAddress(); // a literal: parsed, never looked up
    } catch (UnknownHostException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "DashboardConfig[adminToken=" + (adminToken.isEmpty() ? "none" : "set") + ", users=" + users.keySet()
        + ", metricsToken=" + (metricsToken.isEmpty() ? "none" : "set") + ", sessionMinutes=" + sessionMinutes + "]";
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  private static String string(JsonObject j, String key) {
    Object v = j.getValue(key);
    if (v == null) {
      return "";
    }
    require(v instanceof String, "dashboard." + key + " must be a string");
    return (String) v;
  }

  private static int integer(JsonObject j, String key, int def) {
    Object v = j.getValue(key);
    if (v == null) {
      return def;
    }
    require(v instanceof Integer || v instanceof Long, "dashboard." + key + " must be an integer, got " + v);
    long l = ((Number) v).longValue();
    require(l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE, "dashboard." + key + " is out of range: " + v);
    return (int) l;
  }

  private static Map<String, String> users(Object v) {
    Map<String, String> out = new LinkedHashMap<>();
    if (v == null) {
      return out;
    }
    require(v instanceof JsonArray, "dashboard.users must be an array of {\"username\": ..., \"password\": ...}");
    for (Object o : (JsonArray) v) {
      require(o instanceof JsonObject, "dashboard.users: each entry must be an object with username and password");
      JsonObject u = (JsonObject) o;
      Object name = u.getValue("username");
      Object password = u.getValue("password");
      require(name instanceof String, "dashboard.users: username must be a string, got " + name);
      require(password instanceof String, "dashboard.users: password of \"" + name + "\" must be a string");
      require(out.put((String) name, (String) password) == null, "dashboard.users: duplicate username \"" + name + "\"");
    }
    return out;
  }
}
