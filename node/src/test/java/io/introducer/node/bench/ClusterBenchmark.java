package io.introducer.node.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/**
 * Cluster benchmark (issue 5 point 7), not a test: node JVMs from the fat jar on 127.0.0.11-13, then per cluster size
 * (1, then 3 nodes):
 * <ol>
 *   <li>REGISTER rate steps, open loop, spread evenly over the nodes: the loss-free rate is the highest offered rate
 *       of which at least 99 % got a success answer (per node: that divided by the node count);</li>
 *   <li>a closed-loop fill up to the target number of registered peers (1,000,000 over 3 nodes in the full run),
 *       timed, with the nodes' CPU time per registration;</li>
 *   <li>heap after a forced full GC ({@code jcmd GC.run}) on every node, before and after, per registration;</li>
 *   <li>introduction latency, CONNECT to INTRODUCE received, cross-node and same-node, p50/p99.</li>
 * </ol>
 * Prints one table. Run by {@code bin/bench-cluster [--quick]}; {@code --help} lists the options. Every loop is
 * bounded in count and time; the node processes are stopped by PID on every exit path (and by a shutdown hook).
 */
public final class ClusterBenchmark {
  private static final List<BenchNode> STARTED = new CopyOnWriteArrayList<>();
  private static final PrintStream OUT = System.out;

  /** Settings; {@link #parse} fills them from the command line. */
  static final class Options {
    boolean quick;
    List<Integer> nodeCounts = List.of(1, 3);
    Map<Integer, Integer> targets = new LinkedHashMap<>();
    String heap;
    Path jar = Path.of("node", "target", "introducer-node-all.jar");
    Path out = Path.of("node", "target", "bench");
    int intros;
    int warmupIntros = 100;
    int settleSeconds;
    double stepSeconds;
    List<Integer> rates;
    int socketsPerNode = 4;
    int window = 256;
    int lifetimeSeconds;
    int budgetMinutes;
    boolean jfr;
    List<String> nodeOpts = new ArrayList<>();
    int minFillPercent = 25;
    int maxMedianRttMillis = 50;
  }

