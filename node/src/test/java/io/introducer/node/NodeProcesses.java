package io.introducer.node;

import io.introducer.client.ClientConfig;
import io.introducer.client.ClientListener;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Node JVMs for the integration tests: {@code java -jar target/introducer-node-all.jar} on 127.0.0.11, .12, ... in
 * one Hazelcast TCP-IP cluster, each with its own ports and a log file, polled through /readiness and stopped by
 * {@link #close()}.
 */
final class NodeProcesses implements AutoCloseable {
  private static final Path JAR = Path.of("target", "introducer-node-all.jar").toAbsolutePath();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** What a node's environment gets beyond the cluster settings: its UDP ports, say, or its roles. */
  @FunctionalInterface
  interface NodeEnv {
    void fill(String ip, Map<String, String> env) throws IOException;
  }

  /** One node: its addresses and environment, and its current process and log (null before {@link #start}). */
  static final class Node {
    private final String ip;
    private final int httpPort;
    private final Map<String, String> env;
    private Process process;
    private Path log;

    private Node(String ip, int httpPort, Map<String, String> env) {
      this.ip = ip;
      this.httpPort = httpPort;
      this.env = env;
    }

    String ip() {
      return ip;
    }

    int httpPort() {
      return httpPort;
    }

    Map<String, String> env() {
      return env;
    }

    Process process() {
      return process;
    }

    InetSocketAddress introducer() {
      return new InetSocketAddress(ip, Integer.parseInt(env.get("INTRODUCER_INTRODUCER_PORT")));
    }

    InetSocketAddress relay() {
      return new InetSocketAddress(ip, Integer.parseInt(env.get("INTRODUCER_RELAY_PORT")));
    }
  }

  private final String name;
  private final String clusterName;
  private final List<Node> nodes = new ArrayList<>();
  private NodeEnv nodeEnv = NodeProcesses::introducerAndRelayPorts;
  private boolean privateJar;
  private boolean scrubEnvironment;
  private Path jar = JAR;

  /** {@code name} prefixes the log files; the cluster is named {@code clusterPrefix} and a random UUID. */
  NodeProcesses(String name, String clusterPrefix) {
    this.name = name;
    this.clusterName = clusterPrefix + UUID.randomUUID();
  }

  /** Instead of fresh introducer and relay ports. */
  NodeProcesses nodeEnv(NodeEnv env) {
    this.nodeEnv = env;
    return this;
  }

  /** Runs a private copy of the fat jar: a build running meanwhile rewrites the original under the node JVMs. */
  NodeProcesses privateJar() {
    this.privateJar = true;
    return this;
  }

  /** Does not pass this JVM's own INTRODUCER_* variables on to the nodes. */
  NodeProcesses scrubEnvironment() {
    this.scrubEnvironment = true;
    return this;
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

  private static void introducerAndRelayPorts(String ip, Map<String, String> env) throws IOException {
    env.put("INTRODUCER_INTRODUCER_PORT", String.valueOf(freeUdp(ip)));
    env.put("INTRODUCER_RELAY_PORT", String.valueOf(freeUdp(ip)));
  }

  /** Creates (does not start) {@code count} nodes on 127.0.0.11 and up, each listing all as cluster members. */
  List<Node> create(int count) throws IOException {
    if (privateJar) {
      jar = Files.createTempFile(name + "node-", ".jar");
      jar.toFile().deleteOnExit();
      Files.copy(JAR, jar, StandardCopyOption.REPLACE_EXISTING);
    }
    List<String> members = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      String ip = "127.0.0." + (11 + i);
      int hz = freeTcp(ip);
      members.add(ip + ":" + hz);
      Map<String, String> env = new HashMap<>();
      env.put("INTRODUCER_NODE_BIND_HOST", ip);
      env.put("INTRODUCER_NODE_ID", "node-" + (i + 1));
      env.put("INTRODUCER_CLUSTER_NAME", clusterName);
      env.put("INTRODUCER_CLUSTER_HOST", ip);
      env.put("INTRODUCER_CLUSTER_PORT", String.valueOf(hz));
      env.put("INTRODUCER_CLUSTER_PORT_AUTO_INCREMENT", "false");
      env.put("INTRODUCER_CLUSTER_EVENT_BUS_HOST", ip);
      env.put("INTRODUCER_CLUSTER_EVENT_BUS_PORT", String.valueOf(freeTcp(ip)));
      nodeEnv.fill(ip, env);
      int http = freeTcp(ip);
      env.put("INTRODUCER_HTTP_PORT", String.valueOf(http));
      nodes.add(new Node(ip, http, env));
    }
    for (Node n : nodes) {
      n.env().put("INTRODUCER_CLUSTER_MEMBERS", String.join(",", members));
    }
    return nodes;
  }

  /** Starts (or starts again) the node's JVM, its output going to a fresh log file. */
  void start(Node n) throws IOException {
    ProcessBuilder pb = new ProcessBuilder("java", "-jar", jar.toString()).redirectErrorStream(true);
    Path log = Files.createTempFile(name + n.ip() + "-", ".log");
    log.toFile().deleteOnExit();
    pb.redirectOutput(log.toFile());
    n.log = log;
    if (scrubEnvironment) {
      pb.environment().keySet().removeIf(k -> k.startsWith("INTRODUCER_"));
    }
    pb.environment().putAll(n.env());
    n.process = pb.start();
  }

  void startAll() throws IOException {
    for (Node n : nodes) {
      start(n);
    }
  }

  static JsonObject readiness(Node n) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://" + n.ip() + ":" + n.httpPort()
          + "/readiness")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
      return new JsonObject(r.body()).put("status", r.statusCode());
    } catch (IOException | RuntimeException e) {
      return new JsonObject().put("status", -1).put("error", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new JsonObject().put("status", -1);
    }
  }

  private static boolean readyWithMembers(JsonObject r, int members) {
    return r.getInteger("status") == 200 && r.getJsonObject("cluster") != null
        && r.getJsonObject("cluster").getInteger("members") == members;
  }

  /**
   * Polls every node's /readiness until each is ready in a cluster of {@code members}, within {@code seconds}.
   * Returns the wait in ms.
   */
  long awaitReady(List<Node> which, int members, int seconds) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(seconds);
    Map<String, JsonObject> last = new HashMap<>();
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (Node n : which) {
        JsonObject r = readiness(n);
        last.put(n.ip(), r);
        all &= readyWithMembers(r, members);
      }
      if (all) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      }
      Thread.sleep(200);
    }
    throw new AssertionError("nodes not ready with " + members + " members within " + seconds + " s: " + last
        + logTails(which));
  }

  /** The last 15 lines of each node's log, for a failure message. */
  static String logTails(List<Node> which) {
    StringBuilder logs = new StringBuilder();
    for (Node n : which) {
      if (n.log != null) {
        try {
          List<String> lines = Files.readAllLines(n.log);
          logs.append("\n--- ").append(n.ip()).append(" log tail ---\n")
              .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size())));
        } catch (IOException e) {
          logs.append("\n(no log for ").append(n.ip()).append(")");
        }
      }
    }
    return logs.toString();
  }

  /**
   * A client config for peer {@code id} of the nodes' development app, talking to {@code servers} (first preferred);
   * each (re-)registration's System.nanoTime() is added to {@code registeredAt}.
   */
  static ClientConfig.Builder demoPeer(String id, List<InetSocketAddress> servers, List<Long> registeredAt) {
    return ClientConfig.builder()
        .servers(servers)
        .appId("demo").appSecret("demo-secret").peerId(id)
        .listener(new ClientListener() {
          @Override
          public void registered(InetSocketAddress publicAddress) {
            registeredAt.add(System.nanoTime());
          }
        });
  }

  /** Stops every node still running (SIGTERM, then SIGKILL after 20 s) and deletes the private jar. */
  @Override
  public void close() throws Exception {
    for (Node n : nodes) {
      Process p = n.process();
      if (p != null && p.isAlive()) {
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      }
    }
    if (privateJar && jar != JAR) {
      Files.deleteIfExists(jar);
    }
  }
}
