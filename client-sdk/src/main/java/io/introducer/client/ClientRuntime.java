package io.introducer.client;

import io.introducer.client.relay.RelayPool;
import io.introducer.client.relay.TurnClient;
import io.introducer.client.transport.DatagramTransport;
import io.introducer.protocol.rendezvous.NatProfile;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every part of one client shares: its socket, the single control thread that owns all protocol
 * state, and the executor user callbacks run on.
 */
final class ClientRuntime {
  private static final Logger log = LoggerFactory.getLogger(ClientRuntime.class);

  final ClientConfig config;
  final Wire wire;
  final DatagramTransport transport;
  /** TURN allocations on the client's socket; peers reached through one have tunnel addresses. */
  final RelayPool relays;
  /**
   * Wall clock for what is measured against other hosts' clocks: when TURN REST credentials (username
   * {@code expiry:peerId}) are renewed. Tests replace it ({@link IntroducerClient#useClock}).
   */
  volatile java.time.Clock clock = java.time.Clock.systemUTC();
  private final ScheduledThreadPoolExecutor control;
  private final Executor callbackExecutor;
  private final ExecutorService ownedCallbackThread;
  private final AtomicLong dropped = new AtomicLong();
  private volatile Thread controlThread;
  private volatile Thread callbackThread;
  private volatile Thread receiverThread;
  /** Receiver threads of extra sockets (birthday sessions); internal like the main one. */
  private final Set<Thread> extraReceivers = ConcurrentHashMap.newKeySet();
  private volatile Consumer<DatagramTransport> receiveLoop;
  /** The NAT behaviour measured at start ({@link NatDiscovery}); UNKNOWN when not measured. */
  private volatile NatProfile natProfile = NatProfile.UNKNOWN;
  private volatile InetSocketAddress serverReflexive;
  private volatile InetSocketAddress reflexiveServer;
  /**
   * Distinct destinations (and destination addresses) the main socket has sent to: how many mappings an
   * endpoint-dependent NAT has allocated for it, which port prediction needs (see {@link PunchPlan}).
   */
  private final Set<InetSocketAddress> destinations = ConcurrentHashMap.newKeySet();
  private final Set<java.net.InetAddress> destinationAddresses = ConcurrentHashMap.newKeySet();
  static final int MAX_TRACKED_DESTINATIONS = 65_536;

  ClientRuntime(ClientConfig config, DatagramTransport transport) {
    this.config = config;
    this.wire = new Wire(config.appId(), config.peerId(), config.peerKey(), config.tokenExpiry());
    this.transport = transport;
    String prefix = "introducer-client-" + config.peerId();
    this.control = new ScheduledThreadPoolExecutor(1, daemon(prefix + "-control", t -> controlThread = t));
    // Timers of a closed client must not fire.
    control.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    control.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
    control.setRemoveOnCancelPolicy(true);
    if (config.callbackExecutor().isPresent()) {
      this.ownedCallbackThread = null;
      this.callbackExecutor = config.callbackExecutor().get();
    } else {
      this.ownedCallbackThread =
          Executors.newSingleThreadExecutor(daemon(prefix + "-callbacks", t -> callbackThread = t));
      this.callbackExecutor = ownedCallbackThread;
    }
    this.relays = new RelayPool(new TurnClient.Io() {
      @Override
      public void send(byte[] datagram, InetSocketAddress target) {
        ClientRuntime.this.send(datagram, target);
      }

      @Override
      public ScheduledFuture<?> schedule(Runnable task, long delayMillis) {
        return ClientRuntime.this.schedule(task, delayMillis);
      }

      @Override
      public boolean execute(Runnable task) {
        return ClientRuntime.this.execute(task);
      }
    }, TurnClient.Settings.defaults(config.requestTimeout()));
  }

