package io.introducer.natlab;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small internet in network namespaces: a "public" namespace (a bridge holding 203.0.113.1 and 198.51.100.1,
 * where the node runs), routers doing Linux NAT between that bridge and their own LAN bridge, and hosts on those
 * LANs. Everything is created by {@link #create()} and removed by {@link #close()}; all addresses are documentation
 * ranges and exist only inside these namespaces. Used by {@link KernelNatIT} and by {@link NatLabBenchmark}.
 */
final class NatLab implements AutoCloseable {
  static final String PUBLIC_IP = "203.0.113.1";
  static final String ALTERNATE_IP = "198.51.100.1";
  /** The repository: the parent of the module directory the tests run in, or -Dnatlab.root (the benchmark). */
  static final Path ROOT = Path.of(System.getProperty("natlab.root", "..")).toAbsolutePath().normalize();

  /** How a router translates: Linux MASQUERADE is EIM + APDF; --random-fully makes mapping random per destination. */
  enum NatType {
    EASY(""), HARD(" --random-fully");

    final String masqueradeFlags;

    NatType(String flags) {
      this.masqueradeFlags = flags;
    }
  }

  record Router(String ns, int index, String wanIp, String lanPrefix) {}

  /**
   * How the lab starts the node and the peers: the bin scripts (the tests, after the build packaged the jars), or
   * {@code java -jar} on copies of the fat jars that a concurrent build cannot rewrite under a long run.
   */
  record Launcher(List<String> node, List<String> peer) {
    static final Launcher BIN_SCRIPTS = new Launcher(List.of("bin/introducer-node"), List.of("bin/introducer-peer"));

    static Launcher jars(Path nodeJar, Path peerJar) {
      return new Launcher(List.of("java", "-jar", nodeJar.toString()), List.of("java", "-jar", peerJar.toString()));
    }
  }

  record Host(String ns, String ip, Router router) {}

  private final String prefix;
  private final Launcher launcher;
  private final List<String> namespaces = new ArrayList<>();
  private final List<Proc> procs = Collections.synchronizedList(new ArrayList<>());
  private final List<Router> routers = new ArrayList<>();
  private final Map<Router, Integer> hostsPerRouter = new java.util.HashMap<>();

  private NatLab(String prefix, Launcher launcher) {
    this.prefix = prefix;
    this.launcher = launcher;
  }

  /** Why the lab cannot run here, or null when it can (root, iproute2, iptables, nft, conntrack). */
  static String unavailableReason() {
    if (!"root".equals(System.getProperty("user.name"))) {
      return "natlab needs root (network namespaces and iptables)";
    }
    for (String tool : List.of("ip", "iptables", "nft", "conntrack")) {
      if (!onPath(tool)) {
        return "natlab needs '" + tool + "' (Debian packages iproute2, iptables, nftables, conntrack)";
      }
    }
    try {
      String probe = "nlprobe" + ProcessHandle.current().pid();
      sh("ip", "netns", "add", probe);
      sh("ip", "netns", "del", probe);
    } catch (IOException e) {
      return "cannot create network namespaces here: " + e.getMessage();
    }
    return null;
  }

  private static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return Files.isExecutable(Path.of("/usr/sbin", tool)) || Files.isExecutable(Path.of("/sbin", tool));
  }

  /** The tests' lab: namespaces named nl&lt;pid&gt;-*, the bin scripts. */
  static NatLab create() throws IOException {
    return create("nl" + (ProcessHandle.current().pid() % 100000), Launcher.BIN_SCRIPTS);
  }

  /** A lab whose namespaces are named {@code prefix-*} (distinct prefixes keep concurrent labs apart). */
  static NatLab create(String prefix, Launcher launcher) throws IOException {
    NatLab lab = new NatLab(prefix, launcher);
    try {
      String pub = lab.ns("pub");
      sh("ip", "-n", pub, "link", "add", "br0", "type", "bridge");
      sh("ip", "-n", pub, "addr", "add", PUBLIC_IP + "/24", "dev", "br0");
      sh("ip", "-n", pub, "addr", "add", ALTERNATE_IP + "/24", "dev", "br0");
      sh("ip", "-n", pub, "link", "set", "br0", "up");
      return lab;
    } catch (IOException | RuntimeException e) {
      lab.close();
      throw e;
    }
  }

  private String ns(String name) throws IOException {
    String ns = prefix + "-" + name;
    sh("ip", "netns", "add", ns);
    namespaces.add(ns);
    sh("ip", "-n", ns, "link", "set", "lo", "up");
    return ns;
  }

  String publicNs() {
    return prefix + "-pub";
  }

  /** A NAT router with its WAN on the public bridge and an empty LAN bridge. */
  Router addRouter(NatType type) throws IOException {
    int i = routers.size() + 1;
    String r = ns("r" + i);
    String wanIp = "203.0.113." + (10 * i);
    String lanPrefix = "192.0.2." + (16 * i);
    sh("ip", "link", "add", "wan", "netns", r, "type", "veth", "peer", "name", "p" + i, "netns", publicNs());
    sh("ip", "-n", publicNs(), "link", "set", "p" + i, "master", "br0");
    sh("ip", "-n", publicNs(), "link", "set", "p" + i, "up");
    sh("ip", "-n", r, "addr", "add", wanIp + "/24", "dev", "wan");
    sh("ip", "-n", r, "addr", "add", "198.51.100." + (10 * i) + "/24", "dev", "wan");
    sh("ip", "-n", r, "link", "set", "wan", "up");
    sh("ip", "-n", r, "link", "add", "lan", "type", "bridge");
    sh("ip", "-n", r, "addr", "add", lanPrefix.substring(0, lanPrefix.lastIndexOf('.') + 1) + (16 * i + 1) + "/28",
        "dev", "lan");
    sh("ip", "-n", r, "link", "set", "lan", "up");
    sh("ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1");
    // NAT out of the WAN with the router's primary address; drop what arrives unsolicited, as home routers do.
    sh("ip", "netns", "exec", r, "sh", "-c", "iptables -t nat -A POSTROUTING -o wan -j SNAT --to-source " + wanIp
        + (type == NatType.HARD ? " --random-fully" : ""));
    sh("ip", "netns", "exec", r, "iptables", "-A", "INPUT", "-i", "wan", "-m", "conntrack", "--ctstate",
        "NEW,INVALID", "-j", "DROP");
    sh("ip", "netns", "exec", r, "iptables", "-A", "FORWARD", "-i", "wan", "-m", "conntrack", "--ctstate",
        "NEW,INVALID", "-j", "DROP");
    Router router = new Router(r, i, wanIp, lanPrefix);
    routers.add(router);
    return router;
  }

  /** A host on the router's LAN with a default route through it. */
  Host addHost(Router router) throws IOException {
    int k = hostsPerRouter.merge(router, 1, Integer::sum);
    String h = ns("h" + router.index() + "x" + k);
    String base = "192.0.2.";
    String ip = base + (16 * router.index() + 1 + k);
    sh("ip", "link", "add", "h" + k, "netns", router.ns(), "type", "veth", "peer", "name", "eth0", "netns", h);
    sh("ip", "-n", router.ns(), "link", "set", "h" + k, "master", "lan");
    sh("ip", "-n", router.ns(), "link", "set", "h" + k, "up");
    sh("ip", "-n", h, "addr", "add", ip + "/28", "dev", "eth0");
    sh("ip", "-n", h, "link", "set", "eth0", "up");
    sh("ip", "-n", h, "route", "add", "default", "via", base + (16 * router.index() + 1));
    return new Host(h, ip, router);
  }

  /** Drops about {@code percent}% of packets the router forwards in either direction (nftables numgen). */
  void addLoss(Router router, int percent) throws IOException {
    sh("ip", "netns", "exec", router.ns(), "nft", "add", "table", "inet", "lab");
    sh("ip", "netns", "exec", router.ns(), "nft", "add", "chain", "inet", "lab", "lossy",
        "{ type filter hook forward priority -10 ; policy accept ; }");
    sh("ip", "netns", "exec", router.ns(), "nft", "add", "rule", "inet", "lab", "lossy",
        "numgen", "random", "mod", "100", "<", String.valueOf(percent), "drop");
  }

  /** Forgets every router's NAT mappings and filter state, so that the next flows start cold. */
  void flushConntrack() throws IOException {
    for (Router r : routers) {
      shAllowFail("ip", "netns", "exec", r.ns(), "conntrack", "-F");
    }
  }

  private static final Pattern PING_SUMMARY = Pattern.compile("= ([0-9.]+)/([0-9.]+)/([0-9.]+)/");

  /**
   * The mean round trip from namespace {@code fromNs} to {@code ip} over {@code count} ICMP echoes 10 ms apart (ping, Debian
   * iputils-ping), in milliseconds, or NaN when ping is missing or nothing came back.
   */
  double pingMillis(String fromNs, String ip, int count) {
    try {
      String out = sh("ip", "netns", "exec", fromNs, "ping", "-q", "-n", "-c", String.valueOf(count), "-i", "0.01",
          "-W", "1", ip);
      Matcher m = PING_SUMMARY.matcher(out);
      return m.find() ? Double.parseDouble(m.group(2)) : Double.NaN;
    } catch (IOException e) {
      return Double.NaN;
    }
  }

  /** Starts the node in the public namespace, bound to the public address; waits until it listens. */
  Proc startNode(Map<String, String> env) throws IOException, InterruptedException {
    Map<String, String> all = new java.util.HashMap<>(Map.of(
        "INTRODUCER_NODE_BIND_HOST", PUBLIC_IP,
        "INTRODUCER_INTRODUCER_ALTERNATE_HOST", ALTERNATE_IP,
        "INTRODUCER_CLUSTER_ENABLED", "false",
        "INTRODUCER_HTTP_HOST", "127.0.0.1"));
    all.putAll(env);
    Proc node = exec(publicNs(), all, launcher.node().toArray(String[]::new));
    node.await("Node started", 90);
    return node;
  }

  /** Runs bin/introducer-peer on a host against the node. */
  Proc peer(Host host, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(launcher.peer());
    cmd.addAll(List.of("--server", PUBLIC_IP + ":3478"));
    cmd.addAll(List.of(args));
    return exec(host.ns(), Map.of(), cmd.toArray(String[]::new));
  }

  Proc exec(String ns, Map<String, String> env, String... command) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("ip", "netns", "exec", ns));
    cmd.addAll(List.of(command));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true);
    pb.environment().put("INTRODUCER_NO_BUILD", "1");
    pb.environment().putAll(env);
    java.nio.file.Path log = java.nio.file.Files.createTempFile("introducer-proc-", ".log");
    log.toFile().deleteOnExit();
    pb.redirectOutput(log.toFile());
    Proc p = new Proc(pb.start(), log);
    procs.add(p);
    return p;
  }

  /**
   * Stops every process this lab started (SIGTERM, then SIGKILL), then deletes its namespaces. Idempotent, and
   * synchronized so that a shutdown hook's call waits for one in progress.
   */
  @Override
  public synchronized void close() {
    synchronized (procs) {
      for (Proc p : procs) {
        p.stop();
      }
    }
    for (int i = namespaces.size() - 1; i >= 0; i--) {
      shAllowFail("ip", "netns", "del", namespaces.get(i));
    }
    namespaces.clear();
  }

  static String sh(String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("timed out: " + String.join(" ", cmd));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
      throw new IOException("interrupted: " + String.join(" ", cmd), e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out.trim());
    }
    return out;
  }

  private static void shAllowFail(String... cmd) {
    try {
      sh(cmd);
    } catch (IOException ignored) {
      // teardown is best effort: a namespace may already be gone
    }
  }

  /** A started process whose output lines are collected as they arrive. */
  static final class Proc {
    final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    final List<String> all = Collections.synchronizedList(new ArrayList<>());
    /** Set once the process has exited and its whole output is in {@link #lines}. */
    private volatile boolean drained;

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
        } finally {
          drained = true;
        }
      }, "natlab-output");
      t.setDaemon(true);
      t.start();
    }

    String await(String fragment, long seconds) throws InterruptedException {
      return await(line -> line.contains(fragment), "containing '" + fragment + "'", seconds);
    }

    /** The next line that matches, skipping the lines before it; AssertionError when none comes in time. */
    String await(Predicate<String> match, String what, long seconds) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < deadline) {
        String line = lines.poll(100, TimeUnit.MILLISECONDS);
        if (line != null && match.test(line)) {
          return line;
        }
        if (line == null && drained && lines.isEmpty()) {
          break; // exited, and its last lines were read: none will come (a dead process alone is not enough)
        }
      }
      throw new AssertionError("no line " + what + " within " + seconds + " s; output:\n" + String.join("\n", all));
    }

    /** Writes one line to the process's standard input. */
    void send(String line) throws IOException {
      java.io.OutputStream in = process.getOutputStream();
      in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      in.flush();
    }

    int waitFor(long seconds) throws InterruptedException {
      if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
        throw new AssertionError("process still running after " + seconds + " s; output:\n" + String.join("\n", all));
      }
      return process.exitValue();
    }

    void stop() {
      // ip netns exec execs the command, so this PID is the JVM itself; SIGTERM lets it deregister and close.
      process.destroy();
      try {
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }
}
