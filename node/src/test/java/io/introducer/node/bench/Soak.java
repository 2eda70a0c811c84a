package io.introducer.node.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToLongFunction;
import java.util.stream.Collectors;

/**
 * Soak benchmark (issue 8 point 5), not a test: a 3-node cluster from the fat jar on 127.0.0.11-13, every node with
 * all roles (introducer, relay, dashboard), under mixed load for {@code --minutes} (10): SDK peers that register,
 * keep alive, connect across nodes (a share through the relay first), exchange datagrams, leave (cleanly or
 * silently) and are replaced ({@link SoakPeers}), and TURN pairs relaying ChannelData between two nodes' relays whose
 * allocations are deleted or abandoned ({@link SoakRelayPairs}). Every {@code --sample-seconds} (10) each node's heap,
 * file descriptors, threads, registrations, sessions, relay allocations and relayed sockets are sampled (the live
 * heap after a forced full GC every {@code --gc-seconds}, 60). At the end every peer leaves; once the registrations
 * and relay allocations have expired the checks run: nothing left registered or allocated, no relayed socket open,
 * descriptors and threads back to the baseline (within a slack), the live heap's slope over the steady state and
 * its growth from baseline to the end within bounds. Prints a table, exits 1 when a check fails.
 *
 * <p>Run by {@code bin/bench-soak} ({@code --help}). Every loop is bounded in count and time; node processes are
 * stopped by PID on every exit path (a shutdown hook, and the script's trap from the PID file).
 */
public final class Soak {
  private static final PrintStream OUT = System.out;
  private static final List<BenchNode> STARTED = new CopyOnWriteArrayList<>();
  /**
   * Relayed ports: 1,500 per node from 61000, above Linux's ephemeral range (32768-60999), so that no other socket of
   * the machine (the nodes' own listening ports are ephemeral ones) can be counted as a relayed socket.
   */
  private static final int RELAY_PORTS_PER_NODE = 1500;
  private static final int RELAY_PORT_BASE = 61_000;

  /** Settings; {@link #parse} fills them from the command line. */
  static final class Options {
    double minutes = 10;
    int nodes = 3;
    int peers = 48;
    double connectsPerSecond = 2;
    double leavesPerSecond = 0.4;
    double relayFirstShare = 0.35;
    double silentShare = 0.3;
    int turnPairs = 4;
    int turnPacketsPerSecond = 20;
    double abandonShare = 0.25;
    int sampleSeconds = 10;
    int gcSeconds = 30;
    String heap = "512m";
    int registrationLifetime = 30;
    int relayLifetime = 60;
    int sessionRetention = 60;
    int settleMaxSeconds = 240;
    double heapSlopeMbPerMinute = 0.5;
    double heapGrowthMb = 4;
    int fdSlack = 16;
    int threadSlack = 16;
    double minServedShare = 0.9;
    Path jar = Path.of("node", "target", "introducer-node-all.jar");
    Path out = Path.of("node", "target", "bench");
    List<String> nodeOpts = new ArrayList<>();
  }

