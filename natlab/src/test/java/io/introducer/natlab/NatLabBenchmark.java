package io.introducer.natlab;

import io.introducer.natlab.NatLab.Host;
import io.introducer.natlab.NatLab.Launcher;
import io.introducer.natlab.NatLab.NatType;
import io.introducer.natlab.NatLab.Proc;
import io.introducer.natlab.NatLab.Router;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kernel NAT benchmark (issue 3 point 6): success rate and time to connect per NAT pair, through real Linux NATs
 * ({@link NatLab}: network namespaces, veth, iptables MASQUERADE, the packaged node and peer CLI). Not a test: run it
 * with {@code bin/bench-natlab} (root), which compiles it and this lab outside Maven.
 *
 * <p>Each pair gets its own routers and hosts on one lab with one node, and one long-lived {@code introducer-peer
 * --repeat} per side, driven round by round on standard input. A trial is: {@code conntrack -F} on every router, a
 * fresh listener client (new socket, NAT discovery, registration, new peer id), then a fresh connector client that
 * connects to it. Time to connect is the CLI's own {@code connect_ms}: from the SDK's {@code connect()} call to the
 * open channel, both clients being registered before the clock starts (as in the simulator's TraversalBenchmark).
 * Then the connector sends one message and waits for the listener's echo (column "echo": whether data flows on the
 * channel; not part of the success rate, since one datagram may be lost on the lossy pair).
 * Each pair's processes first run {@code --warmup} rounds that are not counted, so that the JIT's first pass is not
 * measured as traversal.
 *
 * <p>The floor is one round trip to the introducer plus one between the peers, from ICMP ping between the
 * namespaces: the connector's RTT to the node, plus, between peers behind different NATs (whose routers drop an
 * unsolicited echo), the sum of both peers' RTTs to the node's bridge, or, on one LAN, the RTT between the two hosts.
 *
 * <p>Options: {@code --trials N} (20), {@code --warmup N} (3), {@code --budget-minutes M} (20; trials stop when it
 * runs out and the process exits 3 minutes after it at the latest), {@code --pair NAME} (repeatable; default all:
 * easy-easy, same-lan, easy-hard, hard-easy, hard-hard, easy-easy-loss), {@code --loss P} (percent per router for
 * easy-easy-loss, 1), {@code --prefix NAME} (namespace prefix, default nlb&lt;pid&gt;), {@code --node-jar},
 * {@code --peer-jar} (default: the bin scripts). Progress goes to stderr, the Markdown table to stdout.
 */
public final class NatLabBenchmark {
  static final int CONNECT_TIMEOUT_SECONDS = 15;

  /** A NAT pair: the initiator's (connector's) NAT, the responder's, and what the introducer should make of it. */
  enum Pair {
    EASY_EASY("easy-easy", NatType.EASY, NatType.EASY, false, false, "simultaneous", "direct"),
    SAME_LAN("same-lan", NatType.EASY, NatType.EASY, true, false, "simultaneous", "direct (LAN)"),
    EASY_HARD("easy-hard", NatType.EASY, NatType.HARD, false, false, "birthday", "direct"),
    HARD_EASY("hard-easy", NatType.HARD, NatType.EASY, false, false, "birthday", "direct"),
    HARD_HARD("hard-hard", NatType.HARD, NatType.HARD, false, false, "relay", "relay"),
    EASY_EASY_LOSS("easy-easy-loss", NatType.EASY, NatType.EASY, false, true, "simultaneous", "direct");

    final String id;
    final NatType initiator;
    final NatType responder;
    final boolean sameLan;
    final boolean lossy;
    final String strategy;
    final String path;

    Pair(String id, NatType initiator, NatType responder, boolean sameLan, boolean lossy, String strategy,
        String path) {
      this.id = id;
      this.initiator = initiator;
      this.responder = responder;
      this.sameLan = sameLan;
      this.lossy = lossy;
      this.strategy = strategy;
      this.path = path;
    }

    /** Endpoint-independent mapping on both sides: the pairs the 1.5x-floor target is about. */
    boolean eim() {
      return initiator == NatType.EASY && responder == NatType.EASY;
    }

