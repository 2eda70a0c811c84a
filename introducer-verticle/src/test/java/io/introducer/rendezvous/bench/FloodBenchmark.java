package io.introducer.rendezvous.bench;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.rendezvous.IntroducerCounters;
import io.introducer.rendezvous.IntroducerVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Flood benchmark (not a test; docs/BENCHMARKS.md, Flood): one source (127.0.0.2, a process of its own at the lowest
 * CPU priority, as an attacker has its own machine) floods the introducer as fast as it can, or at
 * {@code --flood-pps}, with a mix of unauthenticated REGISTERs for the served app (the HMAC check is the
 * expensive path), bare Bindings and garbage, while other sources register and connect. It measures the REGISTER
 * round trip and the introduction latency (CONNECT sent until the target receives INTRODUCE) unloaded, beside a
 * control sender (the same sender at the same pace, aimed at a socket nobody reads: what the sender alone costs this
 * machine) and under the flood, in alternating rounds, and prints p50/p99 and their ratios. The introducer runs with
 * its default limits, loopback not exempt; the legitimate peers use 127.0.1.x (initiators) and 127.0.2.x (targets),
 * paced to stay within their own limits.
 *
 * <p>Run from the repository root:
 * <pre>
 * mvn -q -o install -DskipTests -pl protocol,introducer-verticle
 * mvn -q -o -pl introducer-verticle test-compile org.codehaus.mojo:exec-maven-plugin:3.5.0:java \
 *     -Dexec.classpathScope=test -Dexec.mainClass=io.introducer.rendezvous.bench.FloodBenchmark \
 *     -Dexec.args="--samples 2000 --rounds 3 --flood-threads 1 --flood-pps 0"
 * </pre>
 */
public final class FloodBenchmark {
  private static final String APP = "bench";
  private static final String SECRET = "bench-secret";
  private static final int INITIATORS = 200;
  private static final int TARGETS = 200;
  /** Legitimate operations start at most this often, so that no legitimate source or target meets its limit. */
  private static final long PACE_NANOS = TimeUnit.MICROSECONDS.toNanos(1_000);
  private static final long RTO_NANOS = TimeUnit.MILLISECONDS.toNanos(250);
  private static final int TRANSMISSIONS = 5;

  private final InetSocketAddress introducer;
  private final List<Peer> initiators = new ArrayList<>();
  private final List<Peer> targets = new ArrayList<>();
  private long retransmissions;

