package io.introducer.node;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Three node JVMs on 127.0.0.11-13 form one cluster over Hazelcast TCP-IP; a node killed with -9 leaves and rejoins. */
class ClusterIT {
  private static final Path JAR = Path.of("target", "introducer-node-all.jar").toAbsolutePath();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String clusterName = "it-" + UUID.randomUUID();
  private final List<Node> nodes = new ArrayList<>();

  /** One node process and the addresses it was given. */
  record Node(String ip, int hzPort, int httpPort, Map<String, String> env, Process[] process) {
    URI readiness() {
      return URI.create("http://" + ip + ":" + httpPort + "/readiness");
    }
  }

  @AfterEach
  void stopAll() throws Exception {
    for (Node n : nodes) {
      Process p = n.process()[0];
      if (p != null && p.isAlive()) {
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      }
    }
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

  private void createNodes(int count) throws IOException {
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
      env.put("INTRODUCER_INTRODUCER_PORT", String.valueOf(freeUdp(ip)));
      env.put("INTRODUCER_RELAY_PORT", String.valueOf(freeUdp(ip)));
      int http = freeTcp(ip);
      env.put("INTRODUCER_HTTP_PORT", String.valueOf(http));
      nodes.add(new Node(ip, hz, http, env, new Process[1]));
    }
    for (Node n : nodes) {
      n.env().put("INTRODUCER_CLUSTER_MEMBERS", String.join(",", members));
    }
  }

  private void start(Node n) throws IOException {
    ProcessBuilder pb = new ProcessBuilder("java", "-jar", JAR.toString()).redirectErrorStream(true);
    Path log = Files.createTempFile("cluster-it-" + n.ip() + "-", ".log");
    log.toFile().deleteOnExit();
    pb.redirectOutput(log.toFile());
    pb.environment().putAll(n.env());
    n.process()[0] = pb.start();
  }

  private static JsonObject readiness(Node n) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(n.readiness()).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.ofString());
      return new JsonObject(r.body()).put("status", r.statusCode());
    } catch (IOException | RuntimeException e) {
      return new JsonObject().put("status", -1).put("error", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new JsonObject().put("status", -1);
    }
  }

  /** Polls every node's /readiness until {@code ok} holds for each, within {@code seconds}. Returns the wait in ms. */
  private long awaitAll(List<Node> which, Predicate<JsonObject> ok, int seconds) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(seconds);
    Map<String, JsonObject> last = new HashMap<>();
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (Node n : which) {
        JsonObject r = readiness(n);
        last.put(n.ip(), r);
        all &= ok.test(r);
      }
      if (all) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      }
      Thread.sleep(200);
    }
    throw new AssertionError("nodes not in the expected state within " + seconds + " s: " + last);
  }

  private static Predicate<JsonObject> readyWithMembers(int members) {
    return r -> r.getInteger("status") == 200 && r.getJsonObject("cluster") != null
        && r.getJsonObject("cluster").getInteger("members") == members;
  }

  @Test
  void threeNodesFormOneClusterAndSurviveTheLossAndReturnOfOne() throws Exception {
    createNodes(3);
    for (Node n : nodes) {
      start(n);
    }
    awaitAll(nodes, readyWithMembers(3), 90);

    Node victim = nodes.get(2);
    victim.process()[0].destroyForcibly(); // kill -9: no goodbye to the cluster
    assertThat(victim.process()[0].waitFor(10, TimeUnit.SECONDS)).isTrue();
    List<Node> survivors = nodes.subList(0, 2);
    long noticedMs = awaitAll(survivors, readyWithMembers(2), 30);
    assertThat(noticedMs).as("survivors drop the dead member (heartbeat timeout 5 s)").isLessThan(20_000);

    start(victim);
    awaitAll(nodes, readyWithMembers(3), 90);
  }
}
