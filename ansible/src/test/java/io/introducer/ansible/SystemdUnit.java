package io.introducer.ansible;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Just enough of systemd's unit-file rules to run a rendered unit's ExecStart the way systemd would: the
 * [Service] settings, Environment= and EnvironmentFile= (KEY=VALUE lines, quotes removed), and ExecStart's word
 * splitting with {@code $VAR} (split into words) and {@code ${VAR}} (one word) expansion.
 */
final class SystemdUnit {
  private final Map<String, List<String>> service;

  private SystemdUnit(Map<String, List<String>> service) {
    this.service = service;
  }

  static SystemdUnit parse(Path unitFile) throws IOException {
    Map<String, List<String>> service = new LinkedHashMap<>();
    String section = "";
    for (String raw : Files.readAllLines(unitFile, StandardCharsets.UTF_8)) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
        continue;
      }
      if (line.startsWith("[") && line.endsWith("]")) {
        section = line.substring(1, line.length() - 1);
        continue;
      }
      int eq = line.indexOf('=');
      if (eq > 0 && section.equals("Service")) {
        service.computeIfAbsent(line.substring(0, eq).strip(), k -> new ArrayList<>()).add(line.substring(eq + 1).strip());
      }
    }
    return new SystemdUnit(service);
  }

  /** The last value of a [Service] setting, or null. */
  String get(String key) {
    List<String> values = service.get(key);
    return values == null || values.isEmpty() ? null : values.get(values.size() - 1);
  }

  List<String> all(String key) {
    return service.getOrDefault(key, List.of());
  }

  /** The service's environment: every EnvironmentFile= (a leading '-' makes it optional), then Environment=. */
  Map<String, String> environment() throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (String spec : all("EnvironmentFile")) {
      boolean optional = spec.startsWith("-");
      Path file = Path.of(optional ? spec.substring(1) : spec);
      if (!Files.exists(file)) {
        if (optional) {
          continue;
        }
        throw new IOException("EnvironmentFile " + file + " does not exist");
      }
      for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        String line = raw.strip();
        if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) {
          continue;
        }
        int eq = line.indexOf('=');
        if (eq > 0) {
          env.put(line.substring(0, eq).strip(), unquote(line.substring(eq + 1).strip()));
        }
      }
    }
    for (String assignments : all("Environment")) {
      for (String word : words(assignments)) {
        int eq = word.indexOf('=');
        if (eq > 0) {
          env.put(word.substring(0, eq), word.substring(eq + 1));
        }
      }
    }
    return env;
  }

  /** ExecStart as argv, variables expanded from {@code env}. */
  List<String> execStart(Map<String, String> env) {
    String exec = get("ExecStart");
    if (exec == null) {
      throw new IllegalStateException("the unit has no ExecStart");
    }
    while (!exec.isEmpty() && "-@+!:".indexOf(exec.charAt(0)) >= 0) {
      exec = exec.substring(1);
    }
    List<String> argv = new ArrayList<>();
    for (String word : words(exec)) {
      if (word.startsWith("$") && !word.startsWith("${") && word.length() > 1) {
        String value = env.getOrDefault(word.substring(1), "");
        for (String part : value.strip().split("\\s+")) {
          if (!part.isEmpty()) {
            argv.add(part);
          }
        }
      } else {
        argv.add(expandBraced(word, env));
      }
    }
    return argv;
  }

  private static String expandBraced(String word, Map<String, String> env) {
    StringBuilder sb = new StringBuilder();
    int i = 0;
    while (i < word.length()) {
      int start = word.indexOf("${", i);
      int end = start < 0 ? -1 : word.indexOf('}', start);
      if (start < 0 || end < 0) {
        sb.append(word, i, word.length());
        break;
      }
      sb.append(word, i, start).append(env.getOrDefault(word.substring(start + 2, end), ""));
      i = end + 1;
    }
    return sb.toString();
  }

  /** Splits on whitespace, honouring double and single quotes. */
  static List<String> words(String s) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean inWord = false;
    char quote = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        } else if (c == '\\' && quote == '"' && i + 1 < s.length()) {
          cur.append(s.charAt(++i));
        } else {
          cur.append(c);
        }
      } else if (c == '"' || c == '\'') {
        quote = c;
        inWord = true;
      } else if (Character.isWhitespace(c)) {
        if (inWord) {
          out.add(cur.toString());
          cur.setLength(0);
          inWord = false;
        }
      } else {
        cur.append(c);
        inWord = true;
      }
    }
    if (inWord) {
      out.add(cur.toString());
    }
    return out;
  }

  private static String unquote(String v) {
    if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
      List<String> w = words(v);
      return w.isEmpty() ? "" : w.get(0);
    }
    return v;
  }
}
