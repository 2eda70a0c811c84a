package io.introducer.rendezvous.bench;

import io.introducer.rendezvous.Registration;
import io.introducer.rendezvous.Registry;
import io.introducer.rendezvous.impl.InMemoryRegistry;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Registry expiry benchmark (not a test; docs/BENCHMARKS.md, Registry expiry): fills a registry with
 * {@code --peers} registrations (default 1,000,000) whose expiries are spread evenly over one 60-s lifetime, then
 * times one {@code expire(now)} with 0 %, 1 % and 100 % of them due, for {@link InMemoryRegistry} (expiry index) and
 * for the full scan it replaced ({@link FullScanRegistry}, kept here as the baseline), side by side; also the
 * sliced expiry the introducer's sweep does ({@code expireSome}, 1,000 steps a slice), the index's worst case (every
 * registration refreshed since it was indexed, so every entry is due but moves instead of expiring), and the heap
 * per registration of both after a full GC. Each case gets a fresh fill; medians of {@code --repeats} (default 3).
 *
 * <p>Run from the repository root (nothing to install; the class path file names protocol/target/classes):
 * <pre>
 * mvn -q -pl introducer-verticle -am test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/introducer-cp.txt
 * java -Xmx4g -cp introducer-verticle/target/classes:introducer-verticle/target/test-classes:$(cat /tmp/introducer-cp.txt) \
 *     io.introducer.rendezvous.bench.RegistryExpiryBenchmark [--peers 1000000] [--repeats 5]
 * </pre>
 */
public final class RegistryExpiryBenchmark {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final long LIFETIME_MILLIS = 60_000;
  private static final int SLICE = 1_000;

  /** The InMemoryRegistry before the expiry index: expire scans every registration. Baseline only. */
  static final class FullScanRegistry implements Registry {
    private record Key(String appId, String peerId) {}

    private final Map<Key, Registration> byPeer = new ConcurrentHashMap<>();

    @Override
    public Optional<Registration> get(String appId, String peerId) {
      return Optional.ofNullable(byPeer.get(new Key(appId, peerId)));
    }

    @Override
    public void put(Registration registration) {
      byPeer.put(new Key(registration.appId(), registration.peerId()), registration);
    }

    @Override
    public Optional<Registration> touch(String appId, String peerId, InetSocketAddress source, Instant expiresAt) {
      return Optional.ofNullable(
          byPeer.computeIfPresent(new Key(appId, peerId), (k, r) -> r.refreshed(source, expiresAt)));
    }

    @Override
    public boolean remove(String appId, String peerId) {
      return byPeer.remove(new Key(appId, peerId)) != null;
    }

    @Override
    public int expire(Instant now) {
      int before = byPeer.size();
      byPeer.values().removeIf(r -> r.isExpired(now));
      return Math.max(0, before - byPeer.size());
    }

    @Override
    public int size() {
      return byPeer.size();
    }

    @Override
    public Collection<Registration> all() {
      return List.copyOf(byPeer.values());
    }
  }

  private record Timing(double millis, int removed, int slices, double medianSliceMillis, double maxSliceMillis) {}

  private final int peers;
  private final int repeats;

  private RegistryExpiryBenchmark(int peers, int repeats) {
    this.peers = peers;
    this.repeats = repeats;
  }

