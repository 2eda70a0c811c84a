package io.introducer.rendezvous;

import io.introducer.protocol.rendezvous.Rendezvous;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Validated configuration of an {@link IntroducerVerticle}. Build it with {@link #fromJson(JsonObject)}
 * (the verticle does so with its deployment config); every value is range-checked and a bad one is
 * reported as an {@link IllegalArgumentException} naming the key.
 *
 * @param apps application id to shared secret; secrets are never printed by {@link #toString()}
 */
public record IntroducerConfig(
    String host,
    int port,
    int registrationLifetimeSeconds,
    int punchWindowMillis,
    int maxRegistrations,
    int maxSessions,
    int sessionRetentionSeconds,
    String software,
    Map<String, String> apps) {

  public static final String DEFAULT_HOST = "0.0.0.0";
  public static final int DEFAULT_PORT = 3478;
  /** The well-known demo credentials of the examples: fine on loopback, a hole anywhere else. */
  public static final String DEMO_APP_ID = "demo";
  public static final String DEMO_APP_SECRET = "demo-secret";

  private static final Pattern IPV4_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  public IntroducerConfig {
    require(host != null && !host.isBlank(), "host must be a non-empty string");
    require(port >= 0 && port <= 65535, "port must be 0-65535 (0 = ephemeral), got " + port);
    require(registrationLifetimeSeconds >= 1 && registrationLifetimeSeconds <= 86_400,
        "registrationLifetimeSeconds must be 1-86400, got " + registrationLifetimeSeconds);
    require(punchWindowMillis >= 1 && punchWindowMillis <= 600_000,
        "punchWindowMillis must be 1-600000, got " + punchWindowMillis);
    require(maxRegistrations >= 1, "maxRegistrations must be at least 1, got " + maxRegistrations);
    require(maxSessions >= 1, "maxSessions must be at least 1, got " + maxSessions);
    require(sessionRetentionSeconds >= 1, "sessionRetentionSeconds must be at least 1, got " + sessionRetentionSeconds);
    // RFC 8489 14.14: SOFTWARE is fewer than 128 characters.
    require(software != null && !software.isEmpty() && software.length() < 128,
        "software must be 1-127 characters");
    require(apps != null, "apps must not be null");
    for (Map.Entry<String, String> app : apps.entrySet()) {
      require(Rendezvous.isValidId(app.getKey()),
          "apps: invalid id \"" + app.getKey() + "\" (1-64 characters of A-Z a-z 0-9 . _ @ : -)");
      require(app.getValue() != null && !app.getValue().isEmpty(), "apps: secret of \"" + app.getKey() + "\" is empty");
    }
    apps = Collections.unmodifiableMap(new LinkedHashMap<>(apps));
  }

  /** Parses and validates the verticle's JSON config; absent keys take their defaults, unknown keys are ignored. */
  public static IntroducerConfig fromJson(JsonObject json) {
    JsonObject j = json == null ? new JsonObject() : json;
    return new IntroducerConfig(
        string(j, "host", DEFAULT_HOST),
        integer(j, "port", DEFAULT_PORT),
        integer(j, "registrationLifetimeSeconds", 60),
        integer(j, "punchWindowMillis", 10_000),
        integer(j, "maxRegistrations", 1_000_000),
        integer(j, "maxSessions", 100_000),
        integer(j, "sessionRetentionSeconds", 3600),
        string(j, "software", "Introducer"),
        apps(j.getValue("apps")));
  }

  /** The shared secret of {@code appId}, or null for an unknown app. */
  public String secret(String appId) {
    return apps.get(appId);
  }

  /** True when the publicly known demo credentials are enabled on a non-loopback address. */
  public boolean exposesDemoSecret() {
    return DEMO_APP_SECRET.equals(apps.get(DEMO_APP_ID)) && !isLoopback(host);
  }

  /** Loopback check without DNS: names other than "localhost" count as non-loopback. */
  static boolean isLoopback(String host) {
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
    return "IntroducerConfig[host=" + host + ", port=" + port
        + ", registrationLifetimeSeconds=" + registrationLifetimeSeconds + ", punchWindowMillis=" + punchWindowMillis
        + ", maxRegistrations=" + maxRegistrations + ", maxSessions=" + maxSessions
        + ", sessionRetentionSeconds=" + sessionRetentionSeconds + ", software=" + software
        + ", apps=" + apps.keySet() + "]";
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  private static String string(JsonObject j, String key, String def) {
    Object v = j.getValue(key);
    if (v == null) {
      return def;
    }
    require(v instanceof String, key + " must be a string, got " + v);
    return (String) v;
  }

  private static int integer(JsonObject j, String key, int def) {
    Object v = j.getValue(key);
    if (v == null) {
      return def;
    }
    boolean integral = v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte;
    require(integral, key + " must be an integer, got " + v);
    long l = ((Number) v).longValue();
    require(l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE, key + " is out of range: " + v);
    return (int) l;
  }

  private static Map<String, String> apps(Object v) {
    Map<String, String> out = new LinkedHashMap<>();
    if (v == null) {
      return out;
    }
    require(v instanceof JsonArray, "apps must be an array of {\"id\": ..., \"secret\": ...}");
    for (Object o : (JsonArray) v) {
      require(o instanceof JsonObject, "apps: each entry must be an object with id and secret, got " + o);
      JsonObject app = (JsonObject) o;
      Object id = app.getValue("id");
      Object secret = app.getValue("secret");
      require(id instanceof String, "apps: id must be a string, got " + id);
      require(secret instanceof String, "apps: secret of \"" + id + "\" must be a string");
      require(out.put((String) id, (String) secret) == null, "apps: duplicate id \"" + id + "\"");
    }
    return out;
  }
}
