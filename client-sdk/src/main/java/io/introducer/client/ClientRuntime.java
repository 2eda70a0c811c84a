package io.introducer.client;

import io.introducer.client.transport.DatagramTransport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.Executor;
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
  private final ScheduledThreadPoolExecutor control;
  private final Executor callbackExecutor;
  private final ExecutorService ownedCallbackThread;
  private final AtomicLong dropped = new AtomicLong();
  private volatile Thread controlThread;
  private volatile Thread callbackThread;
  private volatile Thread receiverThread;

  ClientRuntime(ClientConfig config, DatagramTransport transport) {
    this.config = config;
    this.wire = new Wire(config.appId(), config.peerId(), config.peerKey());
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
    try {
      transport.send(ByteBuffer.wrap(datagram), target);
    } catch (ClosedChannelException e) {
      log.debug("send to {} after close", target);
    } catch (IOException e) {
      log.debug("send to {} failed: {}", target, e.toString());
    }
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

  /** Starts the receiver thread running {@code loop}. */
  Thread startReceiver(Runnable loop) {
    Thread t = daemon("introducer-client-" + config.peerId() + "-receiver", x -> {}).newThread(loop);
    receiverThread = t;
    t.start();
    return t;
  }

  /** True on one of this client's own threads, which must never wait for the client's shutdown. */
  boolean isInternalThread() {
    Thread t = Thread.currentThread();
    return t == controlThread || t == callbackThread || t == receiverThread;
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