  public static void main(String[] args) throws Exception {
    int peers = 1_000_000;
    int repeats = 3;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--peers" -> peers = Integer.parseInt(args[++i]);
        case "--repeats" -> repeats = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + " (--peers N, --repeats N)");
      }
    }
    System.out.printf("JVM %s, %d CPUs, max heap %d MB%n", Runtime.version(),
        Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().maxMemory() >> 20);
    System.out.println("warming up ...");
    new RegistryExpiryBenchmark(Math.max(1, peers / 5), 2).run(false);
    new RegistryExpiryBenchmark(peers, repeats).run(true);
  }

  /** Expiry i of the fill: evenly over (T0 + lifetime, T0 + 2 lifetimes], to the millisecond. */
  private Instant expiry(int i) {
    return T0.plusMillis(LIFETIME_MILLIS + 1 + (long) i * LIFETIME_MILLIS / peers);
  }

  /** The moment at which a fraction {@code due} of the fill has expired. */
  private Instant dueAt(double due) {
    return T0.plusMillis(LIFETIME_MILLIS + Math.round(due * LIFETIME_MILLIS));
  }

  private Registry fill(Supplier<Registry> factory) throws UnknownHostException {
    Registry r = factory.get();
    for (int i = 0; i < peers; i++) {
      InetAddress ip = InetAddress.getByAddress(new byte[] {10, (byte) (i >> 16), (byte) (i >> 8), (byte) i});
      r.put(new Registration("bench", "peer-" + i, new InetSocketAddress(ip, 40_000 + (i & 0x3fff)), List.of(),
          T0, expiry(i)));
    }
    return r;
  }

  private static void gc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
  }

  private static long usedHeap() {
    gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  /** Times one expiry pass (or, when sliced, the slices until done) on a fresh fill. */
  private Timing time(Supplier<Registry> factory, Instant now, boolean sliced, boolean refreshAll) throws Exception {
    Registry r = fill(factory);
    if (refreshAll) { // a keepalive from everyone: each expiry pushed one lifetime later
      for (int i = 0; i < peers; i++) {
        Registration reg = r.get("bench", "peer-" + i).orElseThrow();
        r.touch("bench", reg.peerId(), reg.serverReflexive(), reg.expiresAt().plusMillis(LIFETIME_MILLIS));
      }
    }
    gc();
    int before = r.size();
    long start = System.nanoTime();
    long[] slices = new long[0];
    int count = 0;
    if (sliced) {
      boolean done = false;
      slices = new long[peers / SLICE + 100];
      while (!done) {
        long s = System.nanoTime();
        done = r.expireSome(now, SLICE);
        slices[count++] = System.nanoTime() - s;
      }
    } else {
      r.expire(now);
    }
    long elapsed = System.nanoTime() - start;
    long[] taken = Arrays.copyOf(slices, count);
    Arrays.sort(taken);
    return new Timing(elapsed / 1e6, before - r.size(), count, count == 0 ? 0 : taken[count / 2] / 1e6,
        count == 0 ? 0 : taken[count - 1] / 1e6);
  }

  private Timing median(Supplier<Registry> factory, Instant now, boolean sliced, boolean refreshAll)
      throws Exception {
    List<Timing> runs = new ArrayList<>();
    for (int i = 0; i < repeats; i++) {
      runs.add(time(factory, now, sliced, refreshAll));
    }
    runs.sort((a, b) -> Double.compare(a.millis(), b.millis()));
    return runs.get(runs.size() / 2);
  }

  private double bytesPerRegistration(Supplier<Registry> factory) throws Exception {
    double[] samples = new double[repeats];
    for (int i = 0; i < repeats; i++) {
      long base = usedHeap();
      Registry r = fill(factory);
      long used = usedHeap();
      samples[i] = (double) (used - base) / peers;
      if (r.size() != peers) {
        throw new IllegalStateException("fill lost registrations");
      }
    }
    Arrays.sort(samples);
    return samples[samples.length / 2];
  }

  private void run(boolean print) throws Exception {
    Supplier<Registry> old = FullScanRegistry::new;
    Supplier<Registry> indexed = InMemoryRegistry::new;
    record Case(String name, double due, boolean refreshAll) {}
    List<Case> cases = List.of(
        new Case("0 % due", 0, false),
        new Case("1 % due", 0.01, false),
        new Case("100 % due", 1.0 + 1.0 / 60, false),
        new Case("0 % due, 1/12 moved (sweep)", 1.0 / 12, true),
        new Case("0 % due, 100 % moved", 1.0, true));
    if (print) {
      System.out.printf("%nRegistry expiry: %,d registrations, expiries spread evenly over %d s; median of %d, "
          + "each on a fresh fill%n", peers, LIFETIME_MILLIS / 1000, repeats);
      System.out.printf("%-28s %10s %14s %14s %8s%n", "case", "removed", "full scan ms", "index ms", "ratio");
    }
    for (Case c : cases) {
      Instant now = dueAt(c.due());
      Timing o = median(old, now, false, c.refreshAll());
      Timing n = median(indexed, now, false, c.refreshAll());
      if (o.removed() != n.removed()) {
        throw new IllegalStateException(c.name() + ": the index removed " + n.removed() + ", the scan " + o.removed());
      }
      if (print) {
        System.out.printf("%-28s %,10d %14.2f %14.2f %7.1fx%n", c.name(), n.removed(), o.millis(), n.millis(),
            o.millis() / n.millis());
      }
    }
    Timing sliced = median(indexed, dueAt(1.0 + 1.0 / 60), true, false);
    if (print) {
      System.out.printf("%-28s %,10d %14s %14.2f   (%,d slices of %,d steps: median %.3f ms, longest %.2f ms)%n",
          "100 % due, sliced (sweep)", sliced.removed(), "-", sliced.millis(), sliced.slices(), SLICE,
          sliced.medianSliceMillis(), sliced.maxSliceMillis());
    }
    double oldBytes = bytesPerRegistration(old);
    double newBytes = bytesPerRegistration(indexed);
    if (print) {
      System.out.printf("%nheap per registration (registration, key, map; after full GC): full scan %.1f B, "
          + "index %.1f B (%+.1f B)%n", oldBytes, newBytes, newBytes - oldBytes);
    }
  }
}
