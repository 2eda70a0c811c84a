package io.introducer.node.bench;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One introducer node JVM of the benchmark, started from the fat jar on its own loopback address (127.0.0.11 + i)
 * with free ports, as ClusterIT does. Only ever stops the process it started, by its handle (PID).
 */
final class BenchNode {
  static final String ADMIN_TOKEN = "dev-admin-token";
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final Pattern HEAP_USED = Pattern.compile("heap\\s+total\\s+(\\d+)K,\\s+used\\s+(\\d+)K");

  final int index;
  final String ip;
  final int udpPort;
  final int httpPort;
  final Map<String, String> env = new LinkedHashMap<>();
  final Path log;
  private Process process;

  private BenchNode(int index, String ip, int udpPort, int httpPort, Path log) {
    this.index = index;
    this.ip = ip;
    this.udpPort = udpPort;
    this.httpPort = httpPort;
    this.log = log;
  }

  /** {@code count} nodes of one new cluster; not started. */
  static List<BenchNode> create(int count, String clusterName, Path dir, int lifetimeSeconds, int maxRegistrations)
      throws IOException {
    List<BenchNode> nodes = new ArrayList<>();
    List<String> members = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String ip = "127.0.0." + (11 + i);
      int hz = freeTcp(ip);
      members.add(ip + ":" + hz);
      BenchNode n = new BenchNode(i, ip, freeUdp(ip), freeTcp(ip), dir.resolve("node-" + (i + 1) + "-of-" + count + ".log"));
      n.env.put("INTRODUCER_NODE_ROLES", "introducer");
      n.env.put("INTRODUCER_NODE_BIND_HOST", ip);
      n.env.put("INTRODUCER_NODE_ID", "bench-" + (i + 1));
      n.env.put("INTRODUCER_CLUSTER_NAME", clusterName);
      n.env.put("INTRODUCER_CLUSTER_HOST", ip);
      n.env.put("INTRODUCER_CLUSTER_PORT", String.valueOf(hz));
      n.env.put("INTRODUCER_CLUSTER_PORT_AUTO_INCREMENT", "false");
      n.env.put("INTRODUCER_CLUSTER_EVENT_BUS_HOST", ip);
      n.env.put("INTRODUCER_CLUSTER_EVENT_BUS_PORT", String.valueOf(freeTcp(ip)));
      n.env.put("INTRODUCER_INTRODUCER_PORT", String.valueOf(n.udpPort));
      n.env.put("INTRODUCER_INTRODUCER_REGISTRATION_LIFETIME_SECONDS", String.valueOf(lifetimeSeconds));
      n.env.put("INTRODUCER_INTRODUCER_MAX_REGISTRATIONS", String.valueOf(maxRegistrations));
      n.env.put("INTRODUCER_RELAY_PORT", String.valueOf(freeUdp(ip)));
      n.env.put("INTRODUCER_HTTP_PORT", String.valueOf(n.httpPort));
      n.env.put("INTRODUCER_LOG_LEVEL", "WARN");
      nodes.add(n);
    }
    for (BenchNode n : nodes) {
      n.env.put("INTRODUCER_CLUSTER_MEMBERS", String.join(",", members));
    }
    return nodes;
  }

  static int freeTcp(String ip) throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(ip))) {
      return s.getLocalPort();
    }
  }

  static int freeUdp(String ip) throws IOException {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(ip, 0))) {
      return s.getLocalPort();
    }
  }

  /** Starts the JVM: {@code java FLAGS -jar JAR CONF}, output to {@link #log}. */
  void start(Path jar, Path conf, List<String> jvmFlags) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmFlags);
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.add(conf.toString());
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("INTRODUCER_") || k.equals("JAVA_TOOL_OPTIONS"));
    pb.environment().putAll(env);
    process = pb.start();
  }

  boolean alive() {
    return process != null && process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  InetSocketAddress udp() {
    return new InetSocketAddress(ip, udpPort);
  }

  String name() {
    return "node" + (index + 1) + "@" + ip;
  }

  /** GET /readiness: its JSON members ("ready", "cluster.members") as text, or null when it does not answer. */
  String readiness() {
    return get("/readiness", false);
  }

  /** Cluster members this node's /readiness reports, -1 when not ready or not answering. */
  int readyMembers() {
    String r = readiness();
    if (r == null || !r.contains("\"ready\":true")) {
      return -1;
    }
    Matcher m = Pattern.compile("\"members\"\\s*:\\s*(\\d+)").matcher(r);
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  /** The Prometheus text of /metrics, or null. */
  String metrics() {
    return get("/metrics", true);
  }

  /** A sample of /metrics (the sum over all series of that name whose labels contain {@code labelFilter}), or -1. */
  double metric(String name, String labelFilter) {
    return metric(metrics(), name, labelFilter);
  }

  /** The sum over the series {@code name} in a /metrics text {@code text} whose labels contain {@code labelFilter}; -1. */
  static double metric(String text, String name, String labelFilter) {
    if (text == null) {
      return -1;
    }
    double sum = 0;
    boolean found = false;
    for (String line : text.split("\n")) {
      if (line.startsWith(name) && (line.length() > name.length())
          && (line.charAt(name.length()) == ' ' || line.charAt(name.length()) == '{')
          && (labelFilter == null || line.contains(labelFilter))) {
        try {
          sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          found = true;
        } catch (NumberFormatException e) {
          // not a sample line
        }
      }
    }
    return found ? sum : -1;
  }

  private String get(String path, boolean auth) {
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + ip + ":" + httpPort + path))
          .timeout(Duration.ofSeconds(10));
      if (auth) {
        b.header("Authorization", "Bearer " + ADMIN_TOKEN);
      }
      HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : null;
    } catch (IOException | RuntimeException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /**
   * Live heap after a full collection: {@code jcmd PID GC.run} then {@code GC.heap_info} (G1's "used"). Falls back to
   * /metrics' jvm_memory_used_bytes{area="heap"} (no forced GC) when jcmd is unavailable; -1 when both fail.
   */
  long heapUsedAfterGc() {
    try {
      jcmd(120, "GC.run");
      String info = jcmd(60, "GC.heap_info");
      Matcher m = HEAP_USED.matcher(info);
      if (m.find()) {
        return Long.parseLong(m.group(2)) * 1024;
      }
    } catch (IOException e) {
      System.err.println("[bench] jcmd failed for " + name() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    double v = metric("jvm_memory_used_bytes", "area=\"heap\"");
    return v < 0 ? -1 : (long) v;
  }

  /** Runs {@code jcmd PID ARGS...} against this node; its output. */
  String jcmd(int timeoutSeconds, String... args) throws IOException, InterruptedException {
    String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    List<String> cmd = new ArrayList<>(List.of(Files.isExecutable(Path.of(jcmd)) ? jcmd : "jcmd", String.valueOf(pid())));
    cmd.addAll(List.of(args));
    return run(cmd, timeoutSeconds);
  }

  private static String run(List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes(); // jcmd's output is small; it ends when jcmd exits
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("timed out: " + cmd);
    }
    String text = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException("exit " + p.exitValue() + ": " + text.strip());
    }
    return text;
  }

  /** User + system CPU time of the node JVM in milliseconds (from /proc), or -1. */
  long cpuMillis() {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid() + "/stat"), StandardCharsets.US_ASCII);
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10; // USER_HZ = 100
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Resident set size of the node JVM in bytes (from /proc), or -1. */
  long rssBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"), StandardCharsets.US_ASCII)) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return -1;
  }

  /** Open file descriptors of the node JVM (entries of /proc/PID/fd), or -1. */
  long openFds() {
    try (var fds = Files.list(Path.of("/proc/" + pid() + "/fd"))) {
      return fds.count();
    } catch (IOException | java.io.UncheckedIOException e) {
      return -1;
    }
  }

  /** Threads of the node JVM (from /proc/PID/status), or -1. */
  long threads() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"), StandardCharsets.US_ASCII)) {
        if (line.startsWith("Threads:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return -1;
  }

  /**
   * UDP sockets the node JVM holds bound to a local port in {@code minPort..maxPort} other than {@code except} (its
   * relayed sockets, not its listening ones), from the kernel: the process's socket inodes (/proc/PID/fd) matched
   * against /proc/PID/net/udp and udp6. -1 when unreadable.
   */
  long udpSocketsInPortRange(int minPort, int maxPort, java.util.Set<Integer> except) {
    java.util.Set<String> inodes = new java.util.HashSet<>();
    try (var fds = Files.list(Path.of("/proc/" + pid() + "/fd"))) {
      for (Path fd : (Iterable<Path>) fds::iterator) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring(8, target.length() - 1));
          }
        } catch (IOException e) {
          // closed meanwhile
        }
      }
      long n = 0;
      for (String table : List.of("udp", "udp6")) {
        Path file = Path.of("/proc/" + pid() + "/net/" + table);
        if (!Files.exists(file)) {
          continue;
        }
        for (String line : Files.readAllLines(file, StandardCharsets.US_ASCII)) {
          String[] f = line.trim().split("\\s+");
          if (f.length < 10 || !f[1].contains(":") || !inodes.contains(f[9])) {
            continue;
          }
          int port = Integer.parseInt(f[1].substring(f[1].lastIndexOf(':') + 1), 16);
          if (port >= minPort && port <= maxPort && !except.contains(port)) {
            n++;
          }
        }
      }
      return n;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Lines of the node's log containing {@code needle} (e.g. Vert.x's blocked-thread warnings). */
  long logLinesContaining(String needle) {
    try (var lines = Files.lines(log, StandardCharsets.UTF_8)) {
      return lines.filter(l -> l.contains(needle)).count();
    } catch (IOException | java.io.UncheckedIOException e) {
      return -1;
    }
  }

  /** SIGTERM (the node leaves the cluster), SIGKILL after {@code graceSeconds}. */
  void stop(int graceSeconds) {
    Process p = process;
    if (p == null || !p.isAlive()) {
      return;
    }
    p.destroy();
    try {
      if (!p.waitFor(graceSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
  }

  /** SIGKILL without waiting (shutdown hook). */
  void kill() {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
    }
  }
}
