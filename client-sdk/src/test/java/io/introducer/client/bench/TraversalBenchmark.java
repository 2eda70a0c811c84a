package io.introducer.client.bench;

import io.introducer.client.ClientConfig;
import io.introducer.client.ConnectException;
import io.introducer.client.IntroducerClient;
import io.introducer.client.PeerChannel;
import io.introducer.client.testing.NatBehavior;
import io.introducer.client.testing.NatSimulator;
import io.introducer.client.testing.SimulatedNat;
import io.introducer.rendezvous.IntroducerVerticle;
import io.introducer.relay.RelayVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Time to connect and success rate for every pair of the NAT simulator's presets, through a real introducer (two
 * IPs, so NAT discovery sees everything) and, unless {@code --no-relay}, a real TURN relay for the pairs that
 * need one. Each NAT adds {@code rtt/4} of delay per crossing and drops {@code loss} of the packets crossing it,
 * so two peers are {@code rtt} apart and each is {@code rtt/2} from the introducer: the physical floor of a
 * connect is one round trip to the introducer plus one between the peers, {@code 1.5 x rtt}.
 *
 * <p>Not a test: run it with
 * <pre>
 * mvn -B -q -o -pl client-sdk test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=io.introducer.client.bench.TraversalBenchmark -Dexec.args="--trials 200"
 * </pre>
 * Options: {@code --trials N} (default 200 per pair), {@code --loss P} (0.01), {@code --rtt MS} (20),
 * {@code --pair A,B} (only that pair; repeatable; names as printed), {@code --skip A,B} (all but that pair;
 * repeatable), {@code --reuse N} (trials per pair of clients, default 1),
 * {@code --no-relay}. Prints progress on stderr and a Markdown table on stdout.
 *
 * <p>A trial is: two fresh NATs and clients (started, NAT discovery included, before the clock starts), then
 * connect, timed from the {@code connect()} call to its completion, then close. Fresh NATs make every trial a cold
 * one: with {@code --reuse} the NATs' filters remember earlier sessions and later trials get faster than a first
 * contact ever is.
 */
public final class TraversalBenchmark {
  static final String APP = "bench";
  static final String SECRET = "bench-secret";
  static final String REST_SECRET = "bench-relay-secret";
  static final long CONNECT_TIMEOUT_SECONDS = 15;

  private static final Map<String, Supplier<NatBehavior>> NATS = new LinkedHashMap<>();

  static {
    NATS.put("full-cone", NatBehavior::fullCone);
    NATS.put("restricted-cone", NatBehavior::restrictedCone);
    NATS.put("port-restricted", NatBehavior::portRestrictedCone);
    NATS.put("sym-sequential", () -> NatBehavior.symmetricSequential(1));
    NATS.put("sym-random", NatBehavior::symmetricRandom);
  }

  private final int trials;
  private final double loss;
  private final int rttMillis;
  private final boolean relay;
  private final int reuse;
  private final Vertx vertx = Vertx.vertx();
  private int introducerPort;
  private int ids;

  private TraversalBenchmark(int trials, double loss, int rttMillis, boolean relay, int reuse) {
    this.trials = trials;
    this.loss = loss;
    this.rttMillis = rttMillis;
    this.relay = relay;
    this.reuse = reuse;
  }

  /** One pair's outcomes. */
  private record Row(String from, String to, String strategy, String path, int ok, int failed,
      Map<String, Integer> failures, List<Double> millis) {}

