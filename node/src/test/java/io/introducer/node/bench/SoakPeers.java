package io.introducer.node.bench;

import io.introducer.client.ClientConfig;
import io.introducer.client.ConnectException;
import io.introducer.client.ConnectOptions;
import io.introducer.client.ConnectPolicy;
import io.introducer.client.IntroducerClient;
import io.introducer.client.Path;
import io.introducer.client.PeerChannel;
import io.introducer.client.transport.DatagramTransport;
import io.introducer.client.transport.DatagramTransportFactory;
import io.introducer.client.transport.UdpTransportFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The soak's population of SDK peers ({@link IntroducerClient}s in this JVM, each on its own loopback address
 * 127.2.x.y and homed on one node, the others as fallbacks). While running: peers connect to peers homed on another
 * node (a share with {@link ConnectPolicy#RELAY_FIRST}, so they allocate on a node's relay, bind a channel and
 * release the allocation when the direct path opens), keep the channel a while and exchange datagrams that the other
 * side echoes; peers leave (DEREGISTER and Refresh LIFETIME 0 by {@link IntroducerClient#close()}, or silently: the
 * socket is muted first, so nothing of the goodbye leaves and the node must expire the registration and the relay the
 * allocation) and new peers join in their place. Every wait is bounded; the tasks run on a fixed pool.
 */
final class SoakPeers implements AutoCloseable {
  static final String APP = "demo";
  static final String SECRET = "demo-secret";
  private static final int PAYLOAD = 200;

  /** Settings of the population. */
  record Settings(int population, double connectsPerSecond, double leavesPerSecond, double relayFirstShare,
      double silentShare, int minHoldSeconds, int maxHoldSeconds, int sendIntervalMillis) {}

  private final List<InetSocketAddress> servers;
  private final Settings settings;
  private final ExecutorService workers = Executors.newFixedThreadPool(8, daemon("soak-peer-task"));
  private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(daemon("soak-peer-tick"));
  private final Semaphore inFlight = new Semaphore(12);
  private final Map<String, Peer> live = new ConcurrentHashMap<>();
  private final Map<PeerChannel, Long> held = new ConcurrentHashMap<>();
  private final AtomicInteger serial = new AtomicInteger();
  private final AtomicBoolean stopping = new AtomicBoolean();

  final AtomicLong joined = new AtomicLong();
  final AtomicLong joinFailed = new AtomicLong();
  final AtomicLong leftClean = new AtomicLong();
  final AtomicLong leftSilent = new AtomicLong();
  final AtomicLong connects = new AtomicLong();
  final AtomicLong connectsOk = new AtomicLong();
  final AtomicLong relayFirst = new AtomicLong();
  final AtomicLong openedOnRelay = new AtomicLong();
  final AtomicLong movedToDirect = new AtomicLong();
  final AtomicLong sent = new AtomicLong();
  final AtomicLong echoed = new AtomicLong();
  final AtomicLong skippedTicks = new AtomicLong();
  private final SoakFailures failures = new SoakFailures();

  /** One SDK peer. */
  private static final class Peer {
    final String id;
    final int home;
    final MutableTransports transports;
    IntroducerClient client;
    volatile boolean leaving;

    Peer(String id, int home, MutableTransports transports) {
      this.id = id;
      this.home = home;
      this.transports = transports;
    }
  }

  SoakPeers(List<InetSocketAddress> servers, Settings settings) {
    this.servers = List.copyOf(servers);
    this.settings = settings;
  }

  /** Starts the population (in parallel, bounded) and then the load; false when fewer than half could join. */
  boolean start(long timeoutMillis) throws InterruptedException {
    List<Future<?>> starting = new ArrayList<>();
    for (int i = 0; i < settings.population(); i++) {
      int home = i % servers.size();
      starting.add(workers.submit(() -> join(home)));
    }
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    for (Future<?> f : starting) {
      try {
        f.get(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        fail("join: " + e);
      }
    }
    if (live.size() < settings.population() / 2) {
      return false;
    }
    ticker.scheduleAtFixedRate(this::sendTick, 100, settings.sendIntervalMillis(), TimeUnit.MILLISECONDS);
    schedule(settings.connectsPerSecond(), this::connectOne);
    schedule(settings.leavesPerSecond(), this::churnOne);
    return true;
  }

  private void schedule(double perSecond, Runnable task) {
    if (perSecond <= 0) {
      return;
    }
    long periodMicros = Math.max(1000, (long) (1e6 / perSecond));
    ticker.scheduleAtFixedRate(() -> {
      if (stopping.get()) {
        return;
      }
      if (!inFlight.tryAcquire()) {
        skippedTicks.incrementAndGet();
        return;
      }
      try {
        workers.execute(() -> {
          try {
            task.run();
          } catch (RuntimeException e) {
            fail("task: " + e);
          } finally {
            inFlight.release();
          }
        });
      } catch (RuntimeException e) {
        inFlight.release();
      }
    }, periodMicros, periodMicros, TimeUnit.MICROSECONDS);
  }

  int live() {
    return live.size();
  }

  int channelsHeld() {
    return held.size();
  }

  Map<String, Long> failures() {
    return failures.snapshot();
  }

  private void fail(String why) {
    failures.add(why);
  }

  /** Starts one new peer homed on {@code home}; on success it is live. */
  private void join(int home) {
    int n = serial.getAndIncrement();
    String id = "soak-" + n;
    String ip = "127.2." + ((n / 250) % 250) + "." + (n % 250 + 1);
    List<InetSocketAddress> order = new ArrayList<>();
    for (int i = 0; i < servers.size(); i++) {
      order.add(servers.get((home + i) % servers.size()));
    }
    MutableTransports transports = new MutableTransports();
    Peer p = new Peer(id, home, transports);
    ClientConfig config = ClientConfig.builder().servers(order).appId(APP).appSecret(SECRET).peerId(id)
        .bindAddress(new InetSocketAddress(ip, 0)).transportFactory(transports).natDiscovery(false)
        .connectTimeout(Duration.ofSeconds(15)).build();
    try {
      p.client = IntroducerClient.start(config).get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      joinFailed.incrementAndGet();
      fail("join: " + reason(e.getCause()));
      return;
    } catch (TimeoutException e) {
      joinFailed.incrementAndGet();
      fail("join: no answer in 20 s");
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    // The other side of every connect echoes what it gets.
    p.client.onIncoming(ch -> ch.onMessage(bytes -> {
      try {
        ch.send(bytes);
      } catch (IllegalStateException e) {
        // closed meanwhile
      }
    }));
    joined.incrementAndGet();
    live.put(id, p);
  }

  private static String reason(Throwable t) {
    return t instanceof ConnectException ce ? ce.reason() : String.valueOf(t);
  }

  /** One connect from a random peer to a random peer homed on another node; the channel is held a while. */
  private void connectOne() {
    List<Peer> peers = new ArrayList<>(live.values());
    if (peers.size() < 2) {
      return;
    }
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    Peer a = peers.get(rnd.nextInt(peers.size()));
    Peer b = null;
    for (int i = 0; i < 16 && b == null; i++) {
      Peer c = peers.get(rnd.nextInt(peers.size()));
      if (c.home != a.home && !c.leaving) {
        b = c;
      }
    }
    if (b == null || a.leaving) {
      return;
    }
    boolean relay = rnd.nextDouble() < settings.relayFirstShare();
    connects.incrementAndGet();
    if (relay) {
      relayFirst.incrementAndGet();
    }
    PeerChannel ch;
    try {
      ch = a.client.connect(b.id, ConnectOptions.policy(relay ? ConnectPolicy.RELAY_FIRST : ConnectPolicy.AUTO))
          .get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      fail("connect: " + reason(e.getCause()));
      return;
    } catch (TimeoutException e) {
      fail("connect: no answer in 20 s");
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    connectsOk.incrementAndGet();
    if (ch.path() == Path.RELAY) {
      openedOnRelay.incrementAndGet();
    }
    ch.onPathChange(path -> {
      if (path == Path.DIRECT) {
        movedToDirect.incrementAndGet();
      }
    });
    ch.onMessage(bytes -> echoed.incrementAndGet());
    ch.onClose(why -> held.remove(ch));
    int hold = settings.minHoldSeconds() + rnd.nextInt(Math.max(1, settings.maxHoldSeconds() - settings.minHoldSeconds() + 1));
    held.put(ch, System.nanoTime() + hold * 1_000_000_000L);
  }

  /** One peer leaves (cleanly or silently) and a new one joins in its place. */
  private void churnOne() {
    List<Peer> peers = new ArrayList<>(live.values());
    if (peers.isEmpty()) {
      return;
    }
    Peer p = peers.get(ThreadLocalRandom.current().nextInt(peers.size()));
    if (live.remove(p.id) == null) {
      return;
    }
    leave(p, ThreadLocalRandom.current().nextDouble() < settings.silentShare());
    if (!stopping.get()) {
      join(p.home);
    }
  }

  private void leave(Peer p, boolean silent) {
    p.leaving = true;
    if (silent) {
      p.transports.mute(); // nothing of the goodbye leaves: no CLOSE, no DEREGISTER, no Refresh LIFETIME 0
    }
    p.client.close(); // bounded: waits at most ~5 s for the goodbyes
    (silent ? leftSilent : leftClean).incrementAndGet();
  }

  /** Every held channel sends one datagram; channels past their hold time are closed. */
  private void sendTick() {
    long now = System.nanoTime();
    byte[] payload = new byte[PAYLOAD];
    for (Map.Entry<PeerChannel, Long> e : held.entrySet()) {
      PeerChannel ch = e.getKey();
      if (now >= e.getValue() || !ch.isOpen()) {
        held.remove(ch);
        ch.close();
        continue;
      }
      try {
        ch.send(payload);
        sent.incrementAndGet();
      } catch (IllegalStateException ex) {
        held.remove(ch);
      }
    }
  }

  /** Stops the load, then every peer leaves cleanly (in parallel, bounded). */
  @Override
  public void close() {
    stopping.set(true);
    ticker.shutdownNow();
    workers.shutdown();
    try {
      workers.awaitTermination(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (PeerChannel ch : new ArrayList<>(held.keySet())) {
      ch.close();
    }
    held.clear();
    ExecutorService closers = Executors.newFixedThreadPool(16, daemon("soak-peer-leave"));
    List<Peer> all = new ArrayList<>(live.values());
    live.clear();
    for (Peer p : all) {
      closers.execute(() -> leave(p, false));
    }
    closers.shutdown();
    try {
      closers.awaitTermination(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Real UDP sockets that can be muted: a muted socket drops what it is asked to send (a silent leave). */
  static final class MutableTransports implements DatagramTransportFactory {
    private final UdpTransportFactory udp = new UdpTransportFactory();
    private volatile boolean muted;

    void mute() {
      muted = true;
    }

    @Override
    public DatagramTransport open(InetSocketAddress bindAddress) throws IOException {
      DatagramTransport t = udp.open(bindAddress);
      return new DatagramTransport() {
        @Override
        public InetSocketAddress localAddress() {
          return t.localAddress();
        }

        @Override
        public void send(ByteBuffer data, InetSocketAddress target) throws IOException {
          if (!muted) {
            t.send(data, target);
          }
        }

        @Override
        public InetSocketAddress receive(ByteBuffer dst) throws IOException {
          return t.receive(dst);
        }

        @Override
        public void close() throws IOException {
          t.close();
        }
      };
    }

    @Override
    public List<InetAddress> hostAddresses() {
      return udp.hostAddresses();
    }
  }
}
