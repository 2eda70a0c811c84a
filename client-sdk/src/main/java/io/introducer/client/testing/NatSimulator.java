package io.introducer.client.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process NAT lab for tests. Each {@link SimulatedNat} owns a public address in 127.0.0.0/8
 * outside 127.0.0.x (such as 127.0.14.3) and opens real loopback UDP sockets as its external mappings,
 * so a real introducer sees real source addresses; the hosts behind it get virtual sockets with private
 * addresses (10.0.N.x) through a {@link SimulatedHost}, which is a
 * {@link io.introducer.client.transport.DatagramTransportFactory}.
 *
 * <pre>{@code
 * try (NatSimulator sim = new NatSimulator(42)) {
 *   SimulatedHost alice = sim.addNat(NatBehavior.portRestrictedCone()).addHost();
 *   ClientConfig config = ClientConfig.builder().transportFactory(alice)...build();
 * }
 * }</pre>
 *
 * <p>Two threads serve every NAT of a simulator ({@code nat-sim-N-io} reads all mapping sockets,
 * {@code nat-sim-N-timer} runs delays and mapping expiry). {@link #close()} releases every socket and
 * both threads. Packets are never sent outside 127.0.0.0/8.
 */
public final class NatSimulator implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NatSimulator.class);
  /**
   * Public addresses are unique in the JVM so that two simulators never mistake each other's NATs for
   * their own; the start depends on the process id so that concurrent test JVMs rarely share one.
   */
  private static final AtomicInteger NEXT_PUBLIC_ADDRESS =
      new AtomicInteger((int) (ProcessHandle.current().pid() * 509 % (254 * 254)));
  private static final int MAX_READS_PER_WAKEUP = 64;
  private static final AtomicInteger NEXT_ID = new AtomicInteger(1);

  private final long seed;
  private final Selector selector;
  private final Thread io;
  private final ScheduledThreadPoolExecutor timer;
  private final ConcurrentLinkedQueue<Runnable> ioTasks = new ConcurrentLinkedQueue<>();
  private final List<SimulatedNat> nats = new ArrayList<>();
  private volatile boolean closed;

  /** A simulator with a fixed default seed (runs are repeatable). */
  public NatSimulator() {
    this(0x5EED);
  }

  /** A simulator whose random choices (loss, random ports) derive from {@code seed}. */
  public NatSimulator(long seed) {
    this.seed = seed;
    String name = "nat-sim-" + NEXT_ID.getAndIncrement();
    try {
      this.selector = Selector.open();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open a selector", e);
    }
    this.timer = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, name + "-timer");
      t.setDaemon(true);
      return t;
    });
    timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    timer.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
    this.io = new Thread(this::ioLoop, name + "-io");
    io.setDaemon(true);
    io.start();
    timer.scheduleWithFixedDelay(this::expireMappings, 100, 100, TimeUnit.MILLISECONDS);
  }

  /**
   * Adds a NAT with its own public address.
   *
   * @throws IllegalStateException if the simulator is closed
   */
  public synchronized SimulatedNat addNat(NatBehavior behavior) {
    Objects.requireNonNull(behavior, "behavior");
    if (closed) {
      throw new IllegalStateException("simulator is closed");
    }
    int index = nats.size() + 1;
    if (index > 254) {
      throw new IllegalStateException("at most 254 NATs per simulator");
    }
    SimulatedNat nat = new SimulatedNat(this, behavior, index, nextPublicAddress(), seed * 1_000_003L + index);
    nats.add(nat);
    return nat;
  }

  private static InetAddress nextPublicAddress() {
    int n = NEXT_PUBLIC_ADDRESS.getAndIncrement() % (254 * 254);
    byte[] ip = {127, 0, (byte) (1 + n / 254), (byte) (1 + n % 254)};
    try {
      return InetAddress.getByAddress(ip);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e); // four bytes are always a valid address
    }
  }

  /** Closes every NAT's sockets and stops the simulator's threads. Idempotent. */
  @Override
  public void close() {
    List<SimulatedNat> all;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      all = new ArrayList<>(nats);
    }
    all.forEach(SimulatedNat::close);
    timer.shutdownNow();
    selector.wakeup();
    try {
      io.join(2_000);
      timer.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // --- services for the NATs

  /** Starts reading a mapping's socket on the I/O thread. */
  void watch(DatagramChannel socket, NatMapping mapping, SimulatedNat nat) {
    ioTasks.add(() -> {
      try {
        if (socket.isOpen()) {
          socket.register(selector, SelectionKey.OP_READ, new Watched(nat, mapping));
        }
      } catch (IOException e) {
        log.debug("cannot watch {}: {}", mapping.external, e.toString());
      }
    });
    selector.wakeup();
  }

  /** Lets the I/O thread finish closing sockets whose keys were cancelled. */
  void wakeup() {
    selector.wakeup();
  }

  /** Runs {@code task} after {@code delay} on the timer thread, or at once when there is no delay. */
  void later(Duration delay, Runnable task) {
    if (delay.isZero()) {
      task.run();
      return;
    }
    try {
      timer.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      log.debug("simulator closed; delayed packet dropped");
    }
  }

  private record Watched(SimulatedNat nat, NatMapping mapping) {}

  private void ioLoop() {
    ByteBuffer buf = ByteBuffer.allocate(65536);
    try {
      while (!closed) {
        selector.select(500);
        for (Runnable task = ioTasks.poll(); task != null; task = ioTasks.poll()) {
          task.run();
        }
        for (SelectionKey key : selector.selectedKeys()) {
          read(key, buf);
        }
        selector.selectedKeys().clear();
      }
    } catch (IOException | ClosedSelectorException e) {
      log.debug("simulator I/O loop ended: {}", e.toString());
    } finally {
      try {
        selector.close();
      } catch (IOException e) {
        log.debug("closing selector: {}", e.toString());
      }
    }
  }

  private void read(SelectionKey key, ByteBuffer buf) {
    Watched w = (Watched) key.attachment();
    DatagramChannel socket = (DatagramChannel) key.channel();
    for (int i = 0; i < MAX_READS_PER_WAKEUP && key.isValid(); i++) {
      buf.clear();
      InetSocketAddress source;
      try {
        source = (InetSocketAddress) socket.receive(buf);
      } catch (IOException e) {
        key.cancel();
        return;
      }
      if (source == null) {
        return;
      }
      buf.flip();
      byte[] data = new byte[buf.remaining()];
      buf.get(data);
      try {
        w.nat().inbound(w.mapping(), data, source);
      } catch (RuntimeException e) {
        // e.g. a throwing dropFirstInbound predicate: the I/O thread serves every NAT and must survive
        log.error("{} failed on a packet from {}", w.nat(), source, e);
      }
    }
  }

  private void expireMappings() {
    List<SimulatedNat> all;
    synchronized (this) {
      all = new ArrayList<>(nats);
    }
    all.forEach(SimulatedNat::expireIdle);
  }

  @Override
  public String toString() {
    return "NatSimulator[seed=" + seed + ", nats=" + nats.size() + "]";
  }
}
