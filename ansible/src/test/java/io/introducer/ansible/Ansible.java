package io.introducer.ansible;

import static org.assertj.core.api.Assertions.fail;

import io.vertx.core.json.Json;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/** Runs the Ansible tools against this module's tree, hermetically: loopback only, temporary dirs, bounded time. */
final class Ansible {
  private Ansible() {}

  /** The ansible/ directory (the module's basedir). */
  static Path sourceTree() {
    Path dir = Path.of(System.getProperty("introducer.ansible.dir", "")).toAbsolutePath().normalize();
    if (!Files.isRegularFile(dir.resolve("ansible.cfg"))) {
      fail("no ansible.cfg in " + dir + ": run the tests from the ansible/ module (mvn -pl ansible verify)");
    }
    return dir;
  }

  /**
   * The named tool from PATH. When it is missing the test fails if CI=true (CI must install it), and is skipped
   * otherwise, naming the Debian package to install.
   */
  static Path requireTool(String name, String debianPackage) {
    Optional<Path> tool = findOnPath(name);
    if (tool.isEmpty()) {
      String msg = name + " is not installed: apt-get install -y " + debianPackage
          + " (Debian's 'ansible' package also ships the amazon.aws and community.aws collections)";
      if ("true".equalsIgnoreCase(System.getenv("CI"))) {
        fail("CI=true and " + msg);
      }
      Assumptions.abort("skipped: " + msg);
    }
    return tool.get();
  }

  static Optional<Path> findOnPath(String name) {
    String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isBlank()) {
        continue;
      }
      Path candidate = Path.of(dir, name);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /**
   * Copies the Ansible tree (config, inventory, group_vars, roles, playbooks) to {@code dest}, leaving out any real
   * vault file a developer keeps locally (git-ignored; it would need a vault password) and the Maven parts.
   */
  static Path copyTree(Path dest) {
    Path src = sourceTree();
    try (Stream<Path> files = Files.walk(src)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Path rel = src.relativize(p);
        String first = rel.getNameCount() == 0 ? "" : rel.getName(0).toString();
        if (first.equals("src") || first.equals("target") || first.equals("pom.xml") || first.startsWith(".git")
            || p.getFileName().toString().equals("vault.yml")) {
          continue;
        }
        Path to = dest.resolve(rel.toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(to);
        } else {
          Files.copy(p, to, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dest;
  }

  /** Environment for ansible commands run in {@code tree}: its ansible.cfg, temp dirs under {@code tmp}, no color. */
  static Map<String, String> env(Path tree, Path tmp) throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("ANSIBLE_CONFIG", tree.resolve("ansible.cfg").toString());
    env.put("ANSIBLE_ROLES_PATH", tree.resolve("roles").toString());
    env.put("ANSIBLE_LOCAL_TEMP", Files.createDirectories(tmp.resolve("ansible-local")).toString());
    env.put("ANSIBLE_REMOTE_TEMP", Files.createDirectories(tmp.resolve("ansible-remote")).toString());
    env.put("ANSIBLE_NOCOLOR", "1");
    env.put("ANSIBLE_FORCE_COLOR", "0");
    env.put("ANSIBLE_RETRY_FILES_ENABLED", "0");
    env.put("PYTHONWARNINGS", "ignore");
    return env;
  }

  record Result(int exitCode, String output, List<String> command) {
    String describe() {
      return "command " + command + " exited " + exitCode + ", output:\n" + output;
    }
  }

  /** Runs {@code command} in {@code cwd} with the inherited environment plus {@code env}; fails after {@code timeout}. */
  static Result run(List<String> command, Path cwd, Map<String, String> env, Duration timeout, Path log)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().remove("ANSIBLE_INVENTORY");
    pb.environment().remove("ANSIBLE_VAULT_PASSWORD_FILE");
    pb.environment().putAll(env);
    Process process = pb.start();
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        fail(command + " did not finish within " + timeout + ", output:\n" + read(log));
      }
    } finally {
      if (process.isAlive()) {
        process.destroyForcibly();
      }
    }
    return new Result(process.exitValue(), read(log), List.copyOf(command));
  }

  static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String tail(String text, int lines) {
    String[] all = text.split("\n");
    return String.join("\n", List.of(all).subList(Math.max(0, all.length - lines), all.length));
  }

  /** Flattens a JSON file to {@code dotted.path -> compact JSON value} (via python3, which Ansible needs anyway). */
  static Map<String, String> flattenJson(Path json, Path tmp) throws IOException, InterruptedException {
    String script = String.join("\n",
        "import json, sys",
        "def walk(path, v):",
        "    if isinstance(v, dict):",
        "        for k, x in v.items():",
        "            walk(path + [k], x)",
        "    else:",
        "        print('.'.join(path) + '=' + json.dumps(v, separators=(',', ':'), sort_keys=True))",
        "with open(sys.argv[1]) as f:",
        "    walk([], json.load(f))");
    Path log = Files.createTempFile(tmp, "json", ".out");
    Result r = run(List.of("python3", "-c", script, json.toString()), tmp, Map.of(), Duration.ofSeconds(30), log);
    if (r.exitCode() != 0) {
      fail(json + " is not valid JSON: " + r.describe());
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : r.output().split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        out.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return out;
  }

  /** Writes {@code vars} as a JSON file for {@code --extra-vars @file}. */
  static Path writeVars(Path file, Map<String, Object> vars) throws IOException {
    Files.writeString(file, Json.encode(vars), StandardCharsets.UTF_8);
    return file;
  }

  static List<String> playbookCommand(Path playbook, String inventory, Path varsFile, String... more) {
    List<String> cmd = new ArrayList<>(List.of("ansible-playbook", "-i", inventory));
    if (varsFile != null) {
      cmd.addAll(List.of("--extra-vars", "@" + varsFile));
    }
    cmd.addAll(List.of(more));
    cmd.add(playbook.toString());
    return cmd;
  }
}