  private FloodBenchmark(int port) throws IOException {
    introducer = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    for (int i = 0; i < INITIATORS; i++) {
      initiators.add(new Peer("127.0.1." + (1 + i), "initiator-" + i));
    }
    for (int i = 0; i < TARGETS; i++) {
      targets.add(new Peer("127.0.2." + (1 + i), "target-" + i));
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--flooder")) {
      flooder(args);
      return;
    }
    int samples = intArg(args, "--samples", 2000);
    long floodPps = intArg(args, "--flood-pps", 0);
    int floodThreads = intArg(args, "--flood-threads", 1);
    int rounds = intArg(args, "--rounds", 3);
    // As the node runs it (IntroducerNode): Vert.x on the native transport, where epoll reads with recvmmsg and the
    // introducer can read its socket on several event loops (SO_REUSEPORT, config "threads"). --transport nio measures
    // the JDK transport instead (one datagram per read, one loop), which the figures before 2026-11-25 02:30 used.
    boolean nativeTransport = !"nio".equals(stringArg(args, "--transport", "native"));
    int threads = intArg(args, "--threads", 0);
    Vertx vertx = Vertx.vertx(new io.vertx.core.VertxOptions().setPreferNativeTransport(nativeTransport));
    IntroducerVerticle verticle = new IntroducerVerticle();
    JsonObject config = new JsonObject().put("host", "127.0.0.1").put("port", 0).put("alternatePort", -1)
        .put("apps", new JsonArray().add(new JsonObject().put("id", APP).put("secret", SECRET)))
        .put("limits", new JsonObject().put("exemptLoopback", false));
    if (threads > 0) {
      config.put("threads", threads);
    }
    vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config)).await(10, TimeUnit.SECONDS);
    FloodBenchmark bench = new FloodBenchmark(verticle.actualPort());
    try {
      System.out.printf("Introducer on 127.0.0.1:%d, default limits, loopback not exempt, %s transport, threads %s;"
          + " %d CPUs, load average %s%n", verticle.actualPort(), vertx.isNativeTransportEnabled() ? "native" : "NIO",
          threads > 0 ? String.valueOf(threads) : "default", Runtime.getRuntime().availableProcessors(), loadAverage());
      bench.registerTargets();
      bench.measure(samples); // warm-up: JIT, caches
      Flood warmUp = new Flood(bench.introducer, floodThreads, floodPps); // and the drop path's JIT
      warmUp.start();
      bench.measure(samples);
      warmUp.stop();
      Thread.sleep(500);
      IntroducerCounters c = verticle.counters();
      List<Result> unloaded = new ArrayList<>();
      List<Result> control = new ArrayList<>();
      List<Result> flooded = new ArrayList<>();
      // The control: the same sender at the same pace, aimed at a socket nobody reads, so that its own CPU cost on this
      // machine weighs on the measurement without the introducer having anything to do with it.
      DatagramSocket sink = new DatagramSocket(new InetSocketAddress("127.0.0.3", 0));
      long sent = 0;
      long read = 0;
      double seconds = 0;
      Map<String, Long> drops = new java.util.TreeMap<>();
      // Unloaded and flooded rounds alternate, so that the machine's other load weighs on both alike.
      for (int round = 0; round < rounds; round++) {
        unloaded.add(bench.measure(samples));
        Flood idle = new Flood((InetSocketAddress) sink.getLocalSocketAddress(), floodThreads, floodPps);
        idle.start();
        Thread.sleep(1000);
        control.add(bench.measure(samples));
        idle.stop();
        Thread.sleep(500);
        long inBefore = c.packetsIn();
        Map<String, Long> dropsBefore = c.drops();
        Flood flood = new Flood(bench.introducer, floodThreads, floodPps);
        flood.start();
        Thread.sleep(1000); // let the flood fill the queues
        flooded.add(bench.measure(samples));
        flood.stop();
        sent += flood.sent();
        seconds += flood.seconds();
        read += c.packetsIn() - inBefore;
        delta(dropsBefore, c.drops()).forEach((k, v) -> drops.merge(k, v, Long::sum));
        Thread.sleep(500); // let the queues drain
      }
      sink.close();
      Result u = Result.merge(unloaded);
      Result k = Result.merge(control);
      Result f = Result.merge(flooded);
      System.out.println();
      System.out.printf("%-27s %15s %15s %15s %17s %17s%n", "p50 / p99 in us", "unloaded", "sender, no flood",
          "flooded", "flooded/unloaded", "flooded/control");
      row("REGISTER round trip", sorted(u.register), sorted(k.register), sorted(f.register));
      row("CONNECT -> INTRODUCE", sorted(u.introduce), sorted(k.introduce), sorted(f.introduce));
      // Node and clients share this JVM: a GC pause stalls both. Which of the slowest samples sat in one?
      System.out.printf("%nGC pauses of this JVM (node and legitimate clients) during the rounds: unloaded %d (%d ms),"
          + " control %d (%d ms), flooded %d (%d ms)%n", u.gcCount, u.gcMillis, k.gcCount, k.gcMillis, f.gcCount,
          f.gcMillis);
      System.out.printf("%-27s %15s %15s %15s   (samples at or above the p99 that overlapped a GC pause; p99 of the"
          + " samples that did not)%n", "", "unloaded", "sender, no flood", "flooded");
      System.out.printf("%-27s %15s %15s %15s%n", "REGISTER round trip", gcShare(u.register, u.regStart, u.regEnd),
          gcShare(k.register, k.regStart, k.regEnd), gcShare(f.register, f.regStart, f.regEnd));
      System.out.printf("%-27s %15s %15s %15s%n", "CONNECT -> INTRODUCE", gcShare(u.introduce, u.introStart, u.introEnd),
          gcShare(k.introduce, k.introStart, k.introEnd), gcShare(f.introduce, f.introStart, f.introEnd));
      System.out.printf("%nFlood from 127.0.0.2 (%d thread%s): %,d datagrams in %.1f s = %,.0f/s offered; the node read"
              + " %,d datagrams meanwhile (flood and legitimate: %,.0f/s)%n",
          floodThreads, floodThreads == 1 ? "" : "s", sent, seconds, sent / seconds, read, read / seconds);
      System.out.printf("Node drops during the flood: %s%n", drops);
      System.out.printf("Legitimate retransmissions (RTO 250 ms): unloaded %d, control %d, flooded %d; %d rounds of %d"
          + " samples each; load average now %s%n", u.retransmissions, k.retransmissions, f.retransmissions, rounds,
          samples, loadAverage());
    } finally {
      bench.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  private static void row(String name, long[] unloaded, long[] control, long[] flooded) {
    System.out.printf("%-27s %15s %15s %15s %17s %17s%n", name, pair(unloaded), pair(control), pair(flooded),
        ratio(flooded, unloaded), ratio(flooded, control));
  }

  private static String pair(long[] sorted) {
    return percentile(sorted, 50) + " / " + percentile(sorted, 99);
  }

  private static String ratio(long[] a, long[] b) {
    return String.format("%.2f / %.2f", (double) percentile(a, 50) / percentile(b, 50),
        (double) percentile(a, 99) / percentile(b, 99));
  }

  private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
    Map<String, Long> out = new java.util.TreeMap<>();
    after.forEach((k, v) -> {
      long d = v - before.getOrDefault(k, 0L);
      if (d > 0) {
        out.put(k, d);
      }
    });
    return out;
  }

  static long percentile(long[] sorted, int p) {
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
  }

  /** Latencies (µs) in sample order with each sample's span in JVM uptime milliseconds, GC pauses during the round. */
  private record Result(long[] register, double[] regStart, double[] regEnd, long[] introduce, double[] introStart,
      double[] introEnd, long retransmissions, long gcCount, long gcMillis) {
    static Result merge(List<Result> all) {
      return new Result(
          all.stream().flatMapToLong(r -> Arrays.stream(r.register)).toArray(),
          all.stream().flatMapToDouble(r -> Arrays.stream(r.regStart)).toArray(),
          all.stream().flatMapToDouble(r -> Arrays.stream(r.regEnd)).toArray(),
          all.stream().flatMapToLong(r -> Arrays.stream(r.introduce)).toArray(),
          all.stream().flatMapToDouble(r -> Arrays.stream(r.introStart)).toArray(),
          all.stream().flatMapToDouble(r -> Arrays.stream(r.introEnd)).toArray(),
          all.stream().mapToLong(Result::retransmissions).sum(),
          all.stream().mapToLong(Result::gcCount).sum(),
          all.stream().mapToLong(Result::gcMillis).sum());
    }
  }

  private static long[] sorted(long[] values) {
    long[] c = values.clone();
    Arrays.sort(c);
    return c;
  }

  /** GC pauses of this JVM as [start, end] in uptime milliseconds, from the collectors' notifications. */
  private static final java.util.Queue<double[]> GC_PAUSES = new java.util.concurrent.ConcurrentLinkedQueue<>();
  private static final long UPTIME_REF_NANOS = System.nanoTime();
  private static final long UPTIME_REF_MILLIS = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();

  static {
    for (java.lang.management.GarbageCollectorMXBean gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
      if (gc instanceof javax.management.NotificationEmitter emitter) {
        emitter.addNotificationListener((n, h) -> {
          if (com.sun.management.GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType())) {
            com.sun.management.GcInfo info = com.sun.management.GarbageCollectionNotificationInfo
                .from((javax.management.openmbean.CompositeData) n.getUserData()).getGcInfo();
            GC_PAUSES.add(new double[] {info.getStartTime(), info.getEndTime()});
          }
        }, null, null);
      }
    }
  }

  private static double uptimeMillis(long nanos) {
    return UPTIME_REF_MILLIS + (nanos - UPTIME_REF_NANOS) / 1e6;
  }

  private static long[] gcTotals() {
    long count = 0;
    long millis = 0;
    for (java.lang.management.GarbageCollectorMXBean gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
      count += Math.max(0, gc.getCollectionCount());
      millis += Math.max(0, gc.getCollectionTime());
    }
    return new long[] {count, millis};
  }

  /** Of the samples at or above the p99, how many overlapped a GC pause (1 ms slack: GC times are in ms); p99 without. */
  private static String gcShare(long[] micros, double[] start, double[] end) {
    long p99 = percentile(sorted(micros), 99);
    int tail = 0;
    int inGc = 0;
    List<Long> clean = new ArrayList<>();
    for (int i = 0; i < micros.length; i++) {
      boolean gc = false;
      for (double[] p : GC_PAUSES) {
        if (p[0] <= end[i] + 1 && p[1] >= start[i] - 1) {
          gc = true;
          break;
        }
      }
      if (micros[i] >= p99) {
        tail++;
        inGc += gc ? 1 : 0;
      }
      if (!gc) {
        clean.add(micros[i]);
      }
    }
    long[] c = clean.stream().mapToLong(Long::longValue).sorted().toArray();
    return inGc + "/" + tail + ", " + (c.length == 0 ? "-" : percentile(c, 99));
  }

  private static String loadAverage() {
    try {
      return String.join(" ", Arrays.copyOf(java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg"))
          .trim().split(" "), 3));
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  private void registerTargets() throws IOException {
    for (Peer t : targets) {
      t.call(StunMethods.REGISTER, t.request(StunMethods.REGISTER));
    }
  }

  /** {@code n} operations: an initiator registers (timed), then connects to a target (timed until INTRODUCE). */
  private Result measure(int n) throws IOException {
    long[] register = new long[n];
    long[] introduce = new long[n];
    double[] regStart = new double[n];
    double[] regEnd = new double[n];
    double[] introStart = new double[n];
    double[] introEnd = new double[n];
    long[] gc0 = gcTotals();
    long retransmittedBefore = retransmissions;
    long next = System.nanoTime();
    for (int i = 0; i < n; i++) {
      long wait = next - System.nanoTime();
      if (wait > 0) {
        java.util.concurrent.locks.LockSupport.parkNanos(wait); // not a spin: the machine's CPUs are the node's
      }
      next += PACE_NANOS;
      Peer a = initiators.get(i % INITIATORS);
      Peer b = targets.get((i * 7) % TARGETS);
      long t0 = System.nanoTime();
      a.call(StunMethods.REGISTER, a.request(StunMethods.REGISTER));
      long t0End = System.nanoTime();
      register[i] = (t0End - t0) / 1000;
      regStart[i] = uptimeMillis(t0);
      regEnd[i] = uptimeMillis(t0End);
      long t1 = System.nanoTime();
      long wallClock = System.currentTimeMillis();
      byte[] connect = a.sign(a.request(StunMethods.CONNECT).addString(StunAttributes.TARGET_PEER_ID, b.peerId));
      byte[] connectTx = Arrays.copyOfRange(connect, 8, 20);
      a.send(connect);
      // This session's INTRODUCE: from a, and not a late retransmission of an earlier one.
      StunMessage intro = b.await(m -> m.method() == StunMethods.INTRODUCE && m.messageClass() == StunClass.REQUEST
          && a.peerId.equals(m.getString(StunAttributes.TARGET_PEER_ID))
          && m.getU64(StunAttributes.TIMESTAMP) != null && m.getU64(StunAttributes.TIMESTAMP) >= wallClock - 1,
          () -> a.send(connect));
      long t1End = System.nanoTime();
      introduce[i] = (t1End - t1) / 1000;
      introStart[i] = uptimeMillis(t1);
      introEnd[i] = uptimeMillis(t1End);
      b.send(b.sign(StunMessage.successFor(intro).add(StunAttributes.SESSION_ID, intro.get(StunAttributes.SESSION_ID))));
      a.await(m -> m.method() == StunMethods.CONNECT && Arrays.equals(connectTx, m.transactionId()), () -> a.send(connect));
    }
    long[] gc1 = gcTotals();
    return new Result(register, regStart, regEnd, introduce, introStart, introEnd, retransmissions - retransmittedBefore,
        gc1[0] - gc0[0], gc1[1] - gc0[1]);
  }

  private void close() {
    initiators.forEach(p -> p.socket.close());
    targets.forEach(p -> p.socket.close());
  }

  private static String stringArg(String[] args, String name, String def) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return def;
  }

  private static int intArg(String[] args, String name, int def) {
    for (int i = 0; i + 1 < args.length; i++) {
      if (args[i].equals(name)) {
        return Integer.parseInt(args[i + 1]);
      }
    }
    return def;
  }

  /** A legitimate peer on its own loopback address. */
  private final class Peer {
    final DatagramSocket socket;
    final String peerId;
    final byte[] key;
    private final byte[] buf = new byte[2048];

    Peer(String ip, String peerId) throws IOException {
      this.socket = new DatagramSocket(new InetSocketAddress(ip, 0));
      this.peerId = peerId;
      this.key = Rendezvous.peerKey(SECRET, APP, peerId);
    }

    StunMessage.Builder request(int method) {
      return StunMessage.builder(method, StunClass.REQUEST).addString(StunAttributes.APP_ID, APP)
          .addString(StunAttributes.PEER_ID, peerId).addU64(StunAttributes.TIMESTAMP, System.currentTimeMillis());
    }

    byte[] sign(StunMessage.Builder b) {
      return b.integritySha256(key).fingerprint().encode();
    }

    void send(byte[] datagram) {
      try {
        socket.send(new DatagramPacket(datagram, datagram.length, introducer));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    /** Sends a request and waits for its success, retransmitting like a client would. */
    StunMessage call(int method, StunMessage.Builder b) throws IOException {
      byte[] d = sign(b);
      byte[] tx = b.transactionId();
      send(d);
      return await(m -> m.method() == method && Arrays.equals(tx, m.transactionId()), () -> send(d));
    }

    /** The next message {@code wanted} accepts (others are skipped); {@code again} on each RTO. */
    StunMessage await(java.util.function.Predicate<StunMessage> wanted, Runnable again) throws IOException {
      long deadline = System.nanoTime() + RTO_NANOS;
      int sent = 1;
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          if (sent == TRANSMISSIONS) {
            throw new IllegalStateException(peerId + " got no answer after " + sent + " tries");
          }
          again.run();
          retransmissions++;
          sent++;
          deadline = System.nanoTime() + RTO_NANOS;
          continue;
        }
        socket.setSoTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
          socket.receive(p);
        } catch (SocketTimeoutException e) {
          continue;
        }
        StunMessage m;
        try {
          m = StunMessage.decode(Arrays.copyOf(buf, p.getLength()));
        } catch (StunParseException e) {
          continue;
        }
        if (wanted.test(m)) {
          if (m.messageClass() == StunClass.ERROR_RESPONSE) {
            throw new IllegalStateException(peerId + ": " + m);
          }
          return m;
        }
      }
    }
  }

  /**
   * The flooding source, in a process of its own at the lowest CPU priority ({@code nice -n 19} where there is one):
   * an attacker runs on its own machine, and its sending must not be what takes the introducer's CPU here.
   */
  private static final class Flood {
    private final List<String> command = new ArrayList<>();
    private Process process;
    private java.io.BufferedReader out;
    private long sent;
    private double seconds;

    Flood(InetSocketAddress to, int threads, long pps) {
      if (new java.io.File("/usr/bin/nice").canExecute()) {
        command.addAll(List.of("/usr/bin/nice", "-n", "19"));
      }
      command.addAll(List.of(ProcessHandle.current().info().command().orElse("java"), "-cp", classPath(),
          FloodBenchmark.class.getName(), "--flooder", to.getAddress().getHostAddress(), String.valueOf(to.getPort()),
          String.valueOf(threads), String.valueOf(pps)));
    }

    void start() throws IOException {
      process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
      out = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
          java.nio.charset.StandardCharsets.US_ASCII));
      String line = out.readLine();
      if (!"flooding".equals(line)) {
        throw new IOException("the flooder did not start: " + line);
      }
    }

    /** Closes the flooder's stdin, which stops it; it reports what it sent. */
    void stop() throws IOException, InterruptedException {
      process.getOutputStream().close();
      String[] report = out.readLine().split(" ");
      sent = Long.parseLong(report[1]);
      seconds = Long.parseLong(report[2]) / 1e9;
      process.waitFor(10, TimeUnit.SECONDS);
    }

    long sent() {
      return sent;
    }

    double seconds() {
      return seconds;
    }

    /** The classpath this ran with: java.class.path, or the URLs of exec:java's class loader. */
    private static String classPath() {
      ClassLoader cl = FloodBenchmark.class.getClassLoader();
      if (cl instanceof java.net.URLClassLoader urls && urls.getURLs().length > 0) {
        StringBuilder b = new StringBuilder();
        for (java.net.URL u : urls.getURLs()) {
          try {
            b.append(b.length() == 0 ? "" : java.io.File.pathSeparator).append(java.nio.file.Path.of(u.toURI()));
          } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
          }
        }
        return b.toString();
      }
      return System.getProperty("java.class.path");
    }
  }

  /** The flooder process: {@code --flooder ip port threads pps}; floods until its stdin closes, then reports. */
  private static void flooder(String[] args) throws Exception {
    Senders senders = new Senders(new InetSocketAddress(args[1], Integer.parseInt(args[2])), Integer.parseInt(args[3]),
        Long.parseLong(args[4]));
    senders.start();
    System.out.println("flooding");
    System.out.flush();
    while (System.in.read() >= 0) {
      // until the parent closes our stdin
    }
    senders.stop();
    System.out.println("sent " + senders.sent() + " " + senders.nanos());
    System.out.flush();
  }

  /** Threads sending from 127.0.0.2 as fast as they can, or paced. */
  private static final class Senders {
    private final InetSocketAddress to;
    private final int threads;
    private final long pps;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong sent = new AtomicLong();
    private final List<Thread> workers = new ArrayList<>();
    private long started;
    private long stopped;

    Senders(InetSocketAddress to, int threads, long pps) {
      this.to = to;
      this.threads = threads;
      this.pps = pps;
    }

    void start() throws IOException {
      byte[][] mix = {
          StunMessage.builder(StunMethods.REGISTER, StunClass.REQUEST).addString(StunAttributes.APP_ID, APP)
              .addString(StunAttributes.PEER_ID, "mallory").addU64(StunAttributes.TIMESTAMP, System.currentTimeMillis())
              .integritySha256(new byte[32]).fingerprint().encode(),
          StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).encode(),
          "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
      };
      started = System.nanoTime();
      for (int t = 0; t < threads; t++) {
        DatagramChannel ch = DatagramChannel.open();
        ch.bind(new InetSocketAddress("127.0.0.2", 0));
        Thread w = new Thread(() -> run(ch, mix), "flood-" + t);
        w.setDaemon(true);
        workers.add(w);
        w.start();
      }
    }

    private void run(DatagramChannel ch, byte[][] mix) {
      ByteBuffer[] buffers = new ByteBuffer[mix.length];
      for (int i = 0; i < mix.length; i++) {
        buffers[i] = ByteBuffer.wrap(mix[i]);
      }
      long perThreadGap = pps > 0 ? TimeUnit.SECONDS.toNanos(1) * threads / pps : 0;
      long next = System.nanoTime();
      try (ch) {
        for (long i = 0; running.get(); i++) {
          if (perThreadGap > 0) {
            while (System.nanoTime() < next) {
              Thread.onSpinWait();
            }
            next += perThreadGap;
          }
          ByteBuffer b = buffers[(int) (i % buffers.length)];
          b.rewind();
          ch.send(b, to);
          sent.incrementAndGet();
        }
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread w : workers) {
        w.join();
      }
      stopped = System.nanoTime();
    }

    long sent() {
      return sent.get();
    }

    long nanos() {
      return stopped - started;
    }
  }
}
