package io.introducer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The quickstart as a user runs it: bin/introducer-node, then bin/introducer-peer listen and connect, as separate
 * processes on loopback. Runs in the integration-test phase, after both fat jars are packaged.
 */
class EndToEndIT {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private final List<Proc> procs = new ArrayList<>();

  /** A started process whose merged output lines are collected as they come. */
  static final class Proc {
    final Process process;
    final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final List<String> all = java.util.Collections.synchronizedList(new ArrayList<>());

    /**
     * Follows the process's output file. (Reading the pipe instead loses the last lines: when a process exits, the JDK
     * drains its pipe into a buffer and a reader blocked on it sees "Stream closed".)
     */
    Proc(Process process, java.nio.file.Path log) {
      this.process = process;
      Thread t = new Thread(() -> {
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(log.toFile(), "r")) {
          StringBuilder partial = new StringBuilder();
          byte[] buf = new byte[8192];
          while (true) {
            int n = f.read(buf);
            if (n > 0) {
              partial.append(new String(buf, 0, n, StandardCharsets.UTF_8));
              for (int nl; (nl = partial.indexOf("\n")) >= 0;) {
                String line = partial.substring(0, nl);
                partial.delete(0, nl + 1);
                lines.add(line);
                all.add(line);
              }
            } else if (!process.isAlive() && f.getFilePointer() >= f.length()) {
              return;
            } else {
              Thread.sleep(20);
            }
          }
        } catch (IOException | InterruptedException ignored) {
          // the lab is closing
        }
      }, "e2e-output");
      t.setDaemon(true);
      t.start();
    }

    String await(String fragment, long seconds) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < deadline) {
        String line = lines.poll(100, TimeUnit.MILLISECONDS);
        if (line != null && line.contains(fragment)) {
          return line;
        }
      }
      throw new AssertionError("no line containing '" + fragment + "' within " + seconds + " s; output:\n"
          + String.join("\n", all));
    }
  }

  private Proc start(Map<String, String> env, String... command) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true);
    pb.environment().put("INTRODUCER_NO_BUILD", "1");
    pb.environment().putAll(env);
    java.nio.file.Path log = java.nio.file.Files.createTempFile("introducer-proc-", ".log");
    log.toFile().deleteOnExit();
    pb.redirectOutput(log.toFile());
    Proc p = new Proc(pb.start(), log);
    procs.add(p);
    return p;
  }

  @AfterEach
  void killAll() throws Exception {
    for (Proc p : procs) {
      p.process.destroy();
      if (!p.process.waitFor(20, TimeUnit.SECONDS)) {
        p.process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    }
  }

  static int freeTcpPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static int freeUdpPort() throws IOException {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      return s.getLocalPort();
    }
  }

  @Test
  void twoPeerProcessesConnectDirectlyThroughANodeProcessAndItStopsCleanlyOnSigterm() throws Exception {
    int udp = freeUdpPort();
    int hz = freeTcpPort();
    Proc node = start(Map.of(
        "INTRODUCER_INTRODUCER_PORT", String.valueOf(udp),
        "INTRODUCER_CLUSTER_NAME", "e2e-" + UUID.randomUUID(),
        "INTRODUCER_CLUSTER_PORT", String.valueOf(hz),
        "INTRODUCER_CLUSTER_MEMBERS", "127.0.0.1:" + hz,
        "INTRODUCER_CLUSTER_EVENT_BUS_PORT", String.valueOf(freeTcpPort()),
        "INTRODUCER_HTTP_PORT", String.valueOf(freeTcpPort()),
        "INTRODUCER_RELAY_PORT", String.valueOf(freeUdpPort())),
        "bin/introducer-node");
    node.await("Introducer listening on udp/127.0.0.1:" + udp, 90);
    node.await("Node started", 30);

    String server = "127.0.0.1:" + udp;
    Proc bob = start(Map.of(), "bin/introducer-peer", "--server", server, "--id", "bob", "listen");
    bob.await("\"event\":\"registered\"", 30);

    Proc alice = start(Map.of(), "bin/introducer-peer", "--server", server, "--id", "alice",
        "connect", "bob", "--send", "hello", "--timeout", "20");
    String connected = alice.await("\"event\":\"connected\"", 30);
    assertThat(connected).contains("\"path\":\"direct\"").contains("\"peer\":\"bob\"")
        .contains("\"strategy\":\"simultaneous\"");
    assertThat(alice.await("\"event\":\"message\"", 20)).contains("\"text\":\"hello\"");
    assertThat(alice.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(alice.process.exitValue()).as("alice's exit status; output:\n" + String.join("\n", alice.all)).isZero();

    assertThat(bob.await("\"event\":\"connected\"", 10)).contains("\"path\":\"direct\"").contains("\"peer\":\"alice\"");
    assertThat(bob.await("\"event\":\"message\"", 10)).contains("\"text\":\"hello\"");

    // netcheck against the same node: one JSON object; on loopback there is no NAT, so ports are preserved.
    Proc netcheck = start(Map.of(), "bin/introducer-peer", "--server", server, "netcheck");
    assertThat(netcheck.await("\"event\":\"netcheck\"", 30)).contains("\"allocation\":\"preserving\"")
        .contains("\"public\":[\"127.0.0.1:");
    assertThat(netcheck.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(netcheck.process.exitValue()).isZero();

    node.process.destroy(); // SIGTERM
    assertThat(node.process.waitFor(30, TimeUnit.SECONDS)).as("node exits after SIGTERM").isTrue();
    assertThat(node.process.exitValue()).as("exit status after SIGTERM (128 + 15)").isEqualTo(143);
    node.await("Stopped", 5);
  }

  @Test
  void connectingToAnAbsentPeerFailsWithAReasonAndExitStatusOne() throws Exception {
    int udp = freeUdpPort();
    int hz = freeTcpPort();
    Proc node = start(Map.of(
        "INTRODUCER_INTRODUCER_PORT", String.valueOf(udp),
        "INTRODUCER_CLUSTER_ENABLED", "false",
        "INTRODUCER_HTTP_PORT", String.valueOf(freeTcpPort()),
        "INTRODUCER_NODE_ROLES", "introducer",
        "INTRODUCER_CLUSTER_PORT", String.valueOf(hz)),
        "bin/introducer-node");
    node.await("Introducer listening on udp/127.0.0.1:" + udp, 90);
    Proc carol = start(Map.of(), "bin/introducer-peer", "--server", "127.0.0.1:" + udp, "--id", "carol",
        "connect", "nobody", "--timeout", "10");
    assertThat(carol.await("\"event\":\"error\"", 20)).contains("unknown peer");
    assertThat(carol.process.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(carol.process.exitValue()).isEqualTo(1);
  }
}
