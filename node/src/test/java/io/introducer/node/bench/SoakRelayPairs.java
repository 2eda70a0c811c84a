package io.introducer.node.bench;

import io.introducer.relay.TurnRestCredentials;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Relayed traffic of the soak, straight TURN from the benchmark: each worker thread loops over pairs of allocations
 * on the relays of two different nodes (TURN REST credentials, as an introducer mints them), a permission and a
 * channel each for the other's relayed address, then ChannelData both ways for a while (A sends, B's relay delivers,
 * B echoes back through its own allocation), and at the end deletes both allocations (Refresh LIFETIME 0) or, for
 * a share, just closes its sockets: those allocations must expire on the relay. Every step is bounded in time.
 */
final class SoakRelayPairs {
  static final String REST_SECRET = "dev-relay-secret";
  private static final int CHANNEL = 0x4000;

  /** Settings of the relayed traffic. */
  record Settings(int pairs, int minHoldSeconds, int maxHoldSeconds, int packetsPerSecond, double abandonShare) {}

  private final List<InetSocketAddress> relays;
  private final Settings settings;
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicInteger serial = new AtomicInteger();
  private final SoakFailures failures = new SoakFailures();

  final AtomicLong allocations = new AtomicLong();
  final AtomicLong deleted = new AtomicLong();
  final AtomicLong abandoned = new AtomicLong();
  final AtomicLong sent = new AtomicLong();
  final AtomicLong delivered = new AtomicLong();
  final AtomicLong echoed = new AtomicLong();
  final AtomicLong pairsDone = new AtomicLong();

  SoakRelayPairs(List<InetSocketAddress> relays, Settings settings) {
    this.relays = List.copyOf(relays);
    this.settings = settings;
  }

  void start() {
    for (int i = 0; i < settings.pairs(); i++) {
      int worker = i;
      Thread t = new Thread(() -> loop(worker), "soak-turn-" + i);
      t.setDaemon(true);
      threads.add(t);
      t.start();
    }
  }

  Map<String, Long> failures() {
    return failures.snapshot();
  }

  private void fail(String why) {
    failures.add(why);
  }

  private void loop(int worker) {
    for (int round = 0; round < 100_000 && !stopping.get(); round++) {
      try {
        onePair(worker);
      } catch (IOException | RuntimeException e) {
        fail(e.getMessage() == null ? e.toString() : e.getMessage());
        sleep(1000); // bounded back-off, so a failing relay is not hammered
      }
    }
  }

  private void onePair(int worker) throws IOException {
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    int i = (worker + serial.get()) % relays.size();
    int j = (i + 1 + rnd.nextInt(relays.size() - 1)) % relays.size();
    int n = serial.getAndIncrement();
    String ipA = "127.3." + ((2 * n / 250) % 250) + "." + (2 * n % 250 + 1);
    String ipB = "127.3." + ((2 * n + 1) / 250 % 250) + "." + ((2 * n + 1) % 250 + 1);
    try (SoakTurn a = new SoakTurn(ipA, relays.get(i)); SoakTurn b = new SoakTurn(ipB, relays.get(j))) {
      TurnRestCredentials.Credentials ca = TurnRestCredentials.mint(REST_SECRET, "turn-a-" + n, Duration.ofMinutes(10),
          Clock.systemUTC());
      TurnRestCredentials.Credentials cb = TurnRestCredentials.mint(REST_SECRET, "turn-b-" + n, Duration.ofMinutes(10),
          Clock.systemUTC());
      InetSocketAddress ra = a.allocate(ca.username(), ca.password());
      allocations.incrementAndGet();
      boolean abandon = rnd.nextDouble() < settings.abandonShare();
      boolean bOk = false;
      try {
        InetSocketAddress rb = b.allocate(cb.username(), cb.password());
        allocations.incrementAndGet();
        bOk = true;
        a.permit(rb);
        b.permit(ra);
        a.bindChannel(CHANNEL, rb);
        b.bindChannel(CHANNEL, ra);
        int hold = settings.minHoldSeconds() + rnd.nextInt(Math.max(1, settings.maxHoldSeconds() - settings.minHoldSeconds() + 1));
        long end = System.nanoTime() + hold * 1_000_000_000L;
        long interval = 1_000_000_000L / Math.max(1, settings.packetsPerSecond());
        byte[] payload = new byte[160];
        long seq = 0;
        for (int k = 0; k < 1_000_000 && System.nanoTime() < end && !stopping.get(); k++) {
          long t0 = System.nanoTime();
          ByteBuffer.wrap(payload).putLong(seq++);
          a.sendChannelData(CHANNEL, payload);
          sent.incrementAndGet();
          byte[] got = b.receiveChannelData(500);
          if (got != null) {
            delivered.incrementAndGet();
            b.sendChannelData(CHANNEL, got);
            if (a.receiveChannelData(500) != null) {
              echoed.incrementAndGet();
            }
          }
          long left = interval - (System.nanoTime() - t0);
          if (left > 0) {
            sleep(left / 1_000_000);
          }
        }
      } finally {
        if (abandon) {
          abandoned.addAndGet(bOk ? 2 : 1); // the sockets close below; the relay must expire the allocations
        } else {
          deleteQuietly(a);
          if (bOk) {
            deleteQuietly(b);
          }
        }
      }
      pairsDone.incrementAndGet();
    }
  }

  private void deleteQuietly(SoakTurn t) {
    try {
      t.refresh(0);
      deleted.incrementAndGet();
    } catch (IOException e) {
      fail("delete: " + e.getMessage());
    }
  }

  /** Stops the workers (each ends its pair with the usual delete or abandon) and waits for them, bounded. */
  void stop() {
    stopping.set(true);
    for (Thread t : threads) {
      try {
        t.join(15_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(Math.max(0, millis));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