  static Options parse(String[] args) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--quick" -> {
          o.minutes = 2;
          o.gcSeconds = 15;
        }
        case "--minutes" -> o.minutes = Double.parseDouble(args[++i]);
        case "--peers" -> o.peers = Integer.parseInt(args[++i]);
        case "--connects" -> o.connectsPerSecond = Double.parseDouble(args[++i]);
        case "--leaves" -> o.leavesPerSecond = Double.parseDouble(args[++i]);
        case "--relay-first" -> o.relayFirstShare = Double.parseDouble(args[++i]);
        case "--silent" -> o.silentShare = Double.parseDouble(args[++i]);
        case "--turn-pairs" -> o.turnPairs = Integer.parseInt(args[++i]);
        case "--turn-pps" -> o.turnPacketsPerSecond = Integer.parseInt(args[++i]);
        case "--abandon" -> o.abandonShare = Double.parseDouble(args[++i]);
        case "--sample-seconds" -> o.sampleSeconds = Integer.parseInt(args[++i]);
        case "--gc-seconds" -> o.gcSeconds = Integer.parseInt(args[++i]);
        case "--heap" -> o.heap = args[++i];
        case "--lifetime" -> o.registrationLifetime = Integer.parseInt(args[++i]);
        case "--relay-lifetime" -> o.relayLifetime = Integer.parseInt(args[++i]);
        case "--retention" -> o.sessionRetention = Integer.parseInt(args[++i]);
        case "--settle-max" -> o.settleMaxSeconds = Integer.parseInt(args[++i]);
        case "--heap-slope" -> o.heapSlopeMbPerMinute = Double.parseDouble(args[++i]);
        case "--heap-growth" -> o.heapGrowthMb = Double.parseDouble(args[++i]);
        case "--fd-slack" -> o.fdSlack = Integer.parseInt(args[++i]);
        case "--thread-slack" -> o.threadSlack = Integer.parseInt(args[++i]);
        case "--jar" -> o.jar = Path.of(args[++i]);
        case "--out" -> o.out = Path.of(args[++i]);
        case "--node-opt" -> o.nodeOpts.add(args[++i]);
        case "-h", "--help" -> {
          OUT.println(String.join("\n",
              "Usage: bin/bench-soak [options]      (3 nodes with all roles, mixed load, then all peers leave)",
              "  --minutes 10          length of the load (--quick: 2)",
              "  --peers 48            SDK peers alive at any time, homed round-robin on the nodes",
              "  --connects 2          connects per second (to a peer homed on another node), channels held 5-30 s",
              "  --relay-first 0.35    share of connects with ConnectPolicy.RELAY_FIRST (allocate, then direct)",
              "  --leaves 0.4          peers leaving per second, each replaced by a new one",
              "  --silent 0.3          share of leaves that send nothing (registration and allocation must expire)",
              "  --turn-pairs 4        TURN pairs relaying ChannelData between two nodes' relays, 20-60 s each",
              "  --turn-pps 20         ChannelData round trips per second per pair",
              "  --abandon 0.25        share of TURN pairs that close their sockets without deleting the allocations",
              "  --sample-seconds 10   sampling period; --gc-seconds 30: live heap after a forced full GC (--quick: 15)",
              "  --heap 512m           node -Xmx (-Xms a quarter)",
              "  --lifetime 30         registration lifetime (s); --relay-lifetime 60: relay allocation lifetime (s)",
              "  --retention 60        session retention (s)",
              "  --settle-max 240      most seconds to wait for expiry after the peers left",
              "  bounds: --heap-slope 0.5 (MB/min of live heap over the steady state, per node)",
              "          --heap-growth 4 (MB of live heap, baseline to end, per node)",
              "          --fd-slack 16, --thread-slack 16 (end minus baseline, per node)",
              "  --node-opt FLAG       an extra JVM flag for the nodes (repeatable)",
              "  --jar PATH --out DIR  node fat jar; where the run directory goes"));
          System.exit(0);
        }
        default -> throw new IllegalArgumentException("unknown option " + a + " (try --help)");
      }
    }
    return o;
  }

  /** One sample of one node. */
  record NodeSample(long heapAfterGc, long oldGen, long fds, long threads, long registrations, long sessions,
      long allocations, long relaySockets, long cpuMillis) {}

  /** One sample of the cluster and the load generator. */
  record Sample(double t, String phase, String load, List<NodeSample> nodes, long genFds, long genThreads,
      long peersLive, long channels, long connectsOk, long relayedSent, long relayedEchoed) {}

  /** One check and its verdict. */
  record Check(String name, String bound, String measured, boolean pass) {}

  public static void main(String[] args) throws Exception {
    Options o;
    try {
      o = parse(args);
    } catch (RuntimeException e) {
      System.err.println("bench-soak: " + e.getMessage());
      System.exit(2);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> STARTED.forEach(BenchNode::kill), "soak-kill-nodes"));
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path dir = o.out.resolve("soak-" + stamp).toAbsolutePath();
    Files.createDirectories(dir);
    Path jar = dir.resolve("introducer-node-all.jar");
    Files.copy(o.jar, jar, StandardCopyOption.REPLACE_EXISTING);
    Path conf = dir.resolve("soak-node.json");
    Files.writeString(conf, String.join("\n",
        "{\"introducer\": {\"alternatePort\": -1, \"sessionRetentionSeconds\": " + o.sessionRetention + "},",
        " \"relay\": {\"defaultLifetimeSeconds\": " + o.relayLifetime + ", \"maxLifetimeSeconds\": " + o.relayLifetime + "}",
        "}", ""), StandardCharsets.UTF_8);
    int exit;
    try {
      exit = run(o, dir, jar, conf);
    } finally {
      STARTED.forEach(n -> n.stop(20));
      Files.deleteIfExists(jar);
    }
    OUT.flush();
    System.exit(exit);
  }

  private static int run(Options o, Path dir, Path jar, Path conf) throws Exception {
    long t0 = System.nanoTime();
    OUT.printf("# soak benchmark, %s, %d cores; load average %s; %.1f min of load; run directory %s%n",
        LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME), Runtime.getRuntime().availableProcessors(),
        ClusterBenchmark.loadAverage(), o.minutes, dir);
    List<BenchNode> nodes = null;
    // The free ports BenchNode picks are free when picked; another process may take one before the node binds it
    // (the machine is shared). A cluster that does not come up is stopped and made anew, at most 3 times.
    for (int attempt = 1; nodes == null; attempt++) {
      List<BenchNode> candidate = startCluster(o, dir, jar, conf, attempt);
      try {
        ClusterBenchmark.awaitReady(candidate, o.nodes, 120);
        nodes = candidate;
      } catch (IllegalStateException e) {
        candidate.forEach(n -> n.stop(10));
        STARTED.removeAll(candidate);
        if (attempt >= 3) {
          throw e;
        }
        OUT.println("cluster did not start (" + e.getMessage() + "); again with other ports");
      }
    }
    List<InetSocketAddress> introducers = nodes.stream().map(BenchNode::udp).toList();
    List<InetSocketAddress> relays = new ArrayList<>();
    for (BenchNode n : nodes) {
      relays.add(new InetSocketAddress(n.ip, Integer.parseInt(n.env.get("INTRODUCER_RELAY_PORT"))));
    }
    OUT.printf("cluster of %d ready in %.1f s (pids %s)%n", o.nodes, (System.nanoTime() - t0) / 1e9,
        nodes.stream().map(x -> String.valueOf(x.pid())).collect(Collectors.joining(",")));

    // Warm-up: every path once (JIT, lazily made pools and maps), then everybody leaves cleanly.
    SoakPeers warm = new SoakPeers(introducers, new SoakPeers.Settings(6, 3, 0, 0.5, 0, 3, 6, 200));
    SoakRelayPairs warmTurn = new SoakRelayPairs(relays, new SoakRelayPairs.Settings(2, 4, 6, 20, 0));
    if (!warm.start(60_000)) {
      throw new IllegalStateException("warm-up peers could not join: " + warm.failures());
    }
    warmTurn.start();
    Thread.sleep(15_000);
    warmTurn.stop();
    warm.close();
    awaitEmpty(nodes, 90);
    Thread.sleep(2_000);
    OUT.printf("warm-up: %d connects ok of %d, %d relayed round trips of %d; failures %s %s%n", warm.connectsOk.get(),
        warm.connects.get(), warmTurn.echoed.get(), warmTurn.sent.get(), warm.failures(), warmTurn.failures());

    List<Sample> samples = new ArrayList<>();
    Sample baseline = sample(nodes, o, "baseline", 0, true, null, null);
    List<Map<String, Long>> histogramsBefore = histograms(nodes, dir, "baseline");
    samples.add(baseline);
    print(baseline);

    // The load.
    SoakPeers peers = new SoakPeers(introducers, new SoakPeers.Settings(o.peers, o.connectsPerSecond,
        o.leavesPerSecond, o.relayFirstShare, o.silentShare, 5, 30, 200));
    SoakRelayPairs turn = new SoakRelayPairs(relays, new SoakRelayPairs.Settings(o.turnPairs, 20, 60,
        o.turnPacketsPerSecond, o.abandonShare));
    long loadStart = System.nanoTime();
    if (!peers.start(120_000)) {
      throw new IllegalStateException("peers could not join: " + peers.failures());
    }
    turn.start();
    long loadNanos = (long) (o.minutes * 60e9);
    long nextGc = loadStart + o.gcSeconds * 1_000_000_000L;
    int maxSamples = (int) (o.minutes * 60 / Math.max(1, o.sampleSeconds)) + 10;
    for (int k = 1; k <= maxSamples; k++) {
      long due = loadStart + k * o.sampleSeconds * 1_000_000_000L;
      long wait = (due - System.nanoTime()) / 1_000_000;
      if (wait > 0) {
        Thread.sleep(wait);
      }
      long now = System.nanoTime();
      boolean gc = now >= nextGc || now - loadStart >= loadNanos;
      if (gc) {
        nextGc += o.gcSeconds * 1_000_000_000L;
      }
      Sample s = sample(nodes, o, "load", (now - loadStart) / 1e9, gc, peers, turn);
      samples.add(s);
      print(s);
      for (BenchNode n : nodes) {
        if (!n.alive()) {
          throw new IllegalStateException(n.name() + " exited; see " + n.log);
        }
      }
      if (now - loadStart >= loadNanos) {
        break;
      }
    }
    double loadSeconds = (System.nanoTime() - loadStart) / 1e9;

    // Everybody leaves; then wait for expiry (silent leavers, abandoned allocations), the replay cache and retention.
    long leave0 = System.nanoTime();
    turn.stop();
    peers.close();
    OUT.printf("all peers left in %.1f s; waiting for expiry%n", (System.nanoTime() - leave0) / 1e9);
    double emptyAfter = awaitEmpty(nodes, o.settleMaxSeconds);
    OUT.printf("registrations and relay allocations %s%n", emptyAfter < 0 ? "NOT all gone within " + o.settleMaxSeconds
        + " s" : String.format(Locale.ROOT, "all gone %.0f s after the last peer left", emptyAfter));
    // The replay cache (61 s) and session retention must pass too before the heap is compared with the baseline.
    long settleUntil = leave0 + (Math.max(65, o.sessionRetention + 10)) * 1_000_000_000L;
    long left = (settleUntil - System.nanoTime()) / 1_000_000;
    if (left > 0) {
      Thread.sleep(left);
    }
    Sample end = sample(nodes, o, "end", (System.nanoTime() - loadStart) / 1e9, true, peers, turn);
    samples.add(end);
    print(end);
    long genFdsEnd = end.genFds();
    List<Map<String, Long>> histogramsAfter = histograms(nodes, dir, "end");

    // Checks.
    List<Check> checks = checks(o, nodes, baseline, end, samples, emptyAfter, peers, turn, loadSeconds);
    long blocked = 0;
    for (BenchNode n : nodes) {
      blocked += Math.max(0, n.logLinesContaining("has been blocked for"));
    }
    OUT.println();
    OUT.printf(Locale.ROOT, "# soak done in %.1f min (%.1f min of load); load average at end %s%n",
        (System.nanoTime() - t0) / 60e9, loadSeconds / 60, ClusterBenchmark.loadAverage());
    OUT.println(summary(samples, nodes.size()));
    OUT.printf(Locale.ROOT, "load: SDK peers joined %,d (failed %,d), left cleanly %,d, silently %,d; connects %,d ok of"
        + " %,d (%,d RELAY_FIRST, %,d opened on the relay, %,d moved to direct); datagrams %,d sent, %,d echoed;"
        + " TURN allocations %,d (deleted %,d, abandoned %,d), ChannelData %,d sent, %,d delivered, %,d echoed;"
        + " load generator fds %d -> %d; blocked-thread warnings %d; relay allocations made per node %s%n",
        peers.joined.get(), peers.joinFailed.get(), peers.leftClean.get(), peers.leftSilent.get(),
        peers.connectsOk.get(), peers.connects.get(), peers.relayFirst.get(), peers.openedOnRelay.get(),
        peers.movedToDirect.get(), peers.sent.get(), peers.echoed.get(), turn.allocations.get(), turn.deleted.get(),
        turn.abandoned.get(), turn.sent.get(), turn.delivered.get(), turn.echoed.get(), baseline.genFds(), genFdsEnd,
        blocked, nodes.stream().map(n -> String.valueOf((long) n.metric("relay_allocations_total", null)))
            .collect(Collectors.joining("/")));
    for (int i = 0; i < nodes.size(); i++) {
      OUT.println("live heap growth baseline -> end of " + nodes.get(i).name() + " by class (largest; histograms in the run"
          + " directory): " + growth(histogramsBefore.get(i), histogramsAfter.get(i), 6));
    }
    if (!peers.failures().isEmpty() || !turn.failures().isEmpty()) {
      OUT.println("failures: SDK " + peers.failures() + "; TURN " + turn.failures());
    }
    OUT.println();
    OUT.println("| check | bound | measured | verdict |");
    OUT.println("|---|---|---|---|");
    boolean all = true;
    for (Check c : checks) {
      OUT.printf("| %s | %s | %s | %s |%n", c.name(), c.bound(), c.measured(), c.pass() ? "pass" : "FAIL");
      all &= c.pass();
    }
    OUT.println();
    OUT.println(all ? "# verdict: PASS" : "# verdict: FAIL");
    return all ? 0 : 1;
  }

  /** Creates and starts the node JVMs (all roles, each its own relayed port range); their PIDs go to node.pids. */
  private static List<BenchNode> startCluster(Options o, Path dir, Path jar, Path conf, int attempt) throws IOException {
    List<BenchNode> nodes = BenchNode.create(o.nodes, "soak-" + UUID.randomUUID(), dir.resolve("attempt-" + attempt),
        o.registrationLifetime, 100_000);
    Files.createDirectories(dir.resolve("attempt-" + attempt));
    for (BenchNode n : nodes) {
      int min = RELAY_PORT_BASE + n.index * RELAY_PORTS_PER_NODE;
      n.env.put("INTRODUCER_NODE_ROLES", "introducer,relay,dashboard");
      n.env.put("INTRODUCER_NODE_ID", "soak-" + (n.index + 1));
      n.env.put("INTRODUCER_RELAY_MIN_PORT", String.valueOf(min));
      n.env.put("INTRODUCER_RELAY_MAX_PORT", String.valueOf(min + RELAY_PORTS_PER_NODE - 1));
    }
    List<String> flags = new ArrayList<>(List.of("-Xms" + ClusterBenchmark.quarter(o.heap), "-Xmx" + o.heap, "-XX:+UseG1GC"));
    flags.addAll(o.nodeOpts);
    StringBuilder pids = new StringBuilder();
    for (BenchNode n : nodes) {
      STARTED.add(n);
      n.start(jar, conf, flags);
      pids.append(n.pid()).append('\n');
    }
    Files.writeString(dir.resolve("node.pids"), pids.toString(), StandardCharsets.US_ASCII,
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    return nodes;
  }

  private static List<Check> checks(Options o, List<BenchNode> nodes, Sample base, Sample end, List<Sample> samples,
      double emptyAfter, SoakPeers peers, SoakRelayPairs turn, double loadSeconds) {
    List<Check> out = new ArrayList<>();
    out.add(new Check("registrations after all left (per node)", "0", join(end, NodeSample::registrations),
        all(end, s -> s.registrations() == 0)));
    out.add(new Check("sessions after retention (per node)", "0", join(end, NodeSample::sessions),
        all(end, s -> s.sessions() == 0)));
    out.add(new Check("relay allocations after all left (per node)", "0", join(end, NodeSample::allocations),
        all(end, s -> s.allocations() == 0)));
    out.add(new Check("relayed UDP sockets open (per node, from /proc)", "0", join(end, NodeSample::relaySockets),
        all(end, s -> s.relaySockets() == 0)));
    out.add(new Check("everything expired after the last peer left", "<= " + o.settleMaxSeconds + " s",
        emptyAfter < 0 ? "no" : String.format(Locale.ROOT, "%.0f s", emptyAfter), emptyAfter >= 0));
    boolean fdOk = true;
    boolean thOk = true;
    boolean growthOk = true;
    List<String> fd = new ArrayList<>();
    List<String> th = new ArrayList<>();
    List<String> growth = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      NodeSample b = base.nodes().get(i);
      NodeSample e = end.nodes().get(i);
      fd.add(b.fds() + "->" + e.fds());
      fdOk &= e.fds() >= 0 && e.fds() <= b.fds() + o.fdSlack;
      th.add(b.threads() + "->" + e.threads());
      thOk &= e.threads() >= 0 && e.threads() <= b.threads() + o.threadSlack;
      double g = (e.heapAfterGc() - b.heapAfterGc()) / 1048576.0;
      growth.add(String.format(Locale.ROOT, "%.1f->%.1f (%+.1f)", b.heapAfterGc() / 1048576.0,
          e.heapAfterGc() / 1048576.0, g));
      growthOk &= b.heapAfterGc() > 0 && e.heapAfterGc() > 0 && g <= o.heapGrowthMb;
    }
    out.add(new Check("open fds, baseline -> end (per node)", "<= baseline + " + o.fdSlack, String.join(", ", fd), fdOk));
    out.add(new Check("threads, baseline -> end (per node)", "<= baseline + " + o.threadSlack, String.join(", ", th), thOk));
    out.add(new Check("live heap after full GC MB, baseline -> end (per node)", "growth <= " + fmt(o.heapGrowthMb) + " MB",
        String.join(", ", growth), growthOk));
    // Slope of the live heap over the steady state: the forced-GC samples of the load from its third minute on (the
    // population, the sessions retained and the replay cache fill during the first two). Judged only over at least 5
    // minutes: over less, a couple of MB of noise between samples reads as a slope (--quick reports it, unjudged).
    double from = Math.max(120, o.sessionRetention + o.registrationLifetime);
    boolean judged = loadSeconds - from >= 300;
    List<String> slopes = new ArrayList<>();
    boolean slopeOk = true;
    for (int i = 0; i < nodes.size(); i++) {
      List<double[]> pts = new ArrayList<>();
      for (Sample s : samples) {
        if (s.phase().equals("load") && s.t() >= from && s.nodes().get(i).heapAfterGc() > 0) {
          pts.add(new double[] {s.t() / 60, s.nodes().get(i).heapAfterGc() / 1048576.0});
        }
      }
      if (pts.size() < 3) {
        slopes.add("n/a (" + pts.size() + " points)");
        slopeOk = !judged;
        continue;
      }
      double slope = slope(pts);
      slopes.add(String.format(Locale.ROOT, "%+.2f (%d pts)", slope, pts.size()));
      slopeOk &= slope <= o.heapSlopeMbPerMinute;
    }
    out.add(new Check("live heap slope over the steady state, MB/min (per node)", "<= " + fmt(o.heapSlopeMbPerMinute)
        + (judged ? "" : " (not judged: steady state under 5 min)"), String.join(", ", slopes), slopeOk || !judged));
    long genSlack = o.fdSlack;
    out.add(new Check("load generator (SDK) open fds, baseline -> end", "<= baseline + " + genSlack,
        base.genFds() + "->" + end.genFds(), end.genFds() <= base.genFds() + genSlack));
    double connectShare = peers.connects.get() == 0 ? 0 : (double) peers.connectsOk.get() / peers.connects.get();
    double relayShare = turn.sent.get() == 0 ? 0 : (double) turn.echoed.get() / turn.sent.get();
    out.add(new Check("load served: connects ok, relayed round trips", ">= " + pct(o.minServedShare) + " each",
        pct(connectShare) + " of " + peers.connects.get() + ", " + pct(relayShare) + " of " + turn.sent.get(),
        connectShare >= o.minServedShare && relayShare >= o.minServedShare
            && peers.relayFirst.get() > 0 && turn.allocations.get() > 0 && peers.leftSilent.get() > 0));
    return out;
  }

  /** Each node's class histogram of live objects (jcmd GC.class_histogram), saved to the run directory: bytes by class. */
  private static List<Map<String, Long>> histograms(List<BenchNode> nodes, Path dir, String label) {
    List<Map<String, Long>> out = new ArrayList<>();
    for (BenchNode n : nodes) {
      Map<String, Long> bytes = new java.util.HashMap<>();
      try {
        String text = n.jcmd(120, "GC.class_histogram");
        Files.writeString(dir.resolve("histogram-" + label + "-node" + (n.index + 1) + ".txt"), text, StandardCharsets.UTF_8);
        for (String line : text.split("\n")) {
          String[] f = line.trim().split("\\s+");
          // "  1:   12345   678901  java.lang.String (java.base@17)"
          if (f.length >= 4 && f[0].endsWith(":") && f[0].length() > 1 && Character.isDigit(f[0].charAt(0))) {
            bytes.merge(f[3], Long.parseLong(f[2]), Long::sum);
          }
        }
      } catch (IOException | RuntimeException e) {
        OUT.println("class histogram of " + n.name() + " failed: " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      out.add(bytes);
    }
    return out;
  }

  /** The {@code top} classes whose live bytes grew most from {@code before} to {@code after}. */
  private static String growth(Map<String, Long> before, Map<String, Long> after, int top) {
    return after.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0L)))
        .filter(e -> e.getValue() > 0)
        .sorted((x, y) -> Long.compare(y.getValue(), x.getValue()))
        .limit(top)
        .map(e -> String.format(Locale.ROOT, "%s +%,d B", e.getKey(), e.getValue()))
        .collect(Collectors.joining(", "));
  }

  private static double slope(List<double[]> pts) {
    double mx = 0;
    double my = 0;
    for (double[] p : pts) {
      mx += p[0];
      my += p[1];
    }
    mx /= pts.size();
    my /= pts.size();
    double num = 0;
    double den = 0;
    for (double[] p : pts) {
      num += (p[0] - mx) * (p[1] - my);
      den += (p[0] - mx) * (p[0] - mx);
    }
    return den == 0 ? 0 : num / den;
  }

  private static boolean all(Sample s, java.util.function.Predicate<NodeSample> p) {
    return s.nodes().stream().allMatch(p);
  }

  private static String join(Sample s, ToLongFunction<NodeSample> f) {
    return s.nodes().stream().map(n -> String.valueOf(f.applyAsLong(n))).collect(Collectors.joining("/"));
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
  }

  private static String pct(double share) {
    return String.format(Locale.ROOT, "%.1f %%", share * 100);
  }

  /** Waits until no node has a registration or relay allocation; the seconds that took, or -1 after {@code max}. */
  private static double awaitEmpty(List<BenchNode> nodes, int maxSeconds) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + maxSeconds * 1_000_000_000L;
    while (System.nanoTime() < deadline) {
      boolean empty = true;
      for (BenchNode n : nodes) {
        String text = n.metrics();
        empty &= BenchNode.metric(text, "introducer_registered_peers", null) == 0
            && BenchNode.metric(text, "relay_allocations_active", null) == 0;
      }
      if (empty) {
        return (System.nanoTime() - start) / 1e9;
      }
      Thread.sleep(2000);
    }
    return -1;
  }

  private static Sample sample(List<BenchNode> nodes, Options o, String phase, double t, boolean gc, SoakPeers peers,
      SoakRelayPairs turn) {
    List<NodeSample> out = new ArrayList<>();
    for (BenchNode n : nodes) {
      long heap = gc ? n.heapUsedAfterGc() : -1;
      String text = n.metrics();
      int min = RELAY_PORT_BASE + n.index * RELAY_PORTS_PER_NODE;
      out.add(new NodeSample(heap, (long) BenchNode.metric(text, "jvm_memory_used_bytes", "G1 Old Gen"), n.openFds(),
          n.threads(), (long) BenchNode.metric(text, "introducer_registered_peers", null),
          (long) BenchNode.metric(text, "introducer_sessions", null),
          (long) BenchNode.metric(text, "relay_allocations_active", null),
          n.udpSocketsInPortRange(min, min + RELAY_PORTS_PER_NODE - 1,
              java.util.Set.of(n.udpPort, Integer.parseInt(n.env.get("INTRODUCER_RELAY_PORT")))), n.cpuMillis()));
    }
    return new Sample(t, phase, ClusterBenchmark.loadAverage(), out, selfFds(), Thread.activeCount(),
        peers == null ? 0 : peers.live(), peers == null ? 0 : peers.channelsHeld(),
        peers == null ? 0 : peers.connectsOk.get(), turn == null ? 0 : turn.sent.get(),
        turn == null ? 0 : turn.echoed.get());
  }

  private static long selfFds() {
    try (var fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    } catch (IOException | java.io.UncheckedIOException e) {
      return -1;
    }
  }

  private static void print(Sample s) {
    OUT.printf(Locale.ROOT, "[%6.0f s %-8s] load %s | heap(GC) %s MB | old %s MB | fds %s | threads %s | regs %s |"
        + " sessions %s | allocs %s | relay sockets %s | gen fds %d, peers %d, channels %d%n", s.t(), s.phase(), s.load(),
        mbs(s, NodeSample::heapAfterGc), mbs(s, NodeSample::oldGen), join(s, NodeSample::fds), join(s, NodeSample::threads),
        join(s, NodeSample::registrations), join(s, NodeSample::sessions), join(s, NodeSample::allocations),
        join(s, NodeSample::relaySockets), s.genFds(), s.peersLive(), s.channels());
  }

  private static String mbs(Sample s, ToLongFunction<NodeSample> f) {
    return s.nodes().stream().map(n -> {
      long v = f.applyAsLong(n);
      return v < 0 ? "-" : String.format(Locale.ROOT, "%.1f", v / 1048576.0);
    }).collect(Collectors.joining("/"));
  }

  /** The time series: baseline, the first forced-GC sample of every minute of load, end. */
  private static String summary(List<Sample> samples, int n) {
    StringBuilder b = new StringBuilder();
    b.append("| t (s) | phase | load avg | live heap after GC, MB (n1/n2/n3) | old gen MB | open fds | threads |"
        + " registrations | sessions | relay allocations | relayed sockets | node CPU s | load gen fds | peers / channels |\n");
    b.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    long minute = -1;
    for (Sample s : samples) {
      if (s.nodes().get(0).heapAfterGc() < 0) {
        continue;
      }
      if (s.phase().equals("load")) {
        if ((long) (s.t() / 60) == minute) {
          continue; // one row a minute
        }
        minute = (long) (s.t() / 60);
      }
      b.append(String.format(Locale.ROOT, "| %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d | %d / %d |%n",
          s.t(), s.phase(), s.load(), mbs(s, NodeSample::heapAfterGc), mbs(s, NodeSample::oldGen),
          join(s, NodeSample::fds), join(s, NodeSample::threads), join(s, NodeSample::registrations),
          join(s, NodeSample::sessions), join(s, NodeSample::allocations), join(s, NodeSample::relaySockets),
          s.nodes().stream().map(x -> String.valueOf(x.cpuMillis() / 1000)).collect(Collectors.joining("/")),
          s.genFds(), s.peersLive(), s.channels()));
    }
    return b.toString();
  }

}