    boolean birthday() {
      return strategy.equals("birthday");
    }

    static Pair named(String id) {
      for (Pair p : values()) {
        if (p.id.equals(id)) {
          return p;
        }
      }
      throw new IllegalArgumentException("unknown pair " + id + "; pairs: " + String.join(", ",
          java.util.Arrays.stream(values()).map(p -> p.id).toList()));
    }
  }

  /** One pair's results. */
  static final class Row {
    final Pair pair;
    final List<Double> millis = new ArrayList<>();
    final List<Double> rtts = new ArrayList<>();
    final Map<String, Integer> strategies = new TreeMap<>();
    final Map<String, Integer> paths = new TreeMap<>();
    final Map<String, Integer> failures = new TreeMap<>();
    int trials;
    int echoed;
    double introducerRtt = Double.NaN;
    double peerRtt = Double.NaN;

    Row(Pair pair) {
      this.pair = pair;
    }

    int ok() {
      return millis.size();
    }

    double floor() {
      return introducerRtt + peerRtt;
    }

    long within(double ms) {
      return millis.stream().filter(m -> m <= ms).count();
    }
  }

  private static final Pattern STRATEGY = Pattern.compile("\"strategy\":\"([^\"]*)\"");
  private static final Pattern PATH = Pattern.compile("\"path\":\"([^\"]*)\"");
  private static final Pattern REMOTE = Pattern.compile("\"remote\":\"([^\"]*):\\d+\"");
  private static final Pattern CONNECT_MS = Pattern.compile("\"connect_ms\":([0-9.]+)");
  private static final Pattern RTT_MS = Pattern.compile("\"rtt_ms\":([0-9.]+)");
  private static final Pattern REASON = Pattern.compile("\"reason\":\"([^\"]*)\"");

  private final int trials;
  private final int warmup;
  private final int lossPercent;
  private final long deadline;
  private final List<Pair> pairs;
  private final NatLab lab;
  private int generation;

  private NatLabBenchmark(int trials, int warmup, int lossPercent, long deadline, List<Pair> pairs, NatLab lab) {
    this.trials = trials;
    this.warmup = warmup;
    this.lossPercent = lossPercent;
    this.deadline = deadline;
    this.pairs = pairs;
    this.lab = lab;
  }