  public static void main(String[] argv) throws Exception {
    int trials = 200;
    double loss = 0.01;
    int rtt = 20;
    boolean relay = true;
    int reuse = 1;
    java.util.Set<String> only = new java.util.HashSet<>();
    java.util.Set<String> skip = new java.util.HashSet<>();
    for (int i = 0; i < argv.length; i++) {
      switch (argv[i]) {
        case "--trials" -> trials = Integer.parseInt(argv[++i]);
        case "--loss" -> loss = Double.parseDouble(argv[++i]);
        case "--rtt" -> rtt = Integer.parseInt(argv[++i]);
        case "--pair" -> only.add(argv[++i]);
        case "--skip" -> skip.add(argv[++i]);
        case "--no-relay" -> relay = false;
        case "--reuse" -> reuse = Integer.parseInt(argv[++i]);
        default -> throw new IllegalArgumentException("unknown option " + argv[i]
            + "; options: --trials N --loss P --rtt MS --pair A,B --skip A,B --reuse N --no-relay");
      }
    }
    for (String logger : new String[] {org.slf4j.Logger.ROOT_LOGGER_NAME, "io.introducer", "io.vertx"}) {
      ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(logger))
          .setLevel(ch.qos.logback.classic.Level.WARN);
    }
    TraversalBenchmark b = new TraversalBenchmark(trials, loss, rtt, relay, reuse);
    try {
      b.run(only, skip);
    } finally {
      b.vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    System.exit(0); // the simulator's and clients' daemon threads must not keep exec:java waiting
  }

