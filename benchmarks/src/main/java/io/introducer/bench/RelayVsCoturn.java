package io.introducer.bench;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Relay and STUN Binding performance of this project against coturn, side by side in one run, on
 * loopback only. Part 1: our TURN relay (its own JVM, {@link BenchServer}) and coturn's turnserver,
 * each driven by the same turnutils_uclient settings through the same turnutils_peer echo peer, the
 * load stepped up (sessions at 1 message/ms each) until messages are lost, then bisected; a {@link TurnProbe}
 * measures round-trip percentiles meanwhile. A third relay, turnfloor.c (the cheapest relay uclient accepts, in C),
 * runs the same steps as the floor: the most any relay can show with this client on this machine. Part 2: a C load generator (compiled here with gcc) sends STUN
 * Binding requests at stepped, then bisected, rates to our introducer and to coturn's STUN port. Every step is
 * bounded in time, the whole run by {@code --budget-seconds}; every process started is killed by PID at the end.
 *
 * <p>Options: {@code --sessions 60,80,...} {@code --messages N} {@code --threads N} (the relay's event loops)
 * {@code --resolution SESSIONS} (relay bisection, default 10) {@code --stun-rates 50000,...}
 * {@code --stun-resolution RATE} (default 5000) {@code --stun-threads N} (the introducer's event loops, default
 * {@code --threads}) {@code --loss-tolerance F} {@code --budget-seconds S} {@code --base-port P}
 * {@code --out FILE} {@code --only relay|stun} {@code --floor no}. Children inherit the harness's niceness (the script's BENCH_NICE).
 */
public final class RelayVsCoturn {
  private static final String USER = "bench";
  private static final String PASSWORD = "bench-pass";
  private static final String REALM = "bench.realm";
  private static final String HOST = "127.0.0.1";
  private static final Pattern STATS = Pattern.compile(
      "(?m)^(\\d+): : start_mclient: msz=\\d+, tot_send_msgs=(\\d+), tot_recv_msgs=(\\d+)");
  private static final Pattern TOTALS = Pattern.compile("start_mclient: tot_send_msgs=(\\d+), tot_recv_msgs=(\\d+)");
  private static final Pattern LOST = Pattern.compile("Total lost packets (\\d+) \\([^)]*\\), total send dropped (\\d+)");
  private static final Pattern RTT = Pattern.compile("Average round trip delay ([\\d.]+) ms; min = (\\d+) ms, max = (\\d+) ms");
  private static final Pattern STUNLOAD = Pattern.compile(
      "sent=(\\d+) received=(\\d+) lost=(\\d+) send_failed=(\\d+) rate=(\\d+) p50_us=(\\d+) p99_us=(\\d+) max_us=(\\d+)");

  private final Map<String, String> opts;
  private final Path work;
  private final long deadline;
  private final List<Process> started = new java.util.concurrent.CopyOnWriteArrayList<>();
  private boolean cleaned;
  private final StringBuilder report = new StringBuilder();
  private final int messages;
  private final int threads;
  private final int coturnPort;
  private final int ourRelayPort;
  private final int ourStunPort;
  private final int peerPort;
  /** The C floor relay's port, or -1 when {@code --floor no}. */
  private final int floorPort;
  /** Loss allowed for the second relay column (a fraction). */
  private final double tolerance;
  /** Seconds of the budget kept for the STUN part while the relay steps run. */
  private final long relayReserve;
  /** Bisection stops when the loss-free and the lossy load are this close: sessions (1,000 rt/s each), Bindings/s. */
  private final int relayResolution;
  private final int stunResolution;
  /** Event loops of our introducer (its {@code threads}). */
  private final int stunThreads;