  public static void main(String[] argv) throws Exception {
    int trials = 20;
    int warmup = 3;
    int loss = 1;
    double budgetMinutes = 20;
    String prefix = "nlb" + ProcessHandle.current().pid();
    Path nodeJar = null;
    Path peerJar = null;
    List<Pair> pairs = new ArrayList<>();
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (a.equals("-h") || a.equals("--help")) {
        System.out.println("Usage: bin/bench-natlab [--trials N] [--warmup N] [--budget-minutes M] [--pair NAME]... "
            + "[--loss PERCENT]\nPairs: easy-easy same-lan easy-hard hard-easy hard-hard easy-easy-loss "
            + "(default all). See client-sdk/README.md, section \"Kernel NAT lab\".");
        return;
      }
      if (i + 1 >= argv.length) {
        throw new IllegalArgumentException(a + " needs a value");
      }
      String v = argv[++i];
      switch (a) {
        case "--trials" -> trials = bounded(v, a, 1, 10_000);
        case "--warmup" -> warmup = bounded(v, a, 0, 100);
        case "--loss" -> loss = bounded(v, a, 1, 99);
        case "--budget-minutes" -> budgetMinutes = Double.parseDouble(v);
        case "--pair" -> pairs.add(Pair.named(v));
        case "--prefix" -> prefix = v;
        case "--node-jar" -> nodeJar = Path.of(v);
        case "--peer-jar" -> peerJar = Path.of(v);
        default -> throw new IllegalArgumentException("unknown option " + a + " (--help lists them)");
      }
    }
    if (pairs.isEmpty()) {
      pairs.addAll(List.of(Pair.values()));
    }
    if (!(budgetMinutes > 0 && budgetMinutes <= 24 * 60)) {
      throw new IllegalArgumentException("--budget-minutes needs 0-1440 minutes");
    }
    String reason = NatLab.unavailableReason();
    if (reason != null) {
      System.err.println("bench-natlab: " + reason);
      System.exit(2);
    }
    long budgetNanos = (long) (budgetMinutes * 60e9);
    long started = System.nanoTime();
    Launcher launcher = nodeJar != null && peerJar != null ? Launcher.jars(nodeJar, peerJar) : Launcher.BIN_SCRIPTS;
    NatLab lab = NatLab.create(prefix, launcher);
    // SIGINT/SIGTERM: stop the peers and the node and delete the namespaces (bin/bench-natlab's trap backs this up).
    Runtime.getRuntime().addShutdownHook(new Thread(lab::close, "bench-natlab-cleanup"));
    Thread watchdog = new Thread(() -> {
      try {
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(budgetNanos) + TimeUnit.MINUTES.toMillis(3));
        System.err.println("bench-natlab: 3 minutes past the budget; giving up");
        System.exit(4);
      } catch (InterruptedException e) {
        // finished in time
      }
    }, "bench-natlab-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    List<Row> rows;
    try {
      log("starting the node in %s-pub", prefix);
      lab.startNode(Map.of());
      rows = new NatLabBenchmark(trials, warmup, loss, started + budgetNanos, pairs, lab).run();
    } finally {
      lab.close();
      watchdog.interrupt();
    }
    print(rows, trials, warmup, loss, (System.nanoTime() - started) / 60e9);
  }

  private static int bounded(String v, String option, int min, int max) {
    int n = Integer.parseInt(v);
    if (n < min || n > max) {
      throw new IllegalArgumentException(option + " needs " + min + "-" + max + ", not " + v);
    }
    return n;
  }

  private List<Row> run() throws Exception {
    List<Row> rows = new ArrayList<>();
    for (Pair pair : pairs) {
      Row row = new Row(pair);
      rows.add(row);
      if (System.nanoTime() > deadline) {
        log("%s: budget spent, not run", pair.id);
        continue;
      }
      Router ri = lab.addRouter(pair.initiator);
      Router rr = pair.sameLan ? ri : lab.addRouter(pair.responder);
      if (pair.lossy) {
        lab.addLoss(ri, lossPercent);
        lab.addLoss(rr, lossPercent);
      }
      Host initiator = lab.addHost(ri);
      Host responder = lab.addHost(rr);
      lab.flushConntrack();
      row.introducerRtt = lab.pingMillis(initiator.ns(), NatLab.PUBLIC_IP, 20);
      row.peerRtt = pair.sameLan ? lab.pingMillis(initiator.ns(), responder.ip(), 20)
          : row.introducerRtt + lab.pingMillis(responder.ns(), NatLab.PUBLIC_IP, 20);
      log("%s: %s (%s) -> %s (%s); ping floor %.3f ms", pair.id, initiator.ns(), pair.initiator, responder.ns(),
          pair.responder, row.floor());
      runPair(row, initiator, responder);
      log("%s: %d/%d connected; p50 %s ms; strategies %s; paths %s; failures %s", pair.id, row.ok(), row.trials,
          pct(row.millis, 50), row.strategies, row.paths, row.failures);
    }
    return rows;
  }

  /** The two long-lived peer processes of a pair; rounds count from 1 in each new pair of processes. */
  private final class Peers {
    final Proc listener;
    final Proc connector;
    final String listenerId;
    final String connectorId;
    int round;

    Peers(Pair pair, Host initiator, Host responder, int rounds) throws IOException {
      int g = ++generation;
      listenerId = pair.id + "-g" + g + "-b";
      connectorId = pair.id + "-g" + g + "-a";
      String n = String.valueOf(rounds);
      listener = lab.peer(responder, "--id", listenerId, "--repeat", n, "listen");
      connector = lab.peer(initiator, "--id", connectorId, "--repeat", n, "--timeout",
          String.valueOf(CONNECT_TIMEOUT_SECONDS), "connect", listenerId, "--send", "bench");
    }

    /**
     * One round: cold NATs, a fresh listener, a fresh connector; the connector's connected or error line, or the
     * listener's error, and whether the connector's one message came back. Both processes always play the round, so
     * that connector round k still targets listener k.
     */
    Outcome round() throws IOException, InterruptedException {
      round++;
      lab.flushConntrack();
      String registered = next(listener, 40);
      String connected = next(connector, 2L * CONNECT_TIMEOUT_SECONDS + 20);
      boolean echoed = connected.contains("\"event\":\"connected\"") && connector.await(
          l -> l.contains("\"event\":\"message\"") || l.contains("\"event\":\"error\""), "with the echo",
          CONNECT_TIMEOUT_SECONDS + 10).contains("\"event\":\"message\"");
      return new Outcome(registered.contains("\"event\":\"registered\"") ? connected : registered, echoed);
    }

    /** Starts the process's next round and waits for its outcome: registered, connected or error. */
    private String next(Proc p, long seconds) throws IOException, InterruptedException {
      p.send("go");
      String roundTag = "\"round\":" + round + ",";
      p.await(l -> l.contains("\"event\":\"round\"") && l.contains(roundTag), "starting round " + round, 20);
      return p.await(l -> l.contains("\"event\":\"error\"") || (p == listener
          ? l.contains("\"event\":\"registered\"") : l.contains("\"event\":\"connected\"")),
          "ending round " + round, seconds);
    }

    void stop() {
      listener.stop();
      connector.stop();
    }
  }

  /** A round's outcome: the connector's connected or error line (or the listener's error), and the echo. */
  record Outcome(String line, boolean echoed) {}

  private void runPair(Row row, Host initiator, Host responder) throws Exception {
    Peers peers = new Peers(row.pair, initiator, responder, warmup + trials);
    try {
      for (int done = 0; done < warmup + trials; done++) {
        boolean counted = done >= warmup;
        if (System.nanoTime() > deadline) {
          log("%s: budget spent after %d trials", row.pair.id, row.trials);
          return;
        }
        Outcome result;
        try {
          result = peers.round();
        } catch (AssertionError | IOException e) {
          // A process stopped answering: count the trial as failed and start over with fresh processes.
          String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("?");
          log("%s: round %d: %s; restarting the peers", row.pair.id, peers.round, first);
          result = new Outcome("{\"event\":\"error\",\"reason\":\"harness: " + first.replace("\"", "'") + "\"}",
              false);
          peers.stop();
          peers = new Peers(row.pair, initiator, responder, warmup + trials - done - 1);
        }
        if (!counted) {
          continue;
        }
        row.trials++;
        String outcome = result.line();
        row.echoed += result.echoed() ? 1 : 0;
        Matcher ms = CONNECT_MS.matcher(outcome);
        if (outcome.contains("\"event\":\"connected\"") && ms.find()) {
          row.millis.add(Double.parseDouble(ms.group(1)));
          String path = group(PATH, outcome);
          if (path.equals("direct") && responder.ip().equals(group(REMOTE, outcome))) {
            path = "direct (LAN)";
          }
          row.paths.merge(path, 1, Integer::sum);
          row.strategies.merge(group(STRATEGY, outcome), 1, Integer::sum);
          Matcher rtt = RTT_MS.matcher(outcome);
          if (rtt.find()) {
            row.rtts.add(Double.parseDouble(rtt.group(1)));
          }
        } else {
          String why = group(REASON, outcome);
          row.failures.merge(why, 1, Integer::sum);
          log("%s: trial %d failed: %s", row.pair.id, row.trials, why);
        }
      }
    } finally {
      peers.stop();
    }
  }

  private static String group(Pattern p, String line) {
    Matcher m = p.matcher(line);
    return m.find() ? m.group(1) : "?";
  }

  private static void print(List<Row> rows, int trials, int warmup, int loss, double minutes) {
    String machine = Runtime.getRuntime().availableProcessors() + " CPUs, " + cpuModel() + ", Linux "
        + System.getProperty("os.version");
    System.out.printf(Locale.ROOT, "%nKernel NAT lab benchmark, %s, %s, commit %s: %d trials per pair (+%d warm-up), "
        + "%.1f min in all. Time to connect: the CLI's connect_ms (connect() to open channel). Floor: ping RTT to "
        + "the introducer + between the peers.%n%n",
        ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")), machine,
        commit(), trials, warmup, minutes);
    System.out.println("| pair | NATs (initiator / responder) | expected | connected | strategy seen | path seen "
        + "| p50 ms | p90 ms | p99 ms | within 3 s | floor ms (ping) | SDK rtt ms (p50) | p50 / floor | echo | failures |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (Row r : rows) {
      String nats = r.pair.sameLan ? "MASQUERADE, one router"
          : nat(r.pair.initiator) + " / " + nat(r.pair.responder) + (r.pair.lossy ? ", " + loss + " % loss each" : "");
      int all = Math.max(1, r.trials);
      System.out.printf(Locale.ROOT,
          "| %s | %s | %s, %s | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d/%d | %s |%n",
          r.pair.id, nats, r.pair.strategy, r.pair.path, r.ok(), r.trials, top(r.strategies), top(r.paths),
          pct(r.millis, 50), pct(r.millis, 90), pct(r.millis, 99),
          r.trials == 0 ? "-" : String.format(Locale.ROOT, "%.0f %%", 100.0 * r.within(3000) / all),
          Double.isNaN(r.floor()) ? "n/a" : String.format(Locale.ROOT, "%.2f", r.floor()), pct(r.rtts, 50),
          r.millis.isEmpty() || Double.isNaN(r.floor()) ? "-"
              : String.format(Locale.ROOT, "%.0fx", quantile(r.millis, 50) / r.floor()),
          r.echoed, r.ok(), r.failures.isEmpty() ? "" : r.failures.toString());
    }
    System.out.println();
    for (Row r : rows) {
      if (r.trials == 0) {
        System.out.println("- " + r.pair.id + ": not run (budget spent)");
        continue;
      }
      List<String> verdicts = new ArrayList<>();
      boolean all = r.ok() == r.trials;
      boolean pathOk = r.paths.size() == 1 && r.paths.containsKey(r.pair.path);
      verdicts.add((all ? "met" : "MISSED") + ": all connect (" + r.ok() + "/" + r.trials + ")");
      verdicts.add((pathOk ? "met" : "MISSED") + ": path " + r.pair.path + " (" + top(r.paths) + ")");
      if (r.pair.eim() && !r.millis.isEmpty()) {
        double p50 = quantile(r.millis, 50);
        verdicts.add(String.format(Locale.ROOT, "%s: p50 %.2f ms within 1.5x the %.2f ms floor", p50 <= 1.5 * r.floor()
            ? "met" : "MISSED", p50, r.floor()));
      }
      if (r.pair.birthday()) {
        double share = 100.0 * r.within(3000) / r.trials;
        verdicts.add(String.format(Locale.ROOT, "%s: %.0f %% within 3 s (target 99 %%)", share >= 99 ? "met"
            : "MISSED", share));
      }
      System.out.println("- " + r.pair.id + ": " + String.join("; ", verdicts));
    }
  }

  private static String nat(NatType t) {
    return t == NatType.EASY ? "MASQUERADE" : "MASQUERADE --random-fully";
  }

  private static String top(Map<String, Integer> counts) {
    if (counts.isEmpty()) {
      return "-";
    }
    return counts.size() == 1 ? counts.keySet().iterator().next() : counts.toString();
  }

  /** Nearest-rank percentile, as the simulator's benchmark computes it. */
  static double quantile(List<Double> values, int p) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
  }

  private static String pct(List<Double> values, int p) {
    if (values.isEmpty()) {
      return "-";
    }
    double v = quantile(values, p);
    return String.format(Locale.ROOT, v < 10 ? "%.2f" : "%.0f", v);
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException ignored) {
      // not Linux, or hidden
    }
    return "unknown CPU";
  }

  private static String commit() {
    try {
      String head = NatLab.sh("git", "-C", NatLab.ROOT.toString(), "rev-parse", "--short", "HEAD").trim();
      String dirty = NatLab.sh("git", "-C", NatLab.ROOT.toString(), "status", "--porcelain", "--untracked-files=no");
      return head + (dirty.isBlank() ? "" : " (with uncommitted changes)");
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static void log(String format, Object... args) {
    System.err.printf(Locale.ROOT, "bench-natlab: " + format + "%n", args);
  }
}