  private static ThreadFactory daemon(String name, java.util.function.Consumer<Thread> created) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      created.accept(t);
      return t;
    };
  }

  /** Runs {@code task} on the control thread; false if the client is shut down. */
  boolean execute(Runnable task) {
    try {
      control.execute(guarded(task));
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  /** Schedules {@code task} on the control thread; null if the client is shut down. */
  ScheduledFuture<?> schedule(Runnable task, long delayMillis) {
    try {
      return control.schedule(guarded(task), Math.max(0, delayMillis), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      return null;
    }
  }

  /** Runs user code on the callback executor; its exceptions are logged, never propagated into the SDK. */
  void callback(Runnable userCode) {
    Runnable safe = () -> {
      try {
        userCode.run();
      } catch (RuntimeException e) {
        log.warn("user callback threw", e);
      }
    };
    try {
      callbackExecutor.execute(safe);
    } catch (RejectedExecutionException e) {
      // A shut-down user executor must not leave futures hanging forever.
      safe.run();
    }
  }

  /** Sends one datagram; UDP is best effort, so an I/O failure is logged and the datagram counts as lost. */
  void send(byte[] datagram, InetSocketAddress target) {
    send(datagram, target, transport);
  }

  /** Sends one datagram from {@code via}: the client's socket, or an extra socket of a session. */
  void send(byte[] datagram, InetSocketAddress target, DatagramTransport via) {
    if (RelayPool.isTunnel(target)) {
      relays.send(target, datagram); // a peer reached through one of our TURN allocations
      return;
    }
    if (via == transport && destinations.size() < MAX_TRACKED_DESTINATIONS && destinations.add(target)) {
      destinationAddresses.add(target.getAddress());
    }
    try {
      via.send(ByteBuffer.wrap(datagram), target);
    } catch (ClosedChannelException e) {
      log.debug("send to {} after close", target);
    } catch (IOException e) {
      log.debug("send to {} failed: {}", target, e.toString());
    }
  }

  NatProfile natProfile() {
    return natProfile;
  }

  /** The client's server-reflexive address as the introducer last saw it (REGISTER, KEEPALIVE); null before. */
  InetSocketAddress serverReflexive() {
    return serverReflexive;
  }

  /** The introducer that saw {@link #serverReflexive()}. */
  InetSocketAddress reflexiveServer() {
    return reflexiveServer;
  }

  void serverReflexive(InetSocketAddress server, InetSocketAddress address) {
    this.reflexiveServer = server;
    this.serverReflexive = address;
  }

  void natProfile(NatProfile profile) {
    this.natProfile = profile;
  }

  /**
   * How many new mappings an endpoint-dependent NAT made for the main socket after its first one (the
   * introducer's server-reflexive view of it): distinct destinations (ADM: destination addresses) sent to, less one.
   */
  int mappingsSinceFirst() {
    int n = natProfile.mapping() == NatProfile.Mapping.ADM ? destinationAddresses.size() : destinations.size();
    return Math.max(0, n - 1);
  }

  void countDrop(String why, InetSocketAddress source) {
    dropped.incrementAndGet();
    log.debug("dropped datagram from {}: {}", source, why);
  }

  long dropped() {
    return dropped.get();
  }

  static long nowNanos() {
    return System.nanoTime();
  }

  /** Stops the control thread (after the running task) and the SDK-owned callback thread (after queued callbacks). */
  void shutdownThreads() {
    control.shutdown();
    if (ownedCallbackThread != null) {
      ownedCallbackThread.shutdown();
    }
  }

  /** Starts the receiver thread of the client's socket; {@code loop} reads one socket until it closes. */
  Thread startReceiver(Consumer<DatagramTransport> loop) {
    this.receiveLoop = loop;
    Thread t = daemon("introducer-client-" + config.peerId() + "-receiver", x -> {}).newThread(() -> loop.accept(transport));
    receiverThread = t;
    t.start();
    return t;
  }

  /**
   * Starts a receiver for an extra socket (a birthday session's): the same demultiplexing as the client's socket.
   * The thread ends when {@code extra} is closed. Small stack: a birthday session may run hundreds of these.
   */
  void startExtraReceiver(DatagramTransport extra) {
    Consumer<DatagramTransport> loop = receiveLoop;
    Thread t = new Thread(null, () -> {
      try {
        loop.accept(extra);
      } finally {
        extraReceivers.remove(Thread.currentThread());
      }
    }, "introducer-client-" + config.peerId() + "-receiver-" + extra.localAddress().getPort(), 256 * 1024);
    t.setDaemon(true);
    extraReceivers.add(t);
    t.start();
  }

  /** True on one of this client's own threads, which must never wait for the client's shutdown. */
  boolean isInternalThread() {
    Thread t = Thread.currentThread();
    return t == controlThread || t == callbackThread || t == receiverThread || extraReceivers.contains(t);
  }

  private static Runnable guarded(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        // A bug in one handler must not kill the control thread (and with it the client).
        log.error("internal error on the control thread", e);
      }
    };
  }
}
