package io.introducer.client;

import io.introducer.client.relay.RelayPool;
import io.introducer.client.transport.DatagramTransport;
import io.introducer.protocol.Demux;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.introducer.protocol.rendezvous.NatProfile;
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
   * Opens the client's socket, measures the NAT's behaviour ({@link NatDiscovery}, unless
   * {@link ClientConfig.Builder#natDiscovery} turned it off; at most {@link NatDiscovery#CLIENT_BUDGET}) and
   * registers with the introducer (trying each configured server in turn when one does not answer), telling it
   * the NAT profile. The future completes once registered, or fails with a {@link ConnectException} whose reason
   * says why (e.g. {@code "registration refused: 401 bad integrity"}).
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
    Runnable register = () -> client.registration.start().whenComplete((address, err) -> {
      if (err == null) {
        client.rt.callback(() -> started.complete(client));
      } else {
        client.close();
        client.rt.callback(() -> started.completeExceptionally(err));
      }
    });
    if (!config.natDiscovery()) {
      client.rt.execute(register);
      return started;
    }
    // Discovery runs on extra sockets before the client's own socket sends anything: on a sequential
    // endpoint-dependent NAT the registration's mapping is then the newest one, which port prediction relies on.
    Thread discovery = new Thread(() -> {
      client.rt.natProfile(client.discoverNat());
      if (client.closing.get() || !client.rt.execute(register)) {
        started.completeExceptionally(new ConnectException("client closed"));
      }
    }, "introducer-client-" + config.peerId() + "-netcheck");
    discovery.setDaemon(true);
    discovery.start();
    return started;
  }

  private NatProfile discoverNat() {
    InetSocketAddress bind = rt.config.bindAddress();
    try {
      NatDiscovery.Result r = NatDiscovery.builder()
          .servers(rt.config.servers())
          .transportFactory(rt.config.transportFactory())
          .bindAddress(new InetSocketAddress(bind.getAddress(), 0))
          .timeout(rt.config.natDiscoveryTimeout())
          .threadNamePrefix("introducer-client-" + peerId() + "-netcheck")
          .build()
          .run();
      log.info("{} NAT: {}", peerId(), r);
      return r.profile();
    } catch (RuntimeException e) {
      log.warn("{} NAT discovery failed: {}", peerId(), e.toString());
      return NatProfile.UNKNOWN;
    }
  }

  /** This client's peer id. */
  public String peerId() {
    return rt.config.peerId();
  }

  /** The server-reflexive address (the client's NAT mapping) from the last REGISTER or KEEPALIVE response. */
  public InetSocketAddress publicAddress() {
    return registration.publicAddress();
  }

  /**
   * The NAT behaviour measured when the client started ({@link NatDiscovery}) and sent to the introducer with
   * REGISTER; {@link NatProfile#UNKNOWN} when discovery was off or found nothing.
   */
  public NatProfile natProfile() {
    return rt.natProfile();
  }

  /** The address the client's socket is bound to. */
  public InetSocketAddress localAddress() {
    return rt.transport.localAddress();
  }

  /**
   * Opens a channel to {@code peerId}: asks the introducer for an introduction (CONNECT), then punches.
   * If a channel to that peer is already open, completes with it. Fails with a {@link ConnectException}:
   * {@code "unknown peer"} (and other introducer refusals), {@code "introducer did not answer"},
   * {@code "punch timed out"}, {@code "connect timed out"} or {@code "client closed"}. The relay policy is
   * the client's {@link ClientConfig#defaultPolicy()}.
   *
   * @throws IllegalArgumentException if {@code peerId} is not a valid peer id
   */
  public CompletableFuture<PeerChannel> connect(String peerId) {
    return connect(peerId, ConnectOptions.defaults());
  }

  /**
   * Opens a channel to {@code peerId} like {@link #connect(String)}, with these options, e.g.
   * {@code ConnectOptions.policy(ConnectPolicy.RELAY_FIRST)} to be usable through the introducer's TURN relay at
   * once and move to a direct path when punching succeeds (see {@link ConnectPolicy}). Relaying adds the
   * failure reasons {@code "relay required"}, {@code "relay timed out"} and {@code "relay failed: ..."}. The
   * policy applies to the session this call starts; a call that finds a channel open or a connect under way
   * shares it.
   *
   * @throws IllegalArgumentException if {@code peerId} is not a valid peer id
   */
  public CompletableFuture<PeerChannel> connect(String peerId, ConnectOptions options) {
    Objects.requireNonNull(peerId, "peerId");
    Objects.requireNonNull(options, "options");
    ConnectPolicy policy = options.connectPolicy().orElse(rt.config.defaultPolicy());
    if (!Rendezvous.isValidId(peerId)) {
      throw new IllegalArgumentException("peerId must be 1-64 characters of [A-Za-z0-9._@:-], got: " + peerId);
    }
    CompletableFuture<PeerChannel> future = new CompletableFuture<>();
    if (closing.get() || !rt.execute(() -> sessions.connect(peerId, policy, future))) {
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
    // Relay allocations are deleted (Refresh LIFETIME 0) alongside DEREGISTER, waiting at most as long.
    CompletableFuture<Void> relaysClosed = rt.relays.closeAll();
    rt.schedule(() -> relaysClosed.complete(null), Registration.DEREGISTER_TIMEOUT.toMillis());
    registration.stop().whenComplete((r, e) -> relaysClosed.whenComplete((v, e2) -> teardown()));
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

  /** Tests: the wall clock the client judges credential expiry by (relay renewal, PROTOCOL.md section 8). */
  void useClock(java.time.Clock clock) {
    rt.clock = java.util.Objects.requireNonNull(clock, "clock");
  }

  /** Datagrams dropped as malformed, unauthenticated or unexpected (for tests and diagnostics). */
  long droppedDatagrams() {
    return rt.dropped();
  }

  // ------------------------------------------------------------------------------------------ receive

  /** Reads one socket, the client's own or an extra one of a session, until it is closed. */
  private void receiveLoop(DatagramTransport socket) {
    ByteBuffer buf = ByteBuffer.allocate(RECEIVE_BUFFER);
    while (true) {
      buf.clear();
      InetSocketAddress source;
      try {
        source = socket.receive(buf);
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        if (closing.get() || socket != rt.transport) {
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
        demux(buf, source, socket);
      } catch (RuntimeException e) {
        // Whatever arrives, the receiver thread must survive it.
        log.error("{} failed to handle a datagram from {}", peerId(), source, e);
      }
    }
  }

  private void demux(ByteBuffer buf, InetSocketAddress source, DatagramTransport socket) {
    byte[] datagram = new byte[buf.remaining()];
    buf.get(datagram);
    demux(datagram, source, socket);
  }

  /** A non-empty datagram from {@code source}: a real address, or a tunnel address for one a relay carried. */
  private void demux(byte[] datagram, InetSocketAddress source, DatagramTransport socket) {
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
          dispatch(m, source, socket);
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
      case CHANNEL_DATA -> {
        RelayPool.Unwrapped u = socket == rt.transport ? rt.relays.onChannelData(datagram, source) : null;
        if (u != null) {
          fromRelay(u);
        } else {
          rt.countDrop("ChannelData not from an allocation of ours", source);
        }
      }
      default -> rt.countDrop("unknown first byte " + (datagram[0] & 0xFF), source);
    }
  }

  /** What a peer sent to one of our relay allocations: handled as a datagram from its tunnel address. */
  private void fromRelay(RelayPool.Unwrapped u) {
    if (u.datagram().length == 0) {
      rt.countDrop("empty relayed datagram", u.source());
      return;
    }
    demux(u.datagram(), u.source(), rt.transport);
  }

  /** Control thread: one STUN message, received on {@code socket}, to whoever handles it. */
  private void dispatch(StunMessage m, InetSocketAddress source, DatagramTransport socket) {
    boolean fromIntroducer = socket == rt.transport;
    boolean handled = switch (m.method()) {
      case StunMethods.REGISTER, StunMethods.KEEPALIVE, StunMethods.CONNECT, StunMethods.RESULT,
          StunMethods.DEREGISTER, StunMethods.RELAY_REQUEST -> fromIntroducer && m.messageClass().isResponse() && transactions.onResponse(m, source);
      case StunMethods.INTRODUCE -> fromIntroducer && m.messageClass() == StunClass.REQUEST
          && sessions.onIntroduce(m, source);
      case StunMethods.PUNCH, StunMethods.CLOSE -> sessions.onPeerMessage(m, source, socket);
      case StunMethods.UPDATE -> fromIntroducer && (m.messageClass() == StunClass.REQUEST
          ? sessions.onUpdate(m, source) : m.messageClass().isResponse() && transactions.onResponse(m, source));
      case StunMethods.ALLOCATE, StunMethods.REFRESH, StunMethods.CREATE_PERMISSION, StunMethods.CHANNEL_BIND,
          StunMethods.DATA -> socket == rt.transport && rt.relays.onStun(m, source, this::fromRelay);
      case StunMethods.BINDING -> socket == rt.transport && m.messageClass().isResponse()
          && registration.relayProbes().onResponse(m, source);
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