  private RelayVsCoturn(Map<String, String> opts) throws IOException {
    this.opts = opts;
    this.work = Files.createTempDirectory("relay-vs-coturn");
    this.deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(opts.getOrDefault("budget-seconds", "780")));
    this.messages = Integer.parseInt(opts.getOrDefault("messages", "10000"));
    this.threads = Integer.parseInt(opts.getOrDefault("threads", "2"));
    int base = Integer.parseInt(opts.getOrDefault("base-port", "34780"));
    this.coturnPort = base;
    this.ourRelayPort = base + 10;
    this.ourStunPort = base + 11;
    this.peerPort = base + 20;
    this.floorPort = opts.getOrDefault("floor", "yes").equals("no") ? -1 : base + 13;
    this.relayReserve = opts.getOrDefault("only", "").equals("relay") ? 0 : 150;
    this.relayResolution = Integer.parseInt(opts.getOrDefault("resolution", "10"));
    this.stunResolution = Integer.parseInt(opts.getOrDefault("stun-resolution", "5000"));
    this.stunThreads = Integer.parseInt(opts.getOrDefault("stun-threads", Integer.toString(threads)));
    this.tolerance = Double.parseDouble(opts.getOrDefault("loss-tolerance", "0.0001"));
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("options are --name value, got " + args[i]);
      }
      opts.put(args[i].substring(2), args[i + 1]);
    }
    RelayVsCoturn run = new RelayVsCoturn(opts);
    // Ctrl-C or SIGTERM: still kill what was started.
    Runtime.getRuntime().addShutdownHook(new Thread(run::cleanup, "cleanup"));
    int rc;
    try {
      rc = run.run();
    } finally {
      run.cleanup();
    }
    System.exit(rc);
  }

  private int run() throws Exception {
    for (String tool : List.of("turnserver", "turnutils_uclient", "turnutils_peer", "gcc")) {
      if (which(tool) == null) {
        System.err.println(tool + " not found: apt-get install -y coturn gcc");
        return 2;
      }
    }
    String only = opts.getOrDefault("only", "");
    line("# Relay and STUN Binding: introducer vs coturn");
    line("");
    line("Run " + ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME) + " on " + machine() + ".");
    line("coturn " + version() + "; our servers in their own JVM (" + System.getProperty("java.vm.name") + " "
        + System.getProperty("java.version") + ", Vert.x native transport): the relay on " + threads + " event loops, the"
        + " introducer on " + stunThreads + ". Loopback only.");
    line("Load average at the start: " + loadAverage() + "; niceness of the run: " + niceness() + ".");
    line("");
    Process coturn = startCoturn();
    if (!only.equals("stun")) {
      relayPart(coturn);
    }
    if (!only.equals("relay")) {
      stunPart(coturn);
    }
    line("Load average at the end: " + loadAverage() + " (other work on the machine competes for the same 2 cores).");
    Path out = Path.of(opts.getOrDefault("out", "benchmarks/target/relay-vs-coturn.md"));
    if (out.getParent() != null) {
      Files.createDirectories(out.getParent());
    }
    Files.writeString(out, report.toString(), StandardCharsets.UTF_8);
    System.out.println();
    System.out.println("Report written to " + out.toAbsolutePath());
    return 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Part 1: TURN relay with turnutils_uclient

  private record Step(String server, int sessions, boolean lossFree, long sent, long received, long lost,
      double sustained, double avgRttMs, long maxRttMs, TurnProbe.Stats probe, double cpuPercent, double seconds,
      Drops drops, double cpuMicrosPerRt) {
    /** uclient finished and lost at most {@code tolerance} of the {@code expected} messages. */
    boolean within(double tolerance, long expected) {
      return sent == expected && lost >= 0 && lost <= tolerance * expected;
    }
  }

  /** Datagrams the kernel dropped for a full receive buffer during a step: at the peer, the server's port, elsewhere. */
  private record Drops(long peer, long server, long other) {
    static Drops between(long[] before, long[] after) {
      if (before[0] < 0 || after[0] < 0) {
        return new Drops(-1, -1, -1);
      }
      long peer = after[1] - before[1];
      long server = after[2] - before[2];
      return new Drops(peer, server, after[0] - before[0] - peer - server);
    }

    @Override
    public String toString() {
      return peer + " / " + server + " / " + other;
    }
  }

  private static long[] drops(int peerPort, int serverPort) {
    return new long[] {UdpDrops.total(), peerPort < 0 ? 0 : UdpDrops.ofPort(peerPort), UdpDrops.ofPort(serverPort)};
  }

  private void relayPart(Process coturn) throws Exception {
    Process peer = start("peer", List.of("turnutils_peer", "-L", HOST, "-p", Integer.toString(peerPort)));
    Thread.sleep(300);
    Process ours = startOurs("relay", List.of("relay", Integer.toString(ourRelayPort), "45000", "49999", USER, PASSWORD,
        REALM, Integer.toString(threads)));
    if (!peer.isAlive() || ours == null) {
      throw new IllegalStateException("peer or relay did not start; logs in " + work);
    }
    Map<String, Process> procs = new LinkedHashMap<>(Map.of("coturn", coturn, "ours", ours));
    Map<String, Integer> ports = new LinkedHashMap<>(Map.of("coturn", coturnPort, "ours", ourRelayPort));
    Process floor = floorPort > 0 ? startFloor() : null;
    if (floor != null) {
      procs.put("floor", floor);
      ports.put("floor", floorPort);
    }
    InetSocketAddress peerAddr = new InetSocketAddress(HOST, peerPort);
    System.out.println("Warm-up (JIT) of both servers: 20 sessions x 2000 messages");
    uclient("coturn", coturnPort, coturn, 20, 2000, peerAddr);
    uclient("ours", ourRelayPort, ours, 20, 2000, peerAddr);

    List<Integer> levels = ints(opts.getOrDefault("sessions", "40,60,80,100,120,140,160"));
    List<Step> all = new ArrayList<>();
    Search coturnSearch = new Search("coturn");
    Search ourSearch = new Search("ours");
    Search floorSearch = new Search("floor");
    List<Search> searches = floor == null ? List.of(coturnSearch, ourSearch)
        : List.of(coturnSearch, ourSearch, floorSearch);
    StepRunner<Step> relay = (server, sessions) -> {
      if (remainingSeconds() < relayReserve + 50) {
        return null;
      }
      Process p = procs.get(server);
      int port = ports.get(server);
      Step r = uclient(server, port, p, sessions, messages, peerAddr);
      all.add(r);
      if (!r.lossFree() && remainingSeconds() > relayReserve + 90) {
        System.out.println("  loss at " + sessions + " sessions: one retry");
        r = uclient(server, port, p, sessions, messages, peerAddr);
        all.add(r);
      }
      return r;
    };
    search(searches, levels, relayResolution, relay, Step::lossFree);
    // Latency at coturn's loss-free rate: ours at exactly that load, if no step of ours ran there yet.
    Step c = coturnSearch.best(all, Step::server, Step::sessions, Step::lossFree);
    if (c != null && stepAt(all, "ours", c.sessions()) == null && ourSearch.lo >= c.sessions()) {
      System.out.println("Latency at coturn's loss-free rate: ours at " + c.sessions() + " sessions");
      relay.run("ours", c.sessions());
    }
    Procs.kill(ours, 3000);
    Procs.kill(peer, 1000);
    if (floor != null) {
      Procs.kill(floor, 1000);
    }

    line("## TURN relay: loss-free round trips per second (turnutils_uclient, echo peer)");
    line("");
    line("Each session sends 100-byte ChannelData messages every 1 ms (`turnutils_uclient -c -m SESSIONS -n " + messages
        + " -z 1 -l 100 -e peer`), each echoed by `turnutils_peer` through the relay: one round trip = 2 datagrams in and"
        + " 2 out at the relay. Sessions start spread over 1-6 s; the sustained rate is measured over the seconds when"
        + " all are sending. The load steps up by sessions until a server loses a message (one retry of a step with any"
        + " loss), then each server's interval between its last loss-free and first lossy load is halved down to "
        + relayResolution + " sessions; both servers step alternately in the same window. Loss-free means not one"
        + " message lost; the second column allows " + percent(tolerance) + " (a scheduling hiccup of the shared"
        + " machine) among the steps that ran.");
    line("");
    line("| server | loss-free round trips/s (offered) | ≤ " + percent(tolerance) + " loss rt/s | sustained rt/s measured"
        + " | uclient RTT avg / max (ms) | probe RTT p50 / p99 (µs) | server CPU | server CPU µs per round trip |");
    line("|---|---|---|---|---|---|---|---|");
    Step o = ourSearch.best(all, Step::server, Step::sessions, Step::lossFree);
    long expected = (long) messages;
    Step nc = nearest(all, "coturn", x -> x.within(tolerance, x.sessions() * expected));
    Step no = nearest(all, "ours", x -> x.within(tolerance, x.sessions() * expected));
    line(row("coturn " + version() + " (turnserver)", c, nc));
    line(row("introducer relay (" + threads + " event loops)", o, no));
    Step f = floor == null ? null : floorSearch.best(all, Step::server, Step::sessions, Step::lossFree);
    Step nf = floor == null ? null : nearest(all, "floor", x -> x.within(tolerance, x.sessions() * expected));
    if (floor != null) {
      line(row("turnfloor.c, the floor (" + threads + " threads)", f, nf));
    }
    line(ratioRow("ours / coturn", o, c, no, nc));
    if (floor != null) {
      line(ratioRow("coturn / floor", c, f, nc, nf));
      line(ratioRow("ours / floor", o, f, no, nf));
    }
    line("");
    line("Loss-free rate found by " + coturnSearch.describe(1000) + " (coturn), " + ourSearch.describe(1000)
        + " (ours)" + (floor == null ? "" : " and " + floorSearch.describe(1000) + " (floor)")
        + ": coarse steps, then bisection down to " + String.format(Locale.ROOT, "%,d", relayResolution * 1000)
        + " rt/s. CPU µs per round trip: the server's user+system time over the step divided by the round trips"
        + " it completed (the whole step, connection set-up included), its median over the loss-free steps.");
    if (floor != null) {
      line("");
      line("The floor is `turnfloor.c`, the cheapest relay uclient accepts (C, " + threads + " threads on SO_REUSEPORT,"
          + " recvmmsg/sendmmsg, no integrity checks, no limits): not a server, a measuring stick. Whatever it reaches is"
          + " the most any relay can show with this client and echo peer on this machine, since they share its cores.");
    }
    line("");
    line(String.format(Locale.ROOT, "Median server CPU per round trip over the loss-free steps: coturn %s µs, ours %s µs%s.",
        cpuPerRt(all, "coturn"), cpuPerRt(all, "ours"), floor == null ? "" : ", floor " + cpuPerRt(all, "floor") + " µs"));
    if (c != null) {
      // Added latency compared at the same load: coturn's loss-free rate.
      Step same = stepAt(all, "ours", c.sessions());
      line("");
      line(same == null || same.probe() == null || c.probe() == null
          ? "Latency at coturn's loss-free rate: no step of ours at " + c.sessions() * 1000 + " rt/s."
          : String.format(Locale.ROOT, "**Latency at coturn's loss-free rate (%,d rt/s)**, probe p50 / p99: coturn %s µs, ours %s µs"
              + "%s; uclient average: coturn %.2f ms, ours %.2f ms.", c.sessions() * 1000, probe(c.probe()), probe(same.probe()),
              same.lossFree() ? "" : " (ours lost messages at that rate)", c.avgRttMs(), same.avgRttMs()));
    }
    line("");
    line("Every step:");
    line("");
    line("| server | sessions | offered rt/s | sent | received | lost | sustained rt/s | uclient avg / max RTT (ms) | probe p50 / p99 (µs) | server CPU | CPU µs / rt | kernel drops peer / server / other | s |");
    line("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (Step s : all) {
      line(String.format(Locale.ROOT, "| %s | %d | %,d | %,d | %,d | %,d | %,.0f | %.2f / %d | %s | %.0f%% | %.2f | %s | %.0f |", s.server(),
          s.sessions(), s.sessions() * 1000, s.sent(), s.received(), s.lost(), s.sustained(), s.avgRttMs(), s.maxRttMs(),
          probe(s.probe()), s.cpuPercent(), s.cpuMicrosPerRt(), s.drops(), s.seconds()));
    }
    line("");
    line("Kernel drops: datagrams dropped for a full socket receive buffer during the step (/proc/net/snmp"
        + " RcvbufErrors, machine-wide, so other programs' drops count under \"other\"), split into the echo peer's"
        + " socket, the server's listening socket(s), and the rest (uclient's sockets, relayed sockets).");
    line("");
  }

  private static String row(String name, Step s, Step near) {
    String n = near == null ? "-" : String.format(Locale.ROOT, "%,d", near.sessions() * 1000);
    if (s == null) {
      return "| " + name + " | lossy at every step | " + n + " | | | | | |";
    }
    return String.format(Locale.ROOT, "| %s | %,d | %s | %,.0f | %.2f / %d | %s | %.0f%% | %.2f |", name,
        s.sessions() * 1000, n, s.sustained(), s.avgRttMs(), s.maxRttMs(), probe(s.probe()), s.cpuPercent(),
        s.cpuMicrosPerRt());
  }

  /** The ratio row of {@code a} to {@code b}: loss-free rates, rates within the tolerance, sustained rates. */
  private static String ratioRow(String name, Step a, Step b, Step nearA, Step nearB) {
    if (a == null || b == null) {
      return "| **" + name + "** | - | | | | | | |";
    }
    return String.format(Locale.ROOT, "| **%s** | **%.2f** | %s | %.2f | | | | |", name,
        (double) a.sessions() / b.sessions(),
        nearA != null && nearB != null ? String.format(Locale.ROOT, "%.2f", (double) nearA.sessions() / nearB.sessions())
            : "-",
        a.sustained() / b.sustained());
  }

  /**
   * The median CPU µs per round trip of {@code server}'s loss-free steps (warm-up excluded; a lossy step spent CPU on
   * round trips it did not complete).
   */
  private static String cpuPerRt(List<Step> all, String server) {
    double[] v = all.stream().filter(s -> s.server().equals(server) && s.lossFree() && Double.isFinite(s.cpuMicrosPerRt()))
        .mapToDouble(Step::cpuMicrosPerRt).sorted().toArray();
    return v.length == 0 ? "-" : String.format(Locale.ROOT, "%.2f", v[v.length / 2]);
  }

  private static String percent(double fraction) {
    return String.format(Locale.ROOT, "%.2g %%", fraction * 100);
  }

  private static String probe(TurnProbe.Stats p) {
    return p == null ? "-" : String.format(Locale.ROOT, "%.0f / %.0f", p.p50Micros(), p.p99Micros());
  }

  private static String ratio(double a, double b) {
    return Double.isFinite(a) && Double.isFinite(b) && b > 0 ? String.format(Locale.ROOT, "%.2f", a / b) : "-";
  }

  private Step uclient(String server, int port, Process proc, int sessions, int n, InetSocketAddress peer)
      throws Exception {
    System.out.printf(Locale.ROOT, "%-6s %3d sessions x %d messages ... ", server, sessions, n);
    System.out.flush();
    TurnProbe probe = null;
    try {
      probe = TurnProbe.connect(new InetSocketAddress(HOST, port), USER, PASSWORD, peer);
      probe.start(2000);
    } catch (IOException e) {
      System.out.print("(no probe: " + e.getMessage() + ") ");
    }
    Path log = work.resolve("uclient-" + server + "-" + sessions + "-" + System.nanoTime() + ".log");
    long cpu0 = Procs.cpuMillis(proc.pid());
    long[] drops0 = drops(peer.getPort(), port);
    long t0 = System.nanoTime();
    Process u = Procs.start(List.of("turnutils_uclient", "-c", "-u", USER, "-w", PASSWORD, "-p", Integer.toString(port),
        "-e", HOST, "-r", Integer.toString(peer.getPort()), "-m", Integer.toString(sessions), "-n", Integer.toString(n),
        "-z", "1", "-l", "100", HOST), log);
    started.add(u);
    // Connecting 100 sessions takes uclient 10-20 s, their starts spread over 6 s, and after a loss it waits 10 s.
    long limit = 60 + n / 1000;
    boolean exited = u.waitFor(limit, TimeUnit.SECONDS);
    if (!exited) {
      Procs.kill(u, 1000);
    }
    long t1 = System.nanoTime();
    long cpu1 = Procs.cpuMillis(proc.pid());
    Drops drops = Drops.between(drops0, drops(peer.getPort(), port));
    String out = Files.readString(log, StandardCharsets.UTF_8);
    // The window when every session sends: from 5 s after the first message to the end of the shortest session.
    List<long[]> stats = new ArrayList<>();
    Matcher m = STATS.matcher(out);
    while (m.find()) {
      stats.add(new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), Long.parseLong(m.group(3))});
    }
    long first = stats.stream().filter(x -> x[1] > 0).mapToLong(x -> x[0]).findFirst().orElse(0);
    long from = first + 5;
    long to = first + n / 1000;
    double sustained = rate(stats);
    TurnProbe.Stats ps = null;
    if (probe != null) {
      probe.stop();
      ps = probe.stats(t0 + TimeUnit.SECONDS.toNanos(from), t0 + TimeUnit.SECONDS.toNanos(Math.max(from + 1, to)));
      probe.close();
    }
    long[] totals = last(TOTALS, out, 2);
    long[] lost = last(LOST, out, 2);
    Matcher rtt = RTT.matcher(out);
    double avg = Double.NaN;
    long max = -1;
    if (rtt.find()) {
      avg = Double.parseDouble(rtt.group(1));
      max = Long.parseLong(rtt.group(3));
    }
    boolean ok = exited && u.exitValue() == 0 && totals != null && lost != null
        && totals[0] == (long) sessions * n && lost[0] == 0 && lost[1] == 0;
    double secs = (t1 - t0) / 1e9;
    double cpu = cpu0 < 0 || cpu1 < 0 ? Double.NaN : 100.0 * (cpu1 - cpu0) / ((t1 - t0) / 1e6);
    long received = totals == null ? 0 : totals[1];
    double perRt = cpu0 < 0 || cpu1 < 0 || received == 0 ? Double.NaN : 1000.0 * (cpu1 - cpu0) / received;
    Step s = new Step(server, sessions, ok, totals == null ? 0 : totals[0], received,
        lost == null ? -1 : lost[0], sustained, avg, max, ps, cpu, secs, drops, perRt);
    System.out.printf(Locale.ROOT, "%s: lost %d of %d, sustained %,.0f rt/s, RTT avg %.2f ms max %d ms, probe %s us, CPU %.0f%%"
        + " (%.2f us/rt), drops peer/server/other %s, %.0f s%n",
        ok ? "loss-free" : "LOSS", s.lost(), s.sent(), sustained, avg, max, probe(ps), cpu, perRt, drops, secs);
    return s;
  }

  /**
   * The best receive rate over 3 s of uclient's once-a-second totals (the lines are stamped when printed, so a
   * stalled second shows up as a gap; 3 s smooths that).
   */
  private static double rate(List<long[]> stats) {
    double best = 0;
    for (int i = 0; i + 3 < stats.size(); i++) {
      long dt = stats.get(i + 3)[0] - stats.get(i)[0];
      if (dt > 0) {
        best = Math.max(best, (double) (stats.get(i + 3)[2] - stats.get(i)[2]) / dt);
      }
    }
    return best;
  }

  // ---------------------------------------------------------------------------------------------
  // Part 2: STUN Binding

  private record StunStep(String server, int rate, boolean lossFree, long sent, long received, long achieved,
      long p50, long p99, long max, double cpuPercent, Drops drops) {}

  /** Compiles the C program {@code name}.c shipped as a resource; its binary in the work directory. */
  private Path compile(String name, String... libs) throws Exception {
    Path src = work.resolve(name + ".c");
    try (InputStream in = RelayVsCoturn.class.getResourceAsStream("/" + name + ".c")) {
      if (in == null) {
        throw new IllegalStateException(name + ".c missing from the class path");
      }
      Files.copy(in, src);
    }
    Path bin = work.resolve(name);
    List<String> cmd = new ArrayList<>(List.of("gcc", "-O2", "-Wno-deprecated-declarations", "-o", bin.toString(),
        src.toString()));
    cmd.addAll(List.of(libs));
    Process gcc = new ProcessBuilder(cmd).inheritIO().start();
    if (!gcc.waitFor(60, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
      throw new IllegalStateException("gcc failed on " + src + (libs.length > 0 ? " (needs libssl-dev)" : ""));
    }
    return bin;
  }

  private void stunPart(Process coturn) throws Exception {
    Path bin = compile("stunload");
    Process ours = startOurs("introducer", List.of("introducer", Integer.toString(ourStunPort),
        Integer.toString(stunThreads)));
    if (ours == null) {
      throw new IllegalStateException("introducer did not start; logs in " + work);
    }
    System.out.println("Warm-up (JIT) of both STUN servers: 5 s at 40,000/s");
    stunload(bin, "coturn", coturnPort, coturn, 40_000, 5);
    stunload(bin, "ours", ourStunPort, ours, 40_000, 5);

    List<Integer> rates = ints(opts.getOrDefault("stun-rates",
        "25000,50000,75000,100000,125000,150000,175000,200000,250000,300000"));
    List<StunStep> all = new ArrayList<>();
    Search coturnSearch = new Search("coturn");
    Search ourSearch = new Search("ours");
    StepRunner<StunStep> stun = (server, rate) -> {
      if (remainingSeconds() < 10) {
        return null;
      }
      Process p = server.equals("coturn") ? coturn : ours;
      int port = server.equals("coturn") ? coturnPort : ourStunPort;
      StunStep r = stunload(bin, server, port, p, rate, 3);
      all.add(r);
      if (!r.lossFree()) {
        System.out.println("  loss at " + rate + "/s: one retry");
        r = stunload(bin, server, port, p, rate, 3);
        all.add(r);
      }
      return r;
    };
    search(List.of(coturnSearch, ourSearch), rates, stunResolution, stun, StunStep::lossFree);
    StunStep c = coturnSearch.best(all, StunStep::server, StunStep::rate, StunStep::lossFree);
    if (c != null && stepAt(all, "ours", c.rate(), StunStep::server, StunStep::rate) == null
        && ourSearch.lo >= c.rate()) {
      stun.run("ours", c.rate());
    }
    Procs.kill(ours, 3000);

    line("## STUN Binding: loss-free requests per second");
    line("");
    line("A C generator (`stunload.c`, built with gcc at run time) sends 20-byte Binding requests from 8 sockets,"
        + " paced every millisecond, for 3 s per step, and times every answer. Loss-free = every request answered.");
    line("");
    line("| server | loss-free Bindings/s | p50 / p99 / max RTT (µs) at that rate | server CPU |");
    line("|---|---|---|---|");
    StunStep o = ourSearch.best(all, StunStep::server, StunStep::rate, StunStep::lossFree);
    line(stunRow("coturn " + version() + " (turnserver STUN)", c));
    line(stunRow("introducer (" + stunThreads + " event loop" + (stunThreads == 1 ? "" : "s") + ")", o));
    if (c != null && o != null) {
      line(String.format(Locale.ROOT, "| **ratio ours / coturn** | **%.2f** | | |", (double) o.rate() / c.rate()));
    }
    line("");
    line("Loss-free rate found by " + coturnSearch.describe(1) + " (coturn) and " + ourSearch.describe(1)
        + " (ours): coarse steps, then bisection down to " + String.format(Locale.ROOT, "%,d", stunResolution) + "/s.");
    if (c != null) {
      StunStep same = stepAt(all, "ours", c.rate(), StunStep::server, StunStep::rate);
      line("");
      line(same == null ? "Latency at coturn's loss-free rate: no step of ours at that rate."
          : String.format(Locale.ROOT, "**Latency at coturn's loss-free rate (%,d/s)**, p50 / p99: coturn %d / %d µs, ours"
              + " %d / %d µs%s.", c.rate(), c.p50(), c.p99(), same.p50(), same.p99(),
              same.lossFree() ? "" : " (ours lost requests at that rate)"));
    }
    line("");
    line("Every step:");
    line("");
    line("| server | offered/s | sent | answered | answered/s | p50 / p99 / max (µs) | server CPU | kernel drops server / other |");
    line("|---|---|---|---|---|---|---|---|");
    for (StunStep s : all) {
      line(String.format(Locale.ROOT, "| %s | %,d | %,d | %,d | %,d | %d / %d / %d | %.0f%% | %d / %d |", s.server(), s.rate(),
          s.sent(), s.received(), s.achieved(), s.p50(), s.p99(), s.max(), s.cpuPercent(), s.drops().server(),
          s.drops().other()));
    }
    line("");
  }

  private static String stunRow(String name, StunStep s) {
    if (s == null) {
      return "| " + name + " | lossy at every step | | |";
    }
    return String.format(Locale.ROOT, "| %s | %,d | %d / %d / %d | %.0f%% |", name, s.rate(), s.p50(), s.p99(), s.max(),
        s.cpuPercent());
  }

  private StunStep stunload(Path bin, String server, int port, Process proc, int rate, int seconds) throws Exception {
    System.out.printf(Locale.ROOT, "%-6s STUN %,d/s for %d s ... ", server, rate, seconds);
    System.out.flush();
    Path log = work.resolve("stunload-" + server + "-" + rate + "-" + System.nanoTime() + ".log");
    long cpu0 = Procs.cpuMillis(proc.pid());
    long[] drops0 = drops(-1, port);
    long t0 = System.nanoTime();
    Process p = Procs.start(List.of(bin.toString(), HOST, Integer.toString(port), Integer.toString(rate),
        Integer.toString(seconds), "8"), log);
    started.add(p);
    if (!p.waitFor(seconds + 10, TimeUnit.SECONDS)) {
      Procs.kill(p, 1000);
    }
    long t1 = System.nanoTime();
    long cpu1 = Procs.cpuMillis(proc.pid());
    Drops drops = Drops.between(drops0, drops(-1, port));
    String out = Files.readString(log, StandardCharsets.UTF_8);
    Matcher m = STUNLOAD.matcher(out);
    if (!m.find()) {
      System.out.println("no result: " + out.trim());
      return new StunStep(server, rate, false, 0, 0, 0, 0, 0, 0, Double.NaN, drops);
    }
    long sent = Long.parseLong(m.group(1));
    long received = Long.parseLong(m.group(2));
    long lost = Long.parseLong(m.group(3));
    long failed = Long.parseLong(m.group(4));
    double cpu = cpu0 < 0 || cpu1 < 0 ? Double.NaN : 100.0 * (cpu1 - cpu0) / ((t1 - t0) / 1e6);
    StunStep s = new StunStep(server, rate, lost == 0 && failed == 0 && sent > 0, sent, received,
        Long.parseLong(m.group(5)), Long.parseLong(m.group(6)), Long.parseLong(m.group(7)), Long.parseLong(m.group(8)), cpu,
        drops);
    System.out.printf(Locale.ROOT, "%s: %,d of %,d answered (%,d/s), p50 %d us, p99 %d us, CPU %.0f%%, drops server/other %d/%d%n",
        s.lossFree() ? "loss-free" : "LOSS", received, sent, s.achieved(), s.p50(), s.p99(), cpu, drops.server(),
        drops.other());
    return s;
  }

  // ---------------------------------------------------------------------------------------------
  // Finding the loss-free rate: coarse steps, then bisection

  /** Runs one load step (with its retry) of a server; null when the time budget is spent. */
  @FunctionalInterface
  private interface StepRunner<S> {
    S run(String server, int load) throws Exception;
  }

  /** Where a server's loss-free load lies: {@code lo} passed (0: none yet), {@code hi} lost (MAX: none yet). */
  private static final class Search {
    final String server;
    int lo;
    int hi = Integer.MAX_VALUE;
    int steps;
    boolean stopped;

    Search(String server) {
      this.server = server;
    }

    boolean open(int resolution) {
      return !stopped && hi != Integer.MAX_VALUE && lo > 0 && hi - lo > resolution;
    }

    /** The server's loss-free step at {@code lo}, the highest load it passed. */
    <S> S best(List<S> all, java.util.function.Function<S, String> server, java.util.function.ToIntFunction<S> load,
        java.util.function.Predicate<S> ok) {
      S found = null;
      for (S s : all) {
        if (server.apply(s).equals(this.server) && load.applyAsInt(s) == lo && ok.test(s)) {
          found = s;
        }
      }
      return found;
    }

    String describe(int unit) {
      String h = hi == Integer.MAX_VALUE ? "none" : String.format(Locale.ROOT, "%,d", (long) hi * unit);
      return String.format(Locale.ROOT, "%d steps (loss-free %,d, first loss %s)", steps, (long) lo * unit, h);
    }
  }

  /**
   * Steps every server up {@code levels}, alternating which goes first, until it loses (after a retry); then halves
   * each server's interval between its highest loss-free and its lowest lossy load until it is at most
   * {@code resolution} wide. Both servers run in the same time window, step for step.
   */
  private <S> void search(List<Search> searches, List<Integer> levels, int resolution, StepRunner<S> runner,
      java.util.function.Predicate<S> ok) throws Exception {
    int order = 0;
    for (int level : levels) {
      List<Search> turn = rotated(searches, order++);
      boolean any = false;
      for (Search x : turn) {
        if (x.stopped || x.hi != Integer.MAX_VALUE) {
          continue;
        }
        any = true;
        S r = runner.run(x.server, level);
        if (r == null) {
          System.out.println("Time budget reached: stopping the steps");
          searches.forEach(y -> y.stopped = true);
          return;
        }
        x.steps++;
        if (ok.test(r)) {
          x.lo = level;
        } else {
          x.hi = level;
        }
      }
      if (!any) {
        break;
      }
    }
    while (searches.stream().anyMatch(x -> x.open(resolution))) {
      List<Search> turn = rotated(searches, order++);
      for (Search x : turn) {
        if (!x.open(resolution)) {
          continue;
        }
        int mid = x.lo + (x.hi - x.lo) / 2;
        mid = Math.max(x.lo + 1, mid / roundTo(resolution) * roundTo(resolution));
        S r = runner.run(x.server, mid);
        if (r == null) {
          System.out.println("Time budget reached: stopping the bisection");
          searches.forEach(y -> y.stopped = true);
          return;
        }
        x.steps++;
        if (ok.test(r)) {
          x.lo = mid;
        } else {
          x.hi = mid;
        }
      }
    }
  }

  /** {@code list} rotated left by {@code by}: each server goes first in turn, so a slow spell does not hit one alone. */
  private static <T> List<T> rotated(List<T> list, int by) {
    List<T> r = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      r.add(list.get((i + by) % list.size()));
    }
    return r;
  }

  /** Bisection points are multiples of this (round figures in the tables). */
  private static int roundTo(int resolution) {
    return resolution >= 1000 ? 1000 : resolution >= 10 ? 5 : 1;
  }

  private static Step stepAt(List<Step> all, String server, int sessions) {
    return stepAt(all, server, sessions, Step::server, Step::sessions);
  }

  /** The last step of {@code server} at {@code load}, loss-free preferred. */
  private static <S> S stepAt(List<S> all, String server, int load, java.util.function.Function<S, String> name,
      java.util.function.ToIntFunction<S> loadOf) {
    S found = null;
    for (S s : all) {
      if (name.apply(s).equals(server) && loadOf.applyAsInt(s) == load) {
        found = s;
      }
    }
    return found;
  }

  /** The highest-load step of {@code server} that satisfies {@code within}. */
  private static Step nearest(List<Step> all, String server, java.util.function.Predicate<Step> within) {
    Step found = null;
    for (Step s : all) {
      if (s.server().equals(server) && within.test(s) && (found == null || s.sessions() > found.sessions())) {
        found = s;
      }
    }
    return found;
  }

  // ---------------------------------------------------------------------------------------------
  // Processes

  private Process startCoturn() throws Exception {
    Path conf = work.resolve("turnserver.conf");
    Files.writeString(conf, String.join("\n",
        "listening-ip=" + HOST,
        "relay-ip=" + HOST,
        "listening-port=" + coturnPort,
        "min-port=40000",
        "max-port=44999",
        "lt-cred-mech",
        "user=" + USER + ":" + PASSWORD,
        "realm=" + REALM,
        "allow-loopback-peers",
        "no-cli",
        "no-tls",
        "no-dtls",
        "no-tcp",
        "no-tcp-relay",
        "no-software-attribute",
        "pidfile=" + work.resolve("turnserver.pid"),
        "log-file=" + work.resolve("turnserver.log"),
        "simple-log",
        ""), StandardCharsets.UTF_8);
    // Foreground (no -o): the harness owns the PID and kills it at the end.
    Process p = start("coturn", List.of("turnserver", "-c", conf.toString()));
    Thread.sleep(1500);
    if (!p.isAlive()) {
      throw new IllegalStateException("turnserver exited; see " + work.resolve("coturn.log"));
    }
    return p;
  }

  /** The C floor relay (turnfloor.c) on {@code floorPort} with as many threads as our relay has event loops. */
  private Process startFloor() throws Exception {
    Path bin = compile("turnfloor", "-lcrypto", "-lpthread");
    Process p = start("floor", List.of(bin.toString(), Integer.toString(floorPort), Integer.toString(threads), USER,
        PASSWORD, REALM));
    if (!Procs.awaitLine(p, work.resolve("floor.log"), "READY", 5_000)) {
      throw new IllegalStateException("turnfloor did not start; see " + work.resolve("floor.log"));
    }
    return p;
  }

  private Process startOurs(String name, List<String> args) throws Exception {
    String cp = System.getProperty("java.class.path");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch", "-cp", cp, BenchServer.class.getName()));
    cmd.addAll(args);
    Path log = work.resolve(name + ".log");
    Process p = Procs.start(cmd, log);
    started.add(p);
    if (!Procs.awaitLine(p, log, "READY", 30_000)) {
      System.err.println(Files.exists(log) ? Files.readString(log) : "no output");
      return null;
    }
    System.out.println(name + ": " + Files.readAllLines(log).stream().filter(l -> l.startsWith("READY")).findFirst().orElse(""));
    return p;
  }

  private Process start(String name, List<String> cmd) throws IOException {
    Process p = Procs.start(cmd, work.resolve(name + ".log"));
    started.add(p);
    return p;
  }

  private synchronized void cleanup() {
    if (cleaned) {
      return;
    }
    cleaned = true;
    for (Process p : started) {
      Procs.kill(p, 2000);
    }
    System.out.println("Logs: " + work);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private long remainingSeconds() {
    return TimeUnit.NANOSECONDS.toSeconds(deadline - System.nanoTime());
  }

  private void line(String s) {
    report.append(s).append('\n');
    System.out.println(s);
  }

  private static List<Integer> ints(String csv) {
    List<Integer> out = new ArrayList<>();
    for (String s : csv.split(",")) {
      out.add(Integer.parseInt(s.trim()));
    }
    return out;
  }

  private static long[] last(Pattern p, String out, int groups) {
    long[] found = null;
    Matcher m = p.matcher(out);
    while (m.find()) {
      found = new long[groups];
      for (int g = 0; g < groups; g++) {
        found[g] = Long.parseLong(m.group(g + 1));
      }
    }
    return found;
  }

  private static String which(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      File f = new File(dir, tool);
      if (f.isFile() && f.canExecute()) {
        return f.getAbsolutePath();
      }
    }
    return null;
  }

  private static String version;

  private static synchronized String version() {
    if (version == null) {
      version = turnserverVersion();
    }
    return version;
  }

  private static String turnserverVersion() {
    try {
      Process p = new ProcessBuilder("turnserver", "--version").redirectErrorStream(true).start();
      String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor(5, TimeUnit.SECONDS);
      return v.isEmpty() ? "?" : v.lines().reduce((a, b) -> b).orElse("?");
    } catch (IOException | InterruptedException e) {
      return "?";
    }
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  private static String niceness() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      return stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  private static String machine() {
    String cpu = "?";
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("?");
    } catch (IOException e) {
      // keep "?"
    }
    return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), Linux " + System.getProperty("os.version");
  }
}
