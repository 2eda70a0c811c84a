package io.introducer.node;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A node's configuration: the embedded defaults (conf/node.json, shipped in the jar), deep-merged with an optional
 * file, then with environment overrides.
 *
 * <p>Environment naming: {@code INTRODUCER_} + the key path, each camelCase segment turned into UPPER_SNAKE, joined by
 * {@code _}. So {@code introducer.port} is {@code INTRODUCER_INTRODUCER_PORT} and {@code cluster.eventBusPort} is
 * {@code INTRODUCER_CLUSTER_EVENT_BUS_PORT}. Values are parsed as JSON when they parse (numbers, booleans, arrays,
 * objects) and taken as strings otherwise; a list such as {@code node.roles} can also be given comma-separated.
 */
public final class NodeConfig {
  public static final String ENV_PREFIX = "INTRODUCER_";
  private static final String DEFAULTS_RESOURCE = "/node.json";

  private final JsonObject json;
  private final List<String> appliedOverrides;

  private NodeConfig(JsonObject json, List<String> appliedOverrides) {
    this.json = json;
    this.appliedOverrides = List.copyOf(appliedOverrides);
  }

  /** Defaults, then {@code file} (may be null), then the environment. */
  public static NodeConfig load(Path file, Map<String, String> env) throws IOException {
    JsonObject merged = embeddedDefaults();
    if (file != null) {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      JsonObject fromFile;
      try {
        fromFile = new JsonObject(text);
      } catch (DecodeException e) {
        throw new IllegalArgumentException("config file " + file + " is not valid JSON: " + e.getMessage(), e);
      }
      merged = merged.mergeIn(fromFile, true);
    }
    List<String> applied = new ArrayList<>();
    applyEnv(merged, "", env, applied);
    return new NodeConfig(merged, applied);
  }

  public static JsonObject embeddedDefaults() throws IOException {
    try (InputStream in = NodeConfig.class.getResourceAsStream(DEFAULTS_RESOURCE)) {
      if (in == null) {
        throw new IOException("embedded defaults " + DEFAULTS_RESOURCE + " missing from the classpath");
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  /** The env var name for a dotted key path, e.g. {@code cluster.eventBusPort -> INTRODUCER_CLUSTER_EVENT_BUS_PORT}. */
  public static String envName(String keyPath) {
    StringBuilder sb = new StringBuilder(ENV_PREFIX);
    for (int i = 0; i < keyPath.length(); i++) {
      char c = keyPath.charAt(i);
      if (c == '.') {
        sb.append('_');
      } else if (Character.isUpperCase(c)) {
        sb.append('_').append(c);
      } else {
        sb.append(Character.toUpperCase(c));
      }
    }
    return sb.toString().toUpperCase(Locale.ROOT);
  }

  private static void applyEnv(JsonObject obj, String prefix, Map<String, String> env, List<String> applied) {
    Set<String> keys = Set.copyOf(obj.fieldNames());
    for (String key : keys) {
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      String value = env.get(envName(path));
      Object current = obj.getValue(key);
      if (value != null) {
        obj.put(key, parseEnvValue(path, value, current));
        applied.add(envName(path));
      } else if (current instanceof JsonObject child) {
        applyEnv(child, path, env, applied);
      }
    }
  }

  private static Object parseEnvValue(String path, String value, Object current) {
    String v = value.trim();
    if (current instanceof JsonArray && !v.startsWith("[")) {
      JsonArray arr = new JsonArray();
      for (String part : v.split(",")) {
        if (!part.isBlank()) {
          arr.add(part.trim());
        }
      }
      return arr;
    }
    if (current instanceof String) {
      return value;
    }
    try {
      Object parsed = io.vertx.core.json.Json.decodeValue(v);
      if (parsed == null && !v.equals("null")) {
        return value;
      }
      return parsed;
    } catch (DecodeException e) {
      if (current instanceof Number || current instanceof Boolean || current instanceof JsonObject) {
        throw new IllegalArgumentException(envName(path) + "=" + value + " is not a valid value for " + path
            + " (expected " + current.getClass().getSimpleName() + ")");
      }
      return value;
    }
  }

  public JsonObject json() {
    return json.copy();
  }

  /** Env variables that changed the configuration (names only: values may be secrets). */
  public List<String> appliedOverrides() {
    return appliedOverrides;
  }

  public JsonObject section(String name) {
    JsonObject s = json.getJsonObject(name);
    return s == null ? new JsonObject() : s.copy();
  }

  public List<Role> roles() {
    JsonArray arr = section("node").getJsonArray("roles", new JsonArray());
    List<Role> roles = new ArrayList<>();
    for (Iterator<Object> it = arr.iterator(); it.hasNext();) {
      Object o = it.next();
      Role r = Role.parse(String.valueOf(o));
      if (!roles.contains(r)) {
        roles.add(r);
      }
    }
    if (roles.isEmpty()) {
      throw new IllegalArgumentException("node.roles is empty: name at least one of " + Role.names());
    }
    return roles;
  }

  public String bindHost() {
    return section("node").getString("bindHost", "127.0.0.1");
  }

  public JsonArray apps() {
    JsonArray apps = json.getJsonArray("apps");
    return apps == null ? new JsonArray() : apps.copy();
  }
}