  static Options parse(String[] args) {
    Options o = new Options();
    o.quick = List.of(args).contains("--quick");
    if (o.quick) {
      o.targets.put(1, 120_000);
      o.targets.put(3, 120_000);
      o.heap = "1536m";
      o.intros = 500;
      o.settleSeconds = 0;
      o.stepSeconds = 1.5;
      o.rates = List.of(2_000, 4_000, 6_000, 8_000, 12_000, 16_000, 24_000, 32_000);
      o.lifetimeSeconds = 600;
      o.budgetMinutes = 6;
    } else {
      o.targets.put(1, 300_000);
      o.targets.put(3, 1_000_000);
      o.heap = "4g";
      o.intros = 2000;
      o.settleSeconds = 65;
      o.stepSeconds = 3;
      o.rates = List.of(2_000, 4_000, 6_000, 8_000, 10_000, 12_000, 14_000, 16_000, 20_000, 24_000, 32_000, 48_000);
      o.lifetimeSeconds = 1800;
      o.budgetMinutes = 20;
    }
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--quick", "--full" -> { }
        case "--nodes" -> o.nodeCounts = ints(args[++i]);
        case "--target" -> {
          // "3=1000000" or "1=300000,3=1000000"
          for (String part : args[++i].split(",")) {
            String[] kv = part.split("=");
            o.targets.put(Integer.parseInt(kv[0].trim()), Integer.parseInt(kv[1].trim()));
          }
        }
        case "--heap" -> o.heap = args[++i];
        case "--jar" -> o.jar = Path.of(args[++i]);
        case "--out" -> o.out = Path.of(args[++i]);
        case "--intros" -> o.intros = Integer.parseInt(args[++i]);
        case "--settle" -> o.settleSeconds = Integer.parseInt(args[++i]);
        case "--step-seconds" -> o.stepSeconds = Double.parseDouble(args[++i]);
        case "--rates" -> o.rates = ints(args[++i]);
        case "--sockets" -> o.socketsPerNode = Integer.parseInt(args[++i]);
        case "--window" -> o.window = Integer.parseInt(args[++i]);
        case "--budget-minutes" -> o.budgetMinutes = Integer.parseInt(args[++i]);
        case "--jfr" -> o.jfr = true;
        case "--node-opt" -> o.nodeOpts.add(args[++i]);
        case "-h", "--help" -> {
          OUT.println(String.join("\n",
              "Usage: bin/bench-cluster [--quick] [options]",
              "  --quick               about 2 minutes: 120k registrations on 1 node and on 3, 500 introductions",
              "  (default, full)       300k on 1 node, 1,000,000 on 3 nodes, 2000 introductions, 65 s settle",
              "  --nodes 1,3           cluster sizes, in order",
              "  --target 3=1000000    registered peers to reach per cluster size",
              "  --heap 4g             node -Xmx (-Xms is a quarter of it)",
              "  --rates 2000,4000,... offered REGISTER rates (per second, whole cluster) of the steps",
              "  --step-seconds 3      length of each rate step",
              "  --intros 2000         introductions measured per kind (cross-node, same-node)",
              "  --settle 65           seconds before the last heap reading (the replay cache keeps answers 60 s)",
              "  --sockets 4 --window 256   client sockets per node; closed-loop window per node",
              "  --jar PATH --out DIR  node fat jar (copied into DIR first); where logs go",
              "  --budget-minutes N    give up (and report what was measured) after N minutes",
              "  --jfr                 record a JFR profile (settings=profile) of every node during the fill",
              "  --node-opt FLAG       an extra JVM flag for the nodes (repeatable), e.g. -Dhazelcast.metrics.enabled=false",
              "",
              "A rate step passes when at least 99 % of its REGISTER got a success answer and their median round trip",
              "stayed under 50 ms (no standing queue: a short step must not hide an overload in socket buffers)."));
          System.exit(0);
        }
        default -> throw new IllegalArgumentException("unknown option " + a + " (try --help)");
      }
    }
    return o;
  }

  private static List<Integer> ints(String csv) {
    List<Integer> out = new ArrayList<>();
    for (String s : csv.split(",")) {
      if (!s.isBlank()) {
        out.add(Integer.parseInt(s.trim()));
      }
    }
    return out;
  }

  /** One rate step as measured. */
  record Step(long offered, long sent, long ok, double ratio, double okPerSecond, long p50, long p99, boolean senderBehind,
      String perNode, String errors) {}

  /** What one cluster size measured. */
  static final class Row {
    int nodes;
    long registered;
    long lossFree = -1;
    long firstMiss = -1;
    double peakOkRate;
    double fillRate;
    double fillSeconds;
    long fillCount;
    long fillP50;
    long fillP99;
    double[] cpuMicrosPerReg;
    double benchCpuMicrosPerReg;
    long[] heapBase;
    long[] heapMid;
    long[] heapUnsettled;
    long[] heapEnd;
    long[] rssEnd;
    long registeredAtBase;
    long registeredAtMid;
    long registeredAtEnd;
    IntroLatency.Samples cross;
    IntroLatency.Samples same;
    long introRetransmits;
    long introWrongNode;
    long blocked;
    String drops = "";
    List<Step> steps = new ArrayList<>();
    List<String> notes = new ArrayList<>();
  }

  public static void main(String[] args) throws Exception {
    Options o;
    try {
      o = parse(args);
    } catch (RuntimeException e) {
      System.err.println("bench-cluster: " + e.getMessage());
      System.exit(2);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> STARTED.forEach(BenchNode::kill), "bench-kill-nodes"));
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    Path dir = o.out.resolve("cluster-" + stamp).toAbsolutePath();
    Files.createDirectories(dir);
    // A private copy: a concurrent `mvn package` may rewrite the jar while the nodes still load classes from it.
    Path jar = dir.resolve("introducer-node-all.jar");
    Files.copy(o.jar, jar, StandardCopyOption.REPLACE_EXISTING);
    Path conf = dir.resolve("bench-node.json");
    // No RFC 5780 alternate port: it is not part of what is measured (and cannot be overridden from env). No rate
    // limits (docs/SECURITY.md): the load comes from one loopback address and one app, and the latency pairs
    // introduce the same targets hundreds of times a second; what is measured is the node, not its limits. Nodes
    // that do not know the "limits" key ignore it.
    Files.writeString(conf, String.join("\n",
        "{\"introducer\": {",
        "  \"alternatePort\": -1,",
        "  \"limits\": {\"perSourcePerSecond\": 0, \"perAppPerSecond\": 0, \"introducesPerTargetPerSecond\": 0,",
        "             \"amplificationFactor\": 0}",
        "}}", ""), StandardCharsets.UTF_8);
    long started = System.nanoTime();
    long budgetEnd = started + o.budgetMinutes * 60_000_000_000L;
    OUT.printf("# cluster benchmark (%s), %s, %d cores, %.1f GiB RAM; logs in %s%n", o.quick ? "quick" : "full",
        LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME), Runtime.getRuntime().availableProcessors(),
        totalMemoryGiB(), dir);
    List<Row> rows = new ArrayList<>();
    int exit = 0;
    try {
      for (int n : o.nodeCounts) {
        if (System.nanoTime() > budgetEnd) {
          OUT.println("# time budget spent: " + n + " nodes not run");
          break;
        }
        int target = o.targets.getOrDefault(n, o.targets.values().stream().max(Integer::compare).orElse(100_000));
        Row row = new Row();
        row.nodes = n;
        rows.add(row);
        try {
          scenario(o, n, target, dir, jar, conf, budgetEnd, row);
        } catch (Exception e) {
          row.notes.add("aborted: " + e);
          OUT.println("# " + n + " nodes aborted: " + e);
          e.printStackTrace(OUT);
          exit = 1;
        }
      }
    } finally {
      STARTED.forEach(node -> node.stop(20));
      Files.deleteIfExists(jar); // the nodes are gone; logs, histograms and profiles stay
    }
    OUT.println();
    OUT.printf("# done in %.1f min%n", (System.nanoTime() - started) / 60e9);
    OUT.println(table(rows, o));
    OUT.flush();
    System.exit(exit);
  }

  /** The 1, 5 and 15 minute load averages: other work on the machine makes every figure noisier. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg"), StandardCharsets.US_ASCII).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  private static double totalMemoryGiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0;
        }
      }
    } catch (IOException | RuntimeException e) {
      // unknown
    }
    return -1;
  }

  private static void scenario(Options o, int n, int target, Path dir, Path jar, Path conf, long budgetEnd, Row row)
      throws Exception {
    OUT.printf("%n## %d node%s, target %,d registered peers, -Xmx%s%s; load average %s%n", n, n == 1 ? "" : "s", target,
        o.heap, o.nodeOpts.isEmpty() ? "" : " " + String.join(" ", o.nodeOpts), loadAverage());
    List<BenchNode> nodes = BenchNode.create(n, "bench-" + UUID.randomUUID(), dir, o.lifetimeSeconds,
        Math.max(1_000_000, target * 2));
    List<String> flags = new ArrayList<>(List.of("-Xms" + quarter(o.heap), "-Xmx" + o.heap, "-XX:+UseG1GC"));
    flags.addAll(o.nodeOpts);
    long t0 = System.nanoTime();
    try {
      for (BenchNode node : nodes) {
        STARTED.add(node);
        node.start(jar, conf, flags);
      }
      awaitReady(nodes, n, 120);
      OUT.printf("cluster of %d ready in %.1f s (pids %s)%n", n, (System.nanoTime() - t0) / 1e9,
          nodes.stream().map(x -> String.valueOf(x.pid())).collect(Collectors.joining(",")));
      try (RegisterLoad load = new RegisterLoad(nodes, o.socketsPerNode)) {
        int next = 0;
        int phase = 1;
        // Warm-up: JIT on both sides, and the lazily created per-partition stores of the ReplicatedMap, before the
        // baseline heap reading.
        int warm = 3000 * n;
        RegisterLoad.Phase w = load.run(phase++, "warm-up", RegisterLoad.range(next, warm), 0, 64, 2000, 60_000);
        next += warm;
        OUT.printf("warm-up: %,d REGISTER, %,d answered ok in %.1f s%n", w.sent(), w.ok(), w.seconds(true));
        row.heapBase = heaps(nodes);
        row.registeredAtBase = registered(nodes);
        OUT.printf("baseline: %s registered, heap after GC %s%n", row.registeredAtBase, mb(row.heapBase));

        // Rate steps, open loop.
        int failures = 0;
        for (int rate : o.rates) {
          if (System.nanoTime() > budgetEnd) {
            row.notes.add("rate steps cut short by the time budget");
            break;
          }
          int count = (int) Math.round(rate * o.stepSeconds);
          RegisterLoad.Phase p = load.run(phase++, "step " + rate, RegisterLoad.range(next, count), rate, 0, 1500,
              (long) (o.stepSeconds * 1000) + 10_000);
          next += count;
          double ratio = p.okRatio();
          RegisterLoad.Histogram h = p.rttAll();
          StringBuilder perNode = new StringBuilder();
          for (int i = 0; i < n; i++) {
            perNode.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%.1f%%", 100 * p.okRatio(i)));
          }
          double okRate = p.ok() / p.seconds(false);
          Step s = new Step(rate, p.sent(), p.ok(), ratio, okRate, h.quantile(0.5), h.quantile(0.99), p.senderBehind,
              perNode.toString(), p.errorSummary());
          row.steps.add(s);
          row.peakOkRate = Math.max(row.peakOkRate, okRate);
          OUT.printf(Locale.ROOT, "step %,6d/s: sent %,7d ok %,7d (%.2f%%; per node %s) -> %,8.0f ok/s, RTT p50 %s p99 %s%s%s%n",
              rate, p.sent(), p.ok(), 100 * ratio, perNode, okRate, us(s.p50()), us(s.p99()),
              p.senderBehind ? " [sender behind]" : "", s.errors().isEmpty() ? "" : " errors " + s.errors());
          boolean queued = s.p50() > o.maxMedianRttMillis * 1000L;
          if (ratio >= 0.99 && !p.senderBehind && !queued) {
            row.lossFree = rate;
          } else {
            failures++;
            if (row.firstMiss < 0) {
              row.firstMiss = rate;
            }
            if (queued && ratio >= 0.99) {
              OUT.printf("  (not sustained: median RTT over %d ms, a queue is building)%n", o.maxMedianRttMillis);
            }
            if (p.senderBehind) {
              row.notes.add("the load generator could not offer " + rate + "/s");
            }
            if (failures >= 2 || ratio < 0.9 || p.senderBehind) {
              break;
            }
          }
          Thread.sleep(1000); // let the node work off any backlog
        }
        row.heapMid = heaps(nodes);
        row.registeredAtMid = registered(nodes);
        OUT.printf("after the steps: %,d registered, heap after GC %s%n", row.registeredAtMid, mb(row.heapMid));

        // Fill, closed loop, up to the target; then re-send what got no answer.
        // Always some fill: it is where the nodes' CPU per registration is measured.
        long toFill = Math.max((long) target * o.minFillPercent / 100, target - row.registeredAtMid);
        long[] cpu0 = cpu(nodes);
        long benchCpu0 = selfCpuMillis();
        if (o.jfr) {
          for (BenchNode node : nodes) {
            node.jcmd(30, "JFR.start", "name=bench-fill", "settings=profile");
          }
        }
        long f0 = System.nanoTime();
        int fillFrom = next;
        long fillBudgetMs = Math.max(10_000, (budgetEnd - System.nanoTime()) / 1_000_000 - 90_000);
        RegisterLoad.Phase fill = load.run(phase++, "fill", RegisterLoad.range(next, (int) toFill), 0, o.window, 3000,
            fillBudgetMs);
        next += (int) toFill;
        for (int round = 0; round < 3; round++) {
          int[] missing = load.missing(fillFrom, next);
          if (missing.length == 0) {
            break;
          }
          OUT.printf("fill: re-sending %,d unanswered REGISTER%n", missing.length);
          load.run(phase++, "repair", missing, 0, o.window, 3000, 120_000);
        }
        row.fillSeconds = (System.nanoTime() - f0) / 1e9;
        long[] cpu1 = cpu(nodes);
        long benchCpu1 = selfCpuMillis();
        if (o.jfr) {
          for (BenchNode node : nodes) {
            Path rec = dir.resolve("fill-" + node.name().replace('@', '-') + "-of-" + n + ".jfr");
            node.jcmd(60, "JFR.stop", "name=bench-fill", "filename=" + rec);
            OUT.println("profile: " + rec);
          }
        }
        row.fillCount = load.countRegistered(fillFrom, next);
        row.fillRate = row.fillCount / row.fillSeconds;
        row.fillP50 = fill.rttAll().quantile(0.5);
        row.fillP99 = fill.rttAll().quantile(0.99);
        row.cpuMicrosPerReg = new double[n];
        for (int i = 0; i < n; i++) {
          row.cpuMicrosPerReg[i] = row.fillCount == 0 ? -1 : (cpu1[i] - cpu0[i]) * 1000.0 / row.fillCount;
        }
        row.benchCpuMicrosPerReg = row.fillCount == 0 ? -1 : (benchCpu1 - benchCpu0) * 1000.0 / row.fillCount;
        OUT.printf(Locale.ROOT, "fill: %,d registered in %.1f s = %,.0f/s (cluster), RTT p50 %s p99 %s; node CPU per"
            + " registration %s µs; load generator %.1f µs%s%n", row.fillCount, row.fillSeconds, row.fillRate,
            us(row.fillP50), us(row.fillP99), fmt(row.cpuMicrosPerReg), row.benchCpuMicrosPerReg,
            fill.errorSummary().isEmpty() ? "" : "; errors " + fill.errorSummary());
        if (o.settleSeconds > 0) {
          row.heapUnsettled = heaps(nodes);
          OUT.printf("after the fill (replay cache full): heap after GC %s; waiting %d s for it to expire%n",
              mb(row.heapUnsettled), o.settleSeconds);
          Thread.sleep(o.settleSeconds * 1000L);
        }
        row.heapEnd = heaps(nodes);
        row.registeredAtEnd = registered(nodes);
        row.registered = row.registeredAtEnd;
        row.rssEnd = new long[n];
        for (int i = 0; i < n; i++) {
          row.rssEnd[i] = nodes.get(i).rssBytes();
        }
        OUT.printf("end: %,d registered (per node %s), heap after GC %s, RSS %s; load average %s%n",
            row.registeredAtEnd, nodes.stream().map(x -> String.valueOf((long) x.metric("introducer_registered_peers",
                null))).collect(Collectors.joining("/")), mb(row.heapEnd), mb(row.rssEnd), loadAverage());
        // What the heap holds: the class histogram of every node (live objects), the top of node 1's printed.
        for (BenchNode node : nodes) {
          try {
            String histogram = node.jcmd(120, "GC.class_histogram");
            Path file = dir.resolve("histogram-" + node.name().replace('@', '-') + "-of-" + n + ".txt");
            Files.writeString(file, histogram, StandardCharsets.UTF_8);
            if (node.index == 0) {
              OUT.println("heap of " + node.name() + " by class (top 12; all in " + file.getFileName() + "):");
              histogram.lines().skip(1).limit(15).forEach(l -> OUT.println("  " + l));
            }
          } catch (IOException e) {
            OUT.println("class histogram of " + node.name() + " failed: " + e.getMessage());
          }
        }
      }

      // Introduction latency, with the cluster full.
      try (IntroLatency lat = new IntroLatency(nodes, 4, "lat" + n)) {
        long l0 = System.nanoTime();
        lat.run(o.warmupIntros, o.intros);
        row.cross = lat.cross;
        row.same = lat.same;
        row.introRetransmits = lat.retransmittedIntroductions();
        row.introWrongNode = lat.introductionsFromWrongNode();
        OUT.printf(Locale.ROOT, "introductions in %.1f s: same-node %s; cross-node %s; INTRODUCE retransmitted %d,"
            + " from an unexpected node %d%n", (System.nanoTime() - l0) / 1e9, describe(lat.same),
            n > 1 ? describe(lat.cross) : "n/a", row.introRetransmits, row.introWrongNode);
      }
      long blocked = 0;
      StringBuilder drops = new StringBuilder();
      for (BenchNode node : nodes) {
        blocked += Math.max(0, node.logLinesContaining("has been blocked for"));
        String d = dropSummary(node);
        if (!d.isEmpty()) {
          drops.append(drops.length() == 0 ? "" : "; ").append(node.name()).append(": ").append(d);
        }
      }
      row.blocked = blocked;
      row.drops = drops.toString();
      OUT.printf("Vert.x blocked-thread warnings in the node logs: %d%s%n", blocked,
          row.drops.isEmpty() ? "" : "; drops " + row.drops);
    } finally {
      for (BenchNode node : nodes) {
        node.stop(20);
        STARTED.remove(node);
      }
    }
  }

  static String quarter(String heap) {
    String unit = heap.replaceAll("[0-9]", "");
    long v = Long.parseLong(heap.replaceAll("[^0-9]", ""));
    return Math.max(1, v / 4) + unit;
  }

  static void awaitReady(List<BenchNode> nodes, int members, int seconds) throws InterruptedException {
    long deadline = System.nanoTime() + seconds * 1_000_000_000L;
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (BenchNode node : nodes) {
        if (!node.alive()) {
          throw new IllegalStateException(node.name() + " exited; see " + node.log);
        }
        all &= node.readyMembers() == members;
      }
      if (all) {
        return;
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException("cluster of " + members + " not ready within " + seconds + " s");
  }

  private static long[] heaps(List<BenchNode> nodes) {
    long[] h = new long[nodes.size()];
    for (int i = 0; i < h.length; i++) {
      h[i] = nodes.get(i).heapUsedAfterGc();
    }
    return h;
  }

  private static long[] cpu(List<BenchNode> nodes) {
    long[] c = new long[nodes.size()];
    for (int i = 0; i < c.length; i++) {
      c[i] = nodes.get(i).cpuMillis();
    }
    return c;
  }

  /** Registrations the nodes hold (each counts those it owns: the sum is the cluster's), from /metrics. */
  private static long registered(List<BenchNode> nodes) {
    long sum = 0;
    for (BenchNode node : nodes) {
      double v = node.metric("introducer_registered_peers", null);
      if (v < 0) {
        return -1;
      }
      sum += (long) v;
    }
    return sum;
  }

  private static String dropSummary(BenchNode node) {
    String text = node.metrics();
    if (text == null) {
      return "";
    }
    List<String> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("introducer_drops_total{") || line.startsWith("introducer_errors_total{")) {
        double v = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        if (v > 0) {
          out.add(line.substring(0, line.lastIndexOf(' ')).replace("introducer_", "") + "=" + (long) v);
        }
      }
    }
    return String.join(", ", out);
  }

  private static long selfCpuMillis() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"), StandardCharsets.US_ASCII);
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static String describe(IntroLatency.Samples s) {
    return String.format(Locale.ROOT, "INTRODUCE p50 %s p99 %s max %s (CONNECT answer p50 %s p99 %s), %d samples, %d lost",
        us(s.quantile(s.introduce, 0.5)), us(s.quantile(s.introduce, 0.99)), us(s.quantile(s.introduce, 1.0)),
        us(s.quantile(s.connect, 0.5)), us(s.quantile(s.connect, 0.99)), s.introduce.size(), s.lost);
  }

  static String us(long micros) {
    if (micros < 0) {
      return "-";
    }
    return micros < 10_000 ? String.format(Locale.ROOT, "%.2f ms", micros / 1000.0)
        : String.format(Locale.ROOT, "%.0f ms", micros / 1000.0);
  }

  private static String mb(long[] bytes) {
    if (bytes == null) {
      return "-";
    }
    List<String> parts = new ArrayList<>();
    for (long b : bytes) {
      parts.add(b < 0 ? "?" : String.valueOf(Math.round(b / 1048576.0)));
    }
    return String.join("/", parts) + " MB";
  }

  private static String fmt(double[] v) {
    List<String> parts = new ArrayList<>();
    for (double x : v) {
      parts.add(String.format(Locale.ROOT, "%.1f", x));
    }
    return String.join("/", parts);
  }

  /** Bytes per cluster registration on each node: heap growth / registrations added between the two readings. */
  private static String perRegistration(long[] before, long[] after, long regsBefore, long regsAfter) {
    if (before == null || after == null || regsAfter <= regsBefore) {
      return "-";
    }
    List<String> parts = new ArrayList<>();
    long sum = 0;
    for (int i = 0; i < before.length; i++) {
      long d = after[i] - before[i];
      sum += d;
      parts.add(String.valueOf(Math.round((double) d / (regsAfter - regsBefore))));
    }
    String perNode = String.join("/", parts);
    return before.length == 1 ? perNode : perNode + " (cluster " + Math.round((double) sum / (regsAfter - regsBefore)) + ")";
  }

  static String table(List<Row> rows, Options o) {
    StringBuilder b = new StringBuilder();
    b.append("| nodes | registered | REGISTER/s loss-free, cluster (per node) | closed-loop fill, cluster | node CPU µs"
        + " per registration | cross-node intro p50 / p99 | same-node intro p50 / p99 | heap B per registration, per"
        + " node | heap per node at end (after GC) |\n");
    b.append("|---|---|---|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      String lossFree = r.lossFree < 0 ? "< " + (r.steps.isEmpty() ? "?" : r.steps.get(0).offered())
          : String.format(Locale.ROOT, "%,d (%,d)", r.lossFree, r.lossFree / r.nodes)
              + (r.firstMiss > 0 && r.firstMiss < r.lossFree ? String.format(Locale.ROOT, "; missed %,d", r.firstMiss) : "");
      String fill = r.fillSeconds == 0 ? "-" : String.format(Locale.ROOT, "%,.0f/s (%,d in %.0f s)", r.fillRate,
          r.fillCount, r.fillSeconds);
      String cross = r.nodes < 2 || r.cross == null ? "n/a" : us(r.cross.quantile(r.cross.introduce, 0.5)) + " / "
          + us(r.cross.quantile(r.cross.introduce, 0.99));
      String same = r.same == null ? "-" : us(r.same.quantile(r.same.introduce, 0.5)) + " / "
          + us(r.same.quantile(r.same.introduce, 0.99));
      String perReg = perRegistration(r.heapBase, r.heapEnd, r.registeredAtBase, r.registeredAtEnd);
      b.append(String.format(Locale.ROOT, "| %d | %,d | %s | %s | %s | %s | %s | %s | %s |%n", r.nodes, r.registered,
          lossFree, fill, r.cpuMicrosPerReg == null ? "-" : fmt(r.cpuMicrosPerReg), cross, same, perReg,
          mb(r.heapEnd)));
    }
    b.append("\n");
    for (Row r : rows) {
      b.append(String.format(Locale.ROOT, "- %d node%s: peak answered rate in the steps %,.0f/s; fill RTT p50 %s p99 %s;"
          + " load generator CPU %.1f µs per registration", r.nodes, r.nodes == 1 ? "" : "s", r.peakOkRate,
          us(r.fillP50), us(r.fillP99), r.benchCpuMicrosPerReg));
      if (r.heapUnsettled != null) {
        b.append("; heap B per registration right after the fill (replay cache of the last 60 s still full): ")
            .append(perRegistration(r.heapBase, r.heapUnsettled, r.registeredAtBase, r.registeredAtEnd));
      }
      if (r.heapMid != null && r.registeredAtEnd > r.registeredAtMid) {
        b.append("; marginal heap B per registration during the fill: ")
            .append(perRegistration(r.heapMid, r.heapUnsettled != null ? r.heapUnsettled : r.heapEnd,
                r.registeredAtMid, r.registeredAtEnd));
      }
      if (r.rssEnd != null) {
        b.append("; RSS at end ").append(mb(r.rssEnd));
      }
      b.append("; blocked-thread warnings ").append(r.blocked);
      if (r.cross != null && r.nodes > 1) {
        b.append("; INTRODUCE lost cross/same ").append(r.cross.lost).append("/").append(r.same.lost);
      }
      if (!r.drops.isEmpty()) {
        b.append("; ").append(r.drops);
      }
      for (String note : r.notes) {
        b.append("; ").append(note);
      }
      b.append(".\n");
    }
    return b.toString();
  }
}
