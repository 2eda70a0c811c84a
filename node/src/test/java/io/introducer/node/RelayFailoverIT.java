package io.introducer.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.client.ClientConfig;
import io.introducer.client.ConnectOptions;
import io.introducer.client.ConnectPolicy;
import io.introducer.client.IntroducerClient;
import io.introducer.client.Path;
import io.introducer.client.PeerChannel;
import io.introducer.client.relay.TurnClient;
import io.introducer.client.testing.NatBehavior;
import io.introducer.client.testing.NatSimulator;
import io.introducer.client.testing.SimulatedNat;
import io.introducer.node.NodeProcesses.Node;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunParseException;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Relay failover across node JVMs (issue 5): three nodes on 127.0.0.11-13 with every role; two SDK peers behind
 * symmetric NATs (simulated, so no direct path exists) both registered on the node whose relay carries their session;
 * that node is killed with -9. Each peer's same PeerChannel must carry traffic again, still relayed, through another
 * node's relay, the peers having re-registered on the nodes left. Measured and printed: re-registration and the
 * resumption of relayed traffic, from the kill. SDK defaults throughout (relay probes every 1 s, relay lost after
 * 3 s of silence).
 *
 * <p>A benchmark too: {@code -Dfailover.trials=5} repeats the kill (restarting the killed node in between, and killing
 * each node in turn) and prints a table (docs/BENCHMARKS.md, "Relay failover").
 */
class RelayFailoverIT {
  /** On a private copy of the fat jar (a build running meanwhile rewrites the original under the node JVMs). */
  private final NodeProcesses cluster = new NodeProcesses("failover-it-", "failover-it-").privateJar()
      .scrubEnvironment().nodeEnv(RelayFailoverIT::pickUdpPorts);
  private List<Node> nodes;
  private final List<Ballast> ballasts = new ArrayList<>();

  /** One kill: what was measured, in ms from the kill (-1: did not happen within the bound). */
  record Trial(String victim, long reRegisteredA, long reRegisteredB, long resumedAToB, long resumedBToA,
      String newRelay) {}

  @AfterEach
  void stopAll() throws Exception {
    ballasts.forEach(Ballast::close);
    cluster.close();
  }

  // ------------------------------------------------------------------------------------------- nodes

  /**
   * Fresh UDP ports for a node's introducer (and its RFC 5780 alternate port, which would otherwise be the fixed 3480
   * of conf/node.json, which other clusters on these IPs may hold) and relay: at creation, and again at a restart,
   * since the killed JVM's ports may be reused meanwhile.
   */
  private static void pickUdpPorts(String ip, Map<String, String> env) throws IOException {
    env.put("INTRODUCER_INTRODUCER_PORT", String.valueOf(NodeProcesses.freeUdp(ip)));
    env.put("INTRODUCER_INTRODUCER_ALTERNATE_PORT", String.valueOf(NodeProcesses.freeUdp(ip)));
    env.put("INTRODUCER_RELAY_PORT", String.valueOf(NodeProcesses.freeUdp(ip)));
  }

  // ------------------------------------------------------------------------------------------ ballast