  private void run(java.util.Set<String> only, java.util.Set<String> skip) throws Exception {
    JsonObject config = new JsonObject().put("host", "127.0.0.1").put("port", 0).put("alternateHost", "127.0.0.2")
        .put("punchWindowMillis", 10_000)
        .put("apps", new JsonArray().add(new JsonObject().put("id", APP).put("secret", SECRET)));
    if (relay) {
      RelayVerticle turn = new RelayVerticle();
      await(vertx.deployVerticle(turn, new DeploymentOptions().setConfig(new JsonObject().put("host", "127.0.0.1")
          .put("port", 0).put("realm", "bench").put("restSecret", REST_SECRET)
          .put("allowPeers", new JsonArray().add("127.0.0.0/8")).put("unauthRatePerSecond", 100_000))));
      config.put("relay", new JsonObject().put("address", "127.0.0.1:" + turn.actualPort())
          .put("restSecret", REST_SECRET).put("credentialTtlSeconds", 3600));
    }
    IntroducerVerticle introducer = new IntroducerVerticle();
    await(vertx.deployVerticle(introducer, new DeploymentOptions().setConfig(config)));
    introducerPort = introducer.actualPort();

    List<String> names = new ArrayList<>(NATS.keySet());
    List<Row> rows = new ArrayList<>();
    long started = System.nanoTime();
    for (int i = 0; i < names.size(); i++) {
      for (int j = i; j < names.size(); j++) {
        String pair = names.get(i) + "," + names.get(j);
        if (!only.isEmpty() && !only.contains(pair) || skip.contains(pair)) {
          continue;
        }
        Row r = pair(names.get(i), names.get(j));
        rows.add(r);
        System.err.printf(Locale.ROOT, "%-16s -> %-16s %s%n", r.from(), r.to(), format(r));
      }
    }
    double floor = 1.5 * rttMillis;
    System.out.printf(Locale.ROOT, "%nTraversal benchmark, %s: %d trials per pair, %.0f%% loss per NAT crossing, "
        + "%d ms RTT between peers (%d ms to the introducer; physical floor %.0f ms)%s, %s, %.0f s in all.%n%n",
        LocalDate.now(), trials, loss * 100, rttMillis, rttMillis / 2, floor,
        relay ? ", TURN relay available" : ", no relay",
        reuse == 1 ? "fresh NATs and clients for every trial" : reuse + " trials per pair of clients",
        (System.nanoTime() - started) / 1e9);
    System.out.println("| initiator | responder | strategy | path | connected | p50 ms | p90 ms | p99 ms | within 3 s "
        + "| failures |");
    System.out.println("|---|---|---|---|---|---|---|---|---|---|");
    for (Row r : rows) {
      int all = Math.max(1, r.ok() + r.failed());
      long fast = r.millis().stream().filter(m -> m <= 3_000).count();
      System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %d/%d (%.1f%%) | %s | %s | %s | %.1f%% | %s |%n", r.from(),
          r.to(), r.strategy(), r.path(), r.ok(), r.ok() + r.failed(), 100.0 * r.ok() / all,
          pct(r.millis(), 50), pct(r.millis(), 90), pct(r.millis(), 99), 100.0 * fast / all,
          r.failures().isEmpty() ? "" : r.failures().toString());
    }
  }

  private Row pair(String from, String to) throws Exception {
    List<Double> millis = new ArrayList<>();
    Map<String, Integer> failures = new TreeMap<>();
    Map<String, Integer> strategies = new TreeMap<>();
    Map<String, Integer> paths = new TreeMap<>();
    int ok = 0;
    for (int done = 0; done < trials; ) {
      try (NatSimulator sim = new NatSimulator(done * 31L + from.hashCode() + to.hashCode())) {
        SimulatedNat natA = sim.addNat(impaired(NATS.get(from).get()));
        SimulatedNat natB = sim.addNat(impaired(NATS.get(to).get()));
        String aId = "a-" + (++ids);
        String bId = "b-" + ids;
        CompletableFuture<IntroducerClient> startA = IntroducerClient.start(client(aId, natA));
        IntroducerClient b = IntroducerClient.start(client(bId, natB)).get(20, TimeUnit.SECONDS);
        IntroducerClient a = startA.get(20, TimeUnit.SECONDS);
        BlockingQueue<PeerChannel> incoming = new LinkedBlockingQueue<>();
        b.onIncoming(incoming::add);
        try {
          for (int k = 0; k < reuse && done < trials; k++, done++) {
            long t0 = System.nanoTime();
            PeerChannel ab;
            try {
              ab = a.connect(bId).get(CONNECT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
              String why = e.getCause() instanceof ConnectException ce ? ce.reason() : e.getCause().toString();
              failures.merge(why, 1, Integer::sum);
              continue;
            } catch (TimeoutException e) {
              failures.merge("no answer in " + CONNECT_TIMEOUT_SECONDS + " s", 1, Integer::sum);
              continue;
            }
            millis.add((System.nanoTime() - t0) / 1e6);
            ok++;
            strategies.merge(ab.strategy().wireName(), 1, Integer::sum);
            paths.merge(ab.path().name().toLowerCase(Locale.ROOT), 1, Integer::sum);
            PeerChannel ba = incoming.poll(5, TimeUnit.SECONDS);
            CompletableFuture<String> closedAtB = new CompletableFuture<>();
            if (ba != null) {
              ba.onClose(closedAtB::complete);
            }
            ab.close();
            try {
              closedAtB.get(2, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
              if (ba != null) {
                ba.close(); // both CLOSE copies lost: close our side so that the next trial starts clean
              }
            }
          }
        } finally {
          a.close();
          b.close();
        }
      }
    }
    return new Row(from, to, top(strategies), top(paths), ok, trials - ok, failures, millis);
  }

  private NatBehavior impaired(NatBehavior b) {
    return b.toBuilder().lossProbability(loss).delay(Duration.ofNanos(rttMillis * 1_000_000L / 4)).build();
  }

  private ClientConfig client(String id, SimulatedNat nat) {
    return ClientConfig.builder().server("127.0.0.1", introducerPort).appId(APP).appSecret(SECRET).peerId(id)
        .transportFactory(nat.addHost()).connectTimeout(Duration.ofSeconds(CONNECT_TIMEOUT_SECONDS)).build();
  }

  private static String top(Map<String, Integer> counts) {
    if (counts.isEmpty()) {
      return "-";
    }
    if (counts.size() == 1) {
      return counts.keySet().iterator().next();
    }
    return counts.toString();
  }

  private static String pct(List<Double> values, int p) {
    if (values.isEmpty()) {
      return "-";
    }
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return String.format(Locale.ROOT, "%.0f", sorted.get(Math.max(0, Math.min(sorted.size() - 1, i))));
  }

  private static String format(Row r) {
    return String.format(Locale.ROOT, "%s/%s %d/%d p50 %s p90 %s p99 %s %s", r.strategy(), r.path(), r.ok(),
        r.ok() + r.failed(), pct(r.millis(), 50), pct(r.millis(), 90), pct(r.millis(), 99),
        r.failures().isEmpty() ? "" : r.failures());
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }
}
