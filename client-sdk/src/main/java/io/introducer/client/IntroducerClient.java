package io.introducer.client;

import io.introducer.client.transport.DatagramTransport;
import io.introducer.protocol.Demux;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A peer of the Introducer rendezvous service: registers with the introducer, connects to other peers
 * by peer id through hole punching, and accepts their connections.
 *
 * <pre>{@code
 * IntroducerClient client = IntroducerClient.start(config).get();
 * client.onIncoming(channel -> channel.onMessage(bytes -> handle(channel, bytes)));
 * PeerChannel channel = client.connect("other-peer").get();
 * channel.send(payload);
 * }</pre>
 *
 * <p>One UDP socket carries everything. Three daemon threads serve a client: a receiver that reads the
 * socket (and calls {@link PeerChannel#onMessage} listeners directly, so those must not block), a
 * control thread that owns all protocol state, and a callback thread (unless a
 * {@link ClientConfig.Builder#callbackExecutor} is given) on which futures complete and listeners run,
 * so user code can never stall the protocol.
 */
public final class IntroducerClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(IntroducerClient.class);
  private static final int RECEIVE_BUFFER = 65536;
  /** STUN messages waiting for the control thread; beyond this a flood is dropped, not queued. */
  private static final int MAX_PENDING_DISPATCH = 1024;

  private final ClientRuntime rt;
  private final Transactions transactions;
  private final Registration registration;
  private final Sessions sessions;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final CompletableFuture<Void> terminated = new CompletableFuture<>();
  private final Thread receiver;
  private final AtomicInteger pendingDispatch = new AtomicInteger();

  private IntroducerClient(ClientConfig config, DatagramTransport transport) {
    this.rt = new ClientRuntime(config, transport);
    this.transactions = new Transactions(rt);
    this.registration = new Registration(rt, transactions);
    this.sessions = new Sessions(rt, transactions, registration);
    this.receiver = rt.startReceiver(this::receiveLoop);
  }

  /**
   * Opens the client's socket and registers with the introducer (trying each configured server in
   * turn when one does not answer). The future completes once registered, or fails with a
   * {@link ConnectException} whose reason says why (e.g. {@code "registration refused: 401 bad integrity"}).
   */
  public static CompletableFuture<IntroducerClient> start(ClientConfig config) {
    Objects.requireNonNull(config, "config");
    DatagramTransport transport;
    try {
      transport = config.transportFactory().open(config.bindAddress());
    } catch (IOException e) {
      return CompletableFuture.failedFuture(
          new ConnectException("cannot open a socket on " + config.bindAddress() + ": " + e.getMessage(), e));
    }
    IntroducerClient client = new IntroducerClient(config, transport);
    CompletableFuture<IntroducerClient> started = new CompletableFuture<>();
    client.rt.execute(() -> client.registration.start().whenComplete((address, err) -> {
      if (err == null) {
        client.rt.callback(() -> started.complete(client));
      } else {
        client.close();
        client.rt.callback(() -> started.completeExceptionally(err));
      }
    }));
    return started;
  }

  /** This client's peer id. */
  public String peerId() {
    return rt.config.peerId();
  }

  /** The server-reflexive address (the client's NAT mapping) from the last REGISTER or KEEPALIVE response. */
  public InetSocketAddress publicAddress() {
    return registration.publicAddress();
  }

  /** The address the client's socket is bound to. */
  public InetSocketAddress localAddress() {
    return rt.transport.localAddress();
  }

  /**
   * Opens a channel to {@code peerId}: asks the introducer for an introduction (CONNECT), then punches.
   * If a channel to that peer is already open, completes with it. Fails with a {@link ConnectException}:
   * {@code "unknown peer"} (and other introducer refusals), {@code "introducer did not answer"},
   * {@code "punch timed out"}, {@code "connect timed out"} or {@code "client closed"}.
   *
   * @throws IllegalArgumentException if {@code peerId} is not a valid peer id
   */
  public CompletableFuture<PeerChannel> connect(String peerId) {
    Objects.requireNonNull(peerId, "peerId");
    if (!Rendezvous.isValidId(peerId)) {
      throw new IllegalArgumentException("peerId must be 1-64 characters of [A-Za-z0-9._@:-], got: " + peerId);
    }
    CompletableFuture<PeerChannel> future = new CompletableFuture<>();
    if (closing.get() || !rt.execute(() -> sessions.connect(peerId, future))) {
      future.completeExceptionally(new ConnectException("client closed"));
    }
    return future;
  }

  /**
   * Sets the listener for channels other peers open to this one (replacing any earlier one). Channels
   * that opened before a listener was set are handed to it now. Runs on the callback executor.
   */
  public void onIncoming(Consumer<PeerChannel> listener) {
    Objects.requireNonNull(listener, "listener");
    rt.execute(() -> sessions.onIncoming(listener));
  }

  /**
   * Closes every open channel (telling each peer with CLOSE), fails pending connects, deregisters from
   * the introducer (waiting at most 2 s for the answer), then closes the socket and stops the client's
   * threads. Idempotent; safe to call from any thread, including the client's own callbacks (which then
   * do not wait).
   */
  @Override
  public void close() {
    if (closing.compareAndSet(false, true)) {
      if (!rt.execute(this::shutdown)) {
        teardown();
      }
    }
    if (rt.isInternalThread()) {
      return;
    }
    try {
      terminated.get(Registration.DEREGISTER_TIMEOUT.toMillis() + 3_000, TimeUnit.MILLISECONDS);
      receiver.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.warn("{} did not shut down cleanly: {}", peerId(), e.toString());
    }
  }

  /** Control thread: protocol goodbyes first, then resources. */
  private void shutdown() {
    sessions.closeAll();
    registration.stop().whenComplete((r, e) -> teardown());
  }

  private void teardown() {
    transactions.cancelAll(new ConnectException("client closed"));
    try {
      rt.transport.close();
    } catch (IOException e) {
      log.debug("closing transport: {}", e.toString());
    }
    rt.shutdownThreads();
    terminated.complete(null);
    log.info("{} closed", peerId());
  }

  /** Datagrams dropped as malformed, unauthenticated or unexpected (for tests and diagnostics). */
  long droppedDatagrams() {
    return rt.dropped();
  }

  // ------------------------------------------------------------------------------------------ receive

  private void receiveLoop() {
    ByteBuffer buf = ByteBuffer.allocate(RECEIVE_BUFFER);
    while (true) {
      buf.clear();
      InetSocketAddress source;
      try {
        source = rt.transport.receive(buf);
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (closing.get()) {
          return;
        }
        log.warn("{} receive failed: {}", peerId(), e.toString());
        continue;
      }
      buf.flip();
      if (source == null) {
        continue;
      }
      if (!buf.hasRemaining()) {
        rt.countDrop("empty datagram", source);
        continue;
      }
      try {
        demux(buf, source);
      } catch (RuntimeException e) {
        // Whatever arrives, the receiver thread must survive it.
        log.error("{} failed to handle a datagram from {}", peerId(), source, e);
      }
    }
  }

  private void demux(ByteBuffer buf, InetSocketAddress source) {
    byte[] datagram = new byte[buf.remaining()];
    buf.get(datagram);
    switch (Demux.classify(datagram[0])) {
      case STUN -> {
        StunMessage m;
        try {
          m = StunMessage.decode(datagram);
        } catch (StunParseException e) {
          rt.countDrop("malformed STUN (" + e.reason() + ")", source);
          return;
        }
        if (pendingDispatch.incrementAndGet() > MAX_PENDING_DISPATCH) {
          pendingDispatch.decrementAndGet();
          rt.countDrop("control thread overloaded", source);
        } else if (!rt.execute(() -> {
          pendingDispatch.decrementAndGet();
          dispatch(m, source);
        })) {
          rt.countDrop("client closed", source);
        }
      }
      case APP_DATA -> {
        Channel ch = sessions.route(source);
        byte[] payload = new byte[datagram.length - 1];
        System.arraycopy(datagram, 1, payload, 0, payload.length);
        if (ch != null) {
          ch.deliver(payload);
        } else if (!sessions.holdEarly(source, payload)) {
          rt.countDrop("data from an address without a channel", source);
        }
      }
      default -> rt.countDrop("unknown first byte " + (datagram[0] & 0xFF), source);
    }
  }

  /** Control thread: one STUN message to whoever handles it. */
  private void dispatch(StunMessage m, InetSocketAddress source) {
    boolean handled = switch (m.method()) {
      case StunMethods.REGISTER, StunMethods.KEEPALIVE, StunMethods.CONNECT, StunMethods.RESULT,
          StunMethods.DEREGISTER -> m.messageClass().isResponse() && transactions.onResponse(m, source);
      case StunMethods.INTRODUCE -> m.messageClass() == StunClass.REQUEST && sessions.onIntroduce(m, source);
      case StunMethods.PUNCH, StunMethods.CLOSE -> sessions.onPeerMessage(m, source);
      default -> false;
    };
    if (!handled) {
      rt.countDrop("unexpected or unauthenticated " + m, source);
    }
  }

  @Override
  public String toString() {
    return "IntroducerClient[" + peerId() + " local " + localAddress() + " public " + publicAddress() + "]";
  }
}