  /**
   * One TURN allocation (the node's long-term development user) that makes a relay look busier than an idle one, so
   * that the cluster's least-loaded choice falls on the relay the test wants to kill.
   */
  static final class Ballast implements AutoCloseable {
    private final DatagramSocket socket;
    private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "ballast-control");
      t.setDaemon(true);
      return t;
    });
    private final TurnClient client;

    Ballast(InetSocketAddress relay) throws Exception {
      socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
      client = new TurnClient(new TurnClient.Io() {
        @Override
        public void send(byte[] datagram, InetSocketAddress target) {
          try {
            socket.send(new DatagramPacket(datagram, datagram.length, target));
          } catch (IOException e) {
            // best effort
          }
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable task, long delayMillis) {
          return control.isShutdown() ? null : control.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
        }

        @Override
        public boolean execute(Runnable task) {
          if (control.isShutdown()) {
            return false;
          }
          control.execute(task);
          return true;
        }
      }, relay, "demo", "demo-secret", TurnClient.Settings.defaults(Duration.ofSeconds(3)));
      Thread rx = new Thread(() -> {
        byte[] buf = new byte[2048];
        while (!socket.isClosed()) {
          DatagramPacket p = new DatagramPacket(buf, buf.length);
          try {
            socket.receive(p);
            StunMessage m = StunMessage.decode(java.util.Arrays.copyOf(p.getData(), p.getLength()));
            control.execute(() -> client.onResponse(m));
          } catch (IOException | StunParseException | RuntimeException e) {
            // closed, or not STUN
          }
        }
      }, "ballast-rx");
      rx.setDaemon(true);
      rx.start();
      java.util.concurrent.CompletableFuture<InetSocketAddress> done = new java.util.concurrent.CompletableFuture<>();
      control.execute(() -> client.allocate().whenComplete((a, e) -> {
        if (e != null) {
          done.completeExceptionally(e);
        } else {
          done.complete(a);
        }
      }));
      done.get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
      try {
        java.util.concurrent.CompletableFuture<Void> closed = new java.util.concurrent.CompletableFuture<>();
        control.execute(() -> client.close().whenComplete((v, e) -> closed.complete(null)));
        closed.get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        // the relay may be gone
      }
      control.shutdownNow();
      socket.close();
    }
  }

  // ------------------------------------------------------------------------------------------- peers

  private static IntroducerClient peer(String id, SimulatedNat nat, List<InetSocketAddress> servers,
      List<Long> registeredAt) throws Exception {
    ClientConfig config = NodeProcesses.demoPeer(id, servers, registeredAt)
        .transportFactory(nat.addHost())
        .natDiscovery(false)
        .build();
    return IntroducerClient.start(config).get(30, TimeUnit.SECONDS);
  }

  /** Numbered messages every 20 ms (bounded), and when each arrived. */
  static final class Stream implements AutoCloseable {
    final AtomicInteger sent = new AtomicInteger();
    final List<long[]> received = new CopyOnWriteArrayList<>();
    private final Thread sender;
    private volatile boolean stop;

    Stream(PeerChannel from, PeerChannel to) {
      to.onMessage(b -> received.add(new long[] {ByteBuffer.wrap(b).getInt(), System.nanoTime()}));
      sender = new Thread(() -> {
        for (int i = 0; i < 10_000 && !stop; i++) {
          if (from.isOpen()) {
            from.send(ByteBuffer.allocate(4).putInt(sent.incrementAndGet()).array());
          }
          try {
            Thread.sleep(20);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "failover-it-stream");
      sender.setDaemon(true);
      sender.start();
    }

    long firstArrivalAfter(int sequence) {
      return received.stream().filter(r -> r[0] > sequence).mapToLong(r -> r[1]).min().orElse(-1);
    }

    @Override
    public void close() throws InterruptedException {
      stop = true;
      sender.join(2_000);
    }
  }

  private static long since(long t0, long t) {
    return t < 0 ? -1 : TimeUnit.NANOSECONDS.toMillis(t - t0);
  }

  private static long firstAfter(List<Long> times, long t0) {
    return times.stream().filter(t -> t > t0).mapToLong(Long::longValue).min().orElse(-1);
  }

  /** Kills {@code victim} under a relayed session whose relay and introducer it is, and measures the recovery. */
  private Trial killUnderSession(int trial, Node victim) throws Exception {
    List<Node> others = nodes.stream().filter(n -> n != victim).toList();
    for (Node n : others) {
      ballasts.add(new Ballast(n.relay()));
    }
    Thread.sleep(2_500); // the relays report their load every 2 s
    List<InetSocketAddress> servers = new ArrayList<>();
    servers.add(victim.introducer());
    others.forEach(n -> servers.add(n.introducer()));
    List<Long> aRegistered = new CopyOnWriteArrayList<>();
    List<Long> bRegistered = new CopyOnWriteArrayList<>();
    try (NatSimulator sim = new NatSimulator(41 + trial);
        IntroducerClient a = peer("alice-" + trial, sim.addNat(NatBehavior.symmetricRandom()), servers, aRegistered);
        IntroducerClient b = peer("bob-" + trial, sim.addNat(NatBehavior.symmetricRandom()), servers, bRegistered)) {
      BlockingQueue<PeerChannel> toB = new LinkedBlockingQueue<>();
      b.onIncoming(toB::add);
      PeerChannel ab = a.connect("bob-" + trial, ConnectOptions.policy(ConnectPolicy.RELAY_FIRST))
          .get(20, TimeUnit.SECONDS);
      PeerChannel ba = toB.poll(20, TimeUnit.SECONDS);
      assertThat(ba).isNotNull();
      assertThat(ab.path()).isEqualTo(Path.RELAY);
      assertThat(ba.path()).isEqualTo(Path.RELAY);
      assertThat(ba.remoteAddress().getAddress().getHostAddress())
          .as("the session relays through the victim's relay").isEqualTo(victim.ip());
      ballasts.forEach(Ballast::close);
      ballasts.clear();
      try (Stream aToB = new Stream(ab, ba); Stream bToA = new Stream(ba, ab)) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while ((aToB.received.size() < 20 || bToA.received.size() < 20) && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertThat(aToB.received).as("relayed traffic before the kill").hasSizeGreaterThan(10);
        int aSent = aToB.sent.get();
        int bSent = bToA.sent.get();
        long killed = System.nanoTime();
        victim.process().destroyForcibly(); // kill -9: relay, introducer and registrations gone at once
        deadline = killed + TimeUnit.SECONDS.toNanos(30);
        while ((aToB.firstArrivalAfter(aSent) < 0 || bToA.firstArrivalAfter(bSent) < 0
            || firstAfter(aRegistered, killed) < 0 || firstAfter(bRegistered, killed) < 0)
            && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        Trial t = new Trial(victim.ip(), since(killed, firstAfter(aRegistered, killed)),
            since(killed, firstAfter(bRegistered, killed)), since(killed, aToB.firstArrivalAfter(aSent)),
            since(killed, bToA.firstArrivalAfter(bSent)),
            ba.remoteAddress().getAddress().getHostAddress());
        System.out.printf(Locale.ROOT, "[relay failover] trial %d: killed %s; re-registered after %d ms (alice) and %d ms"
            + " (bob); relayed traffic resumed after %d ms (alice->bob) and %d ms (bob->alice), now through %s%n",
            trial, t.victim(), t.reRegisteredA(), t.reRegisteredB(), t.resumedAToB(), t.resumedBToA(), t.newRelay());
        assertThat(ab.isOpen()).isTrue();
        assertThat(ba.isOpen()).isTrue();
        assertThat(ab.path()).isEqualTo(Path.RELAY);
        assertThat(ba.path()).isEqualTo(Path.RELAY);
        assertThat(a.connect("bob-" + trial).get(10, TimeUnit.SECONDS)).as("the same channel").isSameAs(ab);
        assertThat(toB).as("no second channel").isEmpty();
        return t;
      }
    }
  }

  @Test
  void relayedSessionsSurviveTheKillOfTheNodeCarryingThem() throws Exception {
    int trials = Integer.getInteger("failover.trials", 1);
    nodes = cluster.create(3);
    cluster.startAll();
    cluster.awaitReady(nodes, 3, 90);
    List<Trial> results = new ArrayList<>();
    for (int i = 0; i < trials; i++) {
      Node victim = nodes.get(i % nodes.size());
      Trial t = killUnderSession(i, victim);
      results.add(t);
      assertThat(t.resumedAToB()).as("alice->bob resumed (loose bound; target 5 s)").isBetween(0L, 15_000L);
      assertThat(t.resumedBToA()).as("bob->alice resumed (loose bound; target 5 s)").isBetween(0L, 15_000L);
      assertThat(t.reRegisteredA()).as("alice re-registered").isBetween(0L, 15_000L);
      assertThat(t.reRegisteredB()).as("bob re-registered").isBetween(0L, 15_000L);
      if (i + 1 < trials) {
        assertThat(victim.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
        pickUdpPorts(victim.ip(), victim.env());
        cluster.start(victim);
        if (victim.process().waitFor(15, TimeUnit.SECONDS)) {
          pickUdpPorts(victim.ip(), victim.env());
          cluster.start(victim); // exited at once (a port taken meanwhile): once more, as systemd would
        }
        cluster.awaitReady(nodes, 3, 90);
      }
    }
    if (trials > 1) {
      System.out.println("\n| trial | killed node | alice re-registered ms | bob re-registered ms"
          + " | alice->bob resumed ms | bob->alice resumed ms | new relay |");
      System.out.println("|---|---|---|---|---|---|---|");
      for (int i = 0; i < results.size(); i++) {
        Trial t = results.get(i);
        System.out.printf(Locale.ROOT, "| %d | %s | %d | %d | %d | %d | %s |%n", i + 1, t.victim(), t.reRegisteredA(),
            t.reRegisteredB(), t.resumedAToB(), t.resumedBToA(), t.newRelay());
      }
    }
  }
}
