package io.introducer.client.relay;

import io.introducer.protocol.ChannelData;
import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.LongTermCredentials;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.introducer.protocol.TransactionId;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A TURN client (RFC 8656 over UDP) for one allocation on one relay, speaking through a socket it shares
 * with the rest of the SDK's traffic: the owner hands it the datagrams that come from the relay
 * ({@link #onResponse}, {@link #onDataIndication}, {@link #onChannelData}) and gives it a way to send and
 * to schedule ({@link Io}).
 *
 * <p>It allocates with the long-term credential mechanism (an unauthenticated Allocate, the 401 challenge
 * with REALM and NONCE, then MESSAGE-INTEGRITY under {@code MD5(username:realm:password)}; a 438 stale
 * nonce is retried with the new nonce), installs permissions, binds channels, sends through Send
 * indications or ChannelData, and keeps the allocation alive: Refresh before the lifetime ends,
 * permissions refreshed every {@link Settings#permissionRefresh} (under the relay's 300 s) and channels
 * every {@link Settings#channelRefresh} (under 600 s). {@link #close} deletes the allocation (Refresh with
 * LIFETIME 0). Requests are retransmitted (RTO 250 ms, doubling) until answered or
 * {@link Settings#requestTimeout}.
 *
 * <p>Threading: every method runs on the owner's single control thread (the one {@link Io} schedules on),
 * except {@link #send}, {@link #onChannelData} and the accessors, which any thread may call.
 */
public final class TurnClient {
  private static final Logger log = LoggerFactory.getLogger(TurnClient.class);
  static final long INITIAL_RTO_MILLIS = 250;
  /** REQUESTED-TRANSPORT value: UDP (protocol 17) and three reserved bytes. */
  private static final byte[] UDP = {17, 0, 0, 0};
  /** How often one request is re-sent with a fresh nonce after 438 before giving up. */
  static final int STALE_NONCE_RETRIES = 2;
  /**
   * Deleting an allocation right after sending through it can lose what was sent: a relay may close the
   * relayed socket before its last datagrams went out. So a deletion waits until this long after the last send.
   */
  static final long DELETE_AFTER_SEND_MILLIS = 100;
  /** Used when a relay leaves LIFETIME out of its Allocate success. */
  static final long DEFAULT_LIFETIME_SECONDS = 600;

  /** How a {@link TurnClient} reaches the network and the owner's control thread. */
  public interface Io {
    /** Sends one datagram from the shared socket, best effort. Any thread. */
    void send(byte[] datagram, InetSocketAddress target);

    /** Runs {@code task} on the control thread after {@code delayMillis}; null when the owner is shut down. */
    ScheduledFuture<?> schedule(Runnable task, long delayMillis);

    /** Runs {@code task} on the control thread soon; false when the owner is shut down. Any thread. */
    boolean execute(Runnable task);
  }

  /**
   * Timing of one client.
   *
   * @param requestTimeout total time one request may take, retransmissions included
   * @param permissionRefresh interval of CreatePermission refreshes (the relay keeps a permission 300 s)
   * @param channelRefresh interval of ChannelBind refreshes (the relay keeps a channel 600 s)
   */
  public record Settings(Duration requestTimeout, Duration permissionRefresh, Duration channelRefresh) {
    /** Checks that every duration is positive. */
    public Settings {
      for (Duration d : new Duration[] {requestTimeout, permissionRefresh, channelRefresh}) {
        if (d == null || d.isNegative() || d.isZero()) {
          throw new IllegalArgumentException("TURN timings must be positive, got " + d);
        }
      }
    }

    /** Permissions refreshed every 4 minutes and channels every 9 minutes (PROTOCOL.md section 8). */
    public static Settings defaults(Duration requestTimeout) {
      return new Settings(requestTimeout, Duration.ofMinutes(4), Duration.ofMinutes(9));
    }
  }

  /** A datagram a peer sent to the allocation's relayed address, unwrapped. */
  public record Relayed(InetSocketAddress peer, byte[] data) {}

  private enum State { NEW, ALLOCATING, ACTIVE, CLOSED }

  private final Io io;
  private final InetSocketAddress server;
  private String username;
  private String password;
  private final Settings settings;
  private final Map<TransactionId, Pending> pending = new HashMap<>();
  private final Set<InetAddress> permissions = new LinkedHashSet<>();
  private final Map<InetSocketAddress, Integer> channels = new ConcurrentHashMap<>();
  private final Map<Integer, InetSocketAddress> peersByChannel = new ConcurrentHashMap<>();
  private final Map<InetSocketAddress, CompletableFuture<Integer>> binding = new HashMap<>();
  private final Set<InetSocketAddress> bindRequested = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<InetSocketAddress> allocated = new CompletableFuture<>();
  /** Completes once an allocation closed while its Allocate was in flight is known to be gone. */
  private final CompletableFuture<Void> closedWhileAllocating = new CompletableFuture<>();
  private volatile State state = State.NEW;
  private volatile InetSocketAddress relayed;
  private volatile InetSocketAddress mapped;
  private volatile long lastSendNanos = System.nanoTime() - TimeUnit.HOURS.toNanos(1);
  private Consumer<String> lostListener = reason -> { };
  private String realm;
  private String nonce;
  private byte[] key;
  /** The key of credentials a {@link #rollOver} is trying, whose answers are signed with it; null otherwise. */
  private byte[] nextKey;
  private long lifetimeSeconds;
  private long expiresAtNanos;
  private int nextChannel = ChannelData.MIN_CHANNEL;
  private ScheduledFuture<?> refreshTimer;
  private ScheduledFuture<?> permissionTimer;
  private ScheduledFuture<?> channelTimer;

  /**
   * A client for the relay at {@code server} with these (long-term or TURN REST) credentials. Nothing is
   * sent before {@link #allocate}.
   */
  public TurnClient(Io io, InetSocketAddress server, String username, String password, Settings settings) {
    this.io = Objects.requireNonNull(io, "io");
    this.server = Objects.requireNonNull(server, "server");
    this.username = Objects.requireNonNull(username, "username");
    this.password = Objects.requireNonNull(password, "password");
    this.settings = Objects.requireNonNull(settings, "settings");
    if (server.isUnresolved()) {
      throw new IllegalArgumentException("relay address must be resolved: " + server);
    }
  }

  /** Called once, on the control thread, when an active allocation is lost (refresh refused or expired). */
  public void onLost(Consumer<String> listener) {
    this.lostListener = Objects.requireNonNull(listener, "listener");
  }

  /** The relay's address (where requests go and answers come from). */
  public InetSocketAddress server() {
    return server;
  }

  /** The USERNAME this client authenticates with. */
  public String username() {
    return username;
  }

  /** The relayed transport address (XOR-RELAYED-ADDRESS), or null before the allocation succeeded. */
  public InetSocketAddress relayedAddress() {
    return relayed;
  }

  /** Our address as the relay saw it (XOR-MAPPED-ADDRESS of the Allocate success), or null. */
  public InetSocketAddress mappedAddress() {
    return mapped;
  }

  /** True while the allocation exists: allocated and neither closed nor lost. */
  public boolean isActive() {
    return state == State.ACTIVE;
  }

  /** The permitted peer IPs (control thread). */
  public Set<InetAddress> permissions() {
    return Set.copyOf(permissions);
  }

  /** The channel bound to {@code peer}, or null (any thread). */
  public Integer channelOf(InetSocketAddress peer) {
    return channels.get(peer);
  }

  // ------------------------------------------------------------------------------------------ allocate

  /**
   * Allocates (once; later calls return the same future). Completes with the relayed address, or fails
   * with a {@link TurnException} (the relay's error, or "relay did not answer").
   */
  public CompletableFuture<InetSocketAddress> allocate() {
    if (state != State.NEW) {
      return allocated;
    }
    state = State.ALLOCATING;
    byte[] probe = StunMessage.builder(StunMethods.ALLOCATE, StunClass.REQUEST)
        .add(StunAttributes.REQUESTED_TRANSPORT, UDP).fingerprint().encode();
    transact(probe).whenComplete((m, err) -> {
      if (err != null) {
        allocationFailed(new TurnException("relay did not answer", err));
      } else if (isError(m, ErrorCode.UNAUTHORIZED) && challenge(m)) {
        authenticated(StunMethods.ALLOCATE, b -> b.add(StunAttributes.REQUESTED_TRANSPORT, UDP))
            .whenComplete(this::allocateAnswered);
      } else {
        allocationFailed(refusal("Allocate", m, err));
      }
    });
    return allocated;
  }

  private void allocateAnswered(StunMessage m, Throwable err) {
    if (err != null) {
      // The relay may have allocated and only its answers were lost: that allocation would hold our address for
      // its whole lifetime (every new Allocate from this socket refused with 437). Delete it, best effort.
      deleteAllocation();
    }
    if (err != null || m.messageClass() != StunClass.SUCCESS_RESPONSE) {
      allocationFailed(refusal("Allocate", m, err));
      return;
    }
    InetSocketAddress address = m.getXorAddress(StunAttributes.XOR_RELAYED_ADDRESS);
    if (address == null) {
      allocationFailed(new TurnException("relay answered Allocate without XOR-RELAYED-ADDRESS"));
      return;
    }
    relayed = address;
    mapped = m.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS);
    if (state == State.CLOSED) {
      // Closed while allocating: the allocation exists now, so delete it at once.
      deleteAllocation().whenComplete((v, e) -> closedWhileAllocating.complete(null));
      allocated.completeExceptionally(new TurnException("closed"));
      return;
    }
    state = State.ACTIVE;
    acceptLifetime(m);
    log.info("allocated {} on relay {} as {}", address, server, username);
    scheduleRefresh();
    allocated.complete(address);
  }

  private void allocationFailed(TurnException e) {
    state = State.CLOSED;
    log.info("allocation on relay {} failed: {}", server, e.getMessage());
    allocated.completeExceptionally(e);
    closedWhileAllocating.complete(null);
  }

  /** Takes REALM and NONCE from a 401; false when the relay left them out. */
  private boolean challenge(StunMessage m) {
    String r = m.getString(StunAttributes.REALM);
    String n = m.getString(StunAttributes.NONCE);
    if (r == null || n == null) {
      return false;
    }
    realm = r;
    nonce = n;
    key = LongTermCredentials.md5Key(username, realm, password);
    return true;
  }

  // ------------------------------------------------------------------------------------------ refresh

  private void acceptLifetime(StunMessage m) {
    long granted = m.has(StunAttributes.LIFETIME) ? m.getU32(StunAttributes.LIFETIME) : DEFAULT_LIFETIME_SECONDS;
    lifetimeSeconds = Math.max(1, granted);
    expiresAtNanos = System.nanoTime() + Duration.ofSeconds(lifetimeSeconds).toNanos();
  }

  /** Refresh well before expiry: a minute before, or halfway through a short lifetime. */
  private void scheduleRefresh() {
    long lifetimeMillis = lifetimeSeconds * 1000;
    long delay = Math.max(lifetimeMillis / 2, lifetimeMillis - 60_000);
    refreshTimer = io.schedule(this::refresh, delay);
  }

  private void refresh() {
    if (state != State.ACTIVE) {
      return;
    }
    authenticated(StunMethods.REFRESH, b -> b.addU32(StunAttributes.LIFETIME, lifetimeSeconds))
        .whenComplete((m, err) -> {
          if (state != State.ACTIVE) {
            return;
          }
          if (err == null && m.messageClass() == StunClass.SUCCESS_RESPONSE) {
            acceptLifetime(m);
            scheduleRefresh();
          } else if (err != null && System.nanoTime() < expiresAtNanos) {
            log.debug("refresh on relay {} unanswered; trying again", server);
            refreshTimer = io.schedule(this::refresh, 1_000); // the allocation still lives: keep trying
          } else {
            lost(err != null ? "relay allocation expired" : refusal("Refresh", m, null).getMessage());
          }
        });
  }

  private void lost(String reason) {
    if (state != State.ACTIVE) {
      return;
    }
    log.warn("allocation {} on relay {} lost: {}", relayed, server, reason);
    shutdown();
    lostListener.accept(reason);
  }

  /**
   * The owner concluded that the relay is gone (what it relays stopped arriving): the allocation counts as lost,
   * as if a refresh had been refused ({@link #onLost} hears it), and a deletion is sent in case the relay lives
   * after all. The future completes when the relay answered the deletion or it timed out; it never fails.
   */
  public CompletableFuture<Void> abandon(String reason) {
    if (state != State.ACTIVE) {
      return CompletableFuture.completedFuture(null);
    }
    lost(reason);
    return deleteAllocation();
  }

  // -------------------------------------------------------------------------------------- permissions

  /**
   * Installs (or refreshes) a permission for each of {@code peers} in one CreatePermission, which the
   * relay grants all or none of. Fails with a {@link TurnException} when refused or unanswered.
   */
  public CompletableFuture<Void> createPermission(Collection<InetAddress> peers) {
    List<InetAddress> ips = List.copyOf(new LinkedHashSet<>(peers));
    if (ips.isEmpty()) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("no peer address"));
    }
    if (state != State.ACTIVE) {
      return CompletableFuture.failedFuture(new TurnException("no allocation"));
    }
    return authenticated(StunMethods.CREATE_PERMISSION, b -> {
      for (InetAddress ip : ips) {
        b.addXorAddress(StunAttributes.XOR_PEER_ADDRESS, new InetSocketAddress(ip, 0));
      }
    }).thenApply(m -> {
      if (m.messageClass() != StunClass.SUCCESS_RESPONSE) {
        throw new TurnException(refusal("CreatePermission", m, null).getMessage());
      }
      if (state == State.ACTIVE) {
        permissions.addAll(ips);
        if (permissionTimer == null) {
          permissionTimer = io.schedule(this::refreshPermissions, settings.permissionRefresh().toMillis());
        }
      }
      return null;
    });
  }

  /** One CreatePermission per IP, so that one the relay now refuses does not take the others with it. */
  private void refreshPermissions() {
    if (state != State.ACTIVE) {
      return;
    }
    for (InetAddress ip : List.copyOf(permissions)) {
      createPermission(List.of(ip)).whenComplete((v, err) -> {
        if (err != null) {
          log.info("permission for {} on relay {} not refreshed: {}", ip.getHostAddress(), server, err.getMessage());
          permissions.remove(ip);
        }
      });
    }
    permissionTimer = io.schedule(this::refreshPermissions, settings.permissionRefresh().toMillis());
  }

  // ----------------------------------------------------------------------------------------- channels

  /**
   * Binds a channel to {@code peer} (an address the relay saw, with a permission or getting one through
   * the bind). Completes with the channel number; from then on {@link #send} to that peer uses ChannelData.
   */
  public CompletableFuture<Integer> bindChannel(InetSocketAddress peer) {
    Integer bound = channels.get(peer);
    if (bound != null) {
      return CompletableFuture.completedFuture(bound);
    }
    CompletableFuture<Integer> inFlight = binding.get(peer);
    if (inFlight != null) {
      return inFlight;
    }
    if (state != State.ACTIVE) {
      return CompletableFuture.failedFuture(new TurnException("no allocation"));
    }
    if (nextChannel > ChannelData.MAX_CHANNEL) {
      return CompletableFuture.failedFuture(new TurnException("no channel numbers left"));
    }
    int number = nextChannel++;
    CompletableFuture<Integer> result = new CompletableFuture<>();
    binding.put(peer, result);
    // Accept ChannelData on the number at once: the relay binds it on our request and may relay the peer's
    // next datagram on it before its success reaches us (dropping that datagram costs a punch round).
    peersByChannel.put(number, peer);
    sendChannelBind(number, peer).whenComplete((v, err) -> {
      binding.remove(peer);
      if (err != null) {
        peersByChannel.remove(number, peer);
        result.completeExceptionally(err);
        return;
      }
      if (state == State.ACTIVE) {
        channels.put(peer, number);
        permissions.add(peer.getAddress());
        if (channelTimer == null) {
          channelTimer = io.schedule(this::refreshChannels, settings.channelRefresh().toMillis());
        }
      }
      result.complete(number);
    });
    return result;
  }

  private CompletableFuture<Void> sendChannelBind(int number, InetSocketAddress peer) {
    return authenticated(StunMethods.CHANNEL_BIND, b -> b
        .add(StunAttributes.CHANNEL_NUMBER, new byte[] {(byte) (number >>> 8), (byte) number, 0, 0})
        .addXorAddress(StunAttributes.XOR_PEER_ADDRESS, peer))
        .thenApply(m -> {
          if (m.messageClass() != StunClass.SUCCESS_RESPONSE) {
            throw new TurnException(refusal("ChannelBind", m, null).getMessage());
          }
          return null;
        });
  }

  private void refreshChannels() {
    if (state != State.ACTIVE) {
      return;
    }
    channels.forEach((peer, number) -> sendChannelBind(number, peer).whenComplete((v, err) -> {
      if (err != null) {
        log.info("channel 0x{} to {} on relay {} not refreshed: {}", Integer.toHexString(number), peer, server,
            err.getMessage());
      }
    }));
    channelTimer = io.schedule(this::refreshChannels, settings.channelRefresh().toMillis());
  }

  // ------------------------------------------------------------------------------------------- data

  /**
   * Sends {@code data} to {@code peer} through the relay: as ChannelData once a channel is bound, else as a
   * Send indication, and then binds a channel so later datagrams travel in ChannelData. Any thread; best
   * effort like UDP (nothing is sent without an allocation).
   */
  public void send(InetSocketAddress peer, byte[] data) {
    if (state != State.ACTIVE) {
      return;
    }
    lastSendNanos = System.nanoTime();
    Integer channel = channels.get(peer);
    if (channel != null) {
      io.send(new ChannelData(channel, data).encode(), server);
      return;
    }
    io.send(StunMessage.builder(StunMethods.SEND, StunClass.INDICATION)
        .addXorAddress(StunAttributes.XOR_PEER_ADDRESS, peer)
        .add(StunAttributes.DATA, data)
        .fingerprint().encode(), server);
    if (bindRequested.add(peer)) {
      io.execute(() -> bindChannel(peer).whenComplete((n, err) -> {
        if (err != null) {
          log.debug("channel to {} on relay {} not bound: {}", peer, server, err.getMessage());
          bindRequested.remove(peer);
        }
      }));
    }
  }

  /** A Data indication from the relay: the peer's datagram, or null when malformed or unexpected. */
  public Relayed onDataIndication(StunMessage m) {
    if (state != State.ACTIVE || !m.is(StunMethods.DATA, StunClass.INDICATION)) {
      return null;
    }
    InetSocketAddress peer = m.getXorAddress(StunAttributes.XOR_PEER_ADDRESS);
    byte[] data = m.get(StunAttributes.DATA);
    return peer == null || data == null ? null : new Relayed(peer, data);
  }

  /** A ChannelData datagram from the relay (any thread): the peer's datagram, or null when not ours. */
  public Relayed onChannelData(byte[] datagram) {
    if (state != State.ACTIVE) {
      return null;
    }
    ChannelData cd;
    try {
      cd = ChannelData.decode(datagram, 0, datagram.length);
    } catch (StunParseException e) {
      return null;
    }
    InetSocketAddress peer = peersByChannel.get(cd.channel());
    return peer == null ? null : new Relayed(peer, cd.data());
  }

  // ------------------------------------------------------------------------------------------- close

  /**
   * Deletes the allocation (Refresh with LIFETIME 0; {@link #DELETE_AFTER_SEND_MILLIS} after the last send, so
   * that the relay forwards what was just sent) and stops every timer. The future completes when the relay
   * answered or the request timed out (for a client closed while allocating: once the Allocate's outcome is
   * known and a granted allocation deleted); it never fails. Idempotent.
   */
  public CompletableFuture<Void> close() {
    State before = state;
    if (before == State.CLOSED) {
      return CompletableFuture.completedFuture(null);
    }
    shutdown();
    if (before == State.ACTIVE) {
      log.info("releasing allocation {} on relay {}", relayed, server);
      long wait = DELETE_AFTER_SEND_MILLIS - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastSendNanos);
      if (wait > 0) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (io.schedule(() -> deleteAllocation().whenComplete((v, err) -> done.complete(null)), wait) != null) {
          return done;
        }
      }
      return deleteAllocation();
    }
    if (before == State.ALLOCATING) {
      // allocateAnswered sees CLOSED and deletes what the relay grants; answers keep coming to us until then.
      return closedWhileAllocating;
    }
    return CompletableFuture.completedFuture(null);
  }

  private void shutdown() {
    state = State.CLOSED;
    for (ScheduledFuture<?> t : new ScheduledFuture<?>[] {refreshTimer, permissionTimer, channelTimer}) {
      if (t != null) {
        t.cancel(false);
      }
    }
    channels.clear();
    peersByChannel.clear();
  }

  /**
   * Moves the active allocation to fresh TURN REST credentials of the same user (username {@code expiry:user}, later
   * expiry) with a Refresh signed with them, so that it outlives the credentials it was made with (PROTOCOL.md
   * section 8, rollover). A relay of this project accepts that; one that keeps RFC 8656's one USERNAME per allocation
   * answers 441, the future fails with a {@link TurnException}, and the allocation goes on under the old credentials.
   * Control thread only.
   */
  public CompletableFuture<Void> rollOver(String newUsername, String newPassword) {
    if (state != State.ACTIVE) {
      return CompletableFuture.failedFuture(new TurnException("allocation not active"));
    }
    return sendAs(newUsername, newPassword, StunMethods.REFRESH,
        b -> b.addU32(StunAttributes.LIFETIME, lifetimeSeconds), STALE_NONCE_RETRIES)
        .handle((m, err) -> {
          nextKey = null;
          if (err != null || m.messageClass() != StunClass.SUCCESS_RESPONSE) {
            throw new java.util.concurrent.CompletionException(refusal("Refresh with new credentials", m, err));
          }
          if (state != State.ACTIVE) {
            throw new java.util.concurrent.CompletionException(new TurnException("allocation closed"));
          }
          username = newUsername;
          password = newPassword;
          key = LongTermCredentials.md5Key(username, realm, password);
          acceptLifetime(m);
          if (refreshTimer != null) {
            refreshTimer.cancel(false);
          }
          scheduleRefresh();
          log.info("allocation {} on relay {} now under {}", relayed, server, username);
          return null;
        });
  }

  private CompletableFuture<Void> deleteAllocation() {
    return sendAuthenticated(StunMethods.REFRESH, b -> b.addU32(StunAttributes.LIFETIME, 0), STALE_NONCE_RETRIES)
        .handle((m, err) -> {
          if (err != null || m.messageClass() != StunClass.SUCCESS_RESPONSE) {
            log.debug("deleting allocation on {}: {}", server, err != null ? err.toString() : m.errorCode());
          }
          return null;
        });
  }

  // ------------------------------------------------------------------------------------- transactions

  /** A request of the active allocation, authenticated with the current nonce. */
  private CompletableFuture<StunMessage> authenticated(int method, Consumer<StunMessage.Builder> attributes) {
    if (state == State.CLOSED) {
      return CompletableFuture.failedFuture(new TurnException("allocation closed"));
    }
    return sendAuthenticated(method, attributes, STALE_NONCE_RETRIES);
  }

  /** Sends with USERNAME, REALM, NONCE and MESSAGE-INTEGRITY; a 438 is retried with the relay's new nonce. */
  private CompletableFuture<StunMessage> sendAuthenticated(int method, Consumer<StunMessage.Builder> attributes,
      int retriesLeft) {
    return sendAs(username, password, method, attributes, retriesLeft);
  }

  /** {@link #sendAuthenticated} under the credentials {@code user} / {@code pass}. */
  private CompletableFuture<StunMessage> sendAs(String user, String pass, int method,
      Consumer<StunMessage.Builder> attributes, int retriesLeft) {
    StunMessage.Builder b = StunMessage.builder(method, StunClass.REQUEST);
    attributes.accept(b);
    b.addString(StunAttributes.USERNAME, user)
        .addString(StunAttributes.REALM, realm)
        .addString(StunAttributes.NONCE, nonce);
    byte[] k = user.equals(username) ? key : LongTermCredentials.md5Key(user, realm, pass);
    if (k != key) {
      nextKey = k;
    }
    return transact(b.integrity(k).fingerprint().encode()).thenCompose(m -> {
      if (isError(m, ErrorCode.STALE_NONCE) && retriesLeft > 0 && m.getString(StunAttributes.NONCE) != null) {
        nonce = m.getString(StunAttributes.NONCE);
        String newRealm = m.getString(StunAttributes.REALM);
        if (newRealm != null && !newRealm.equals(realm)) {
          realm = newRealm;
          key = LongTermCredentials.md5Key(username, realm, password);
        }
        log.debug("stale nonce on relay {}; retrying {} with the new one", server, StunMethods.name(method));
        return sendAs(user, pass, method, attributes, retriesLeft - 1);
      }
      return CompletableFuture.completedFuture(m);
    });
  }

  private final class Pending {
    final TransactionId id;
    final byte[] bytes;
    final long deadlineNanos;
    final CompletableFuture<StunMessage> result = new CompletableFuture<>();
    long rto = INITIAL_RTO_MILLIS;
    ScheduledFuture<?> timer;

    Pending(TransactionId id, byte[] bytes, long deadlineNanos) {
      this.id = id;
      this.bytes = bytes;
      this.deadlineNanos = deadlineNanos;
    }

    void transmit() {
      if (result.isDone()) {
        return;
      }
      long left = (deadlineNanos - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        pending.remove(id);
        result.completeExceptionally(new TimeoutException("no answer from relay " + server));
        return;
      }
      io.send(bytes, server);
      long wait = Math.min(rto, left);
      rto *= 2;
      timer = io.schedule(this::transmit, wait);
      if (timer == null) {
        pending.remove(id);
        result.completeExceptionally(new TurnException("client closed"));
      }
    }
  }

  private CompletableFuture<StunMessage> transact(byte[] request) {
    TransactionId id = new TransactionId(Arrays.copyOfRange(request, 8, 20));
    Pending p = new Pending(id, request, System.nanoTime() + settings.requestTimeout().toNanos());
    pending.put(id, p);
    p.transmit();
    return p.result;
  }

  /**
   * A STUN response from the relay: completes the matching request if it is authentic. Success responses
   * must carry MESSAGE-INTEGRITY under our key; unsigned error responses are accepted only where the relay
   * cannot sign (400, 401, 438). False when it answers nothing of ours.
   */
  public boolean onResponse(StunMessage m) {
    if (!m.messageClass().isResponse()) {
      return false;
    }
    Pending p = pending.get(m.transactionKey());
    if (p == null || !acceptable(m)) {
      return false;
    }
    pending.remove(p.id);
    if (p.timer != null) {
      p.timer.cancel(false);
    }
    p.result.complete(m);
    return true;
  }

  private boolean acceptable(StunMessage m) {
    if (m.hasIntegrity()) {
      return key != null && m.verifyIntegrity(key) || nextKey != null && m.verifyIntegrity(nextKey);
    }
    if (m.messageClass() != StunClass.ERROR_RESPONSE || m.errorCode() == null) {
      return false;
    }
    int code = m.errorCode().code();
    return code == ErrorCode.BAD_REQUEST || code == ErrorCode.UNAUTHORIZED || code == ErrorCode.STALE_NONCE;
  }

  private static boolean isError(StunMessage m, int code) {
    return m.messageClass() == StunClass.ERROR_RESPONSE && m.errorCode() != null && m.errorCode().code() == code;
  }

  private static TurnException refusal(String what, StunMessage m, Throwable err) {
    if (err != null) {
      Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null
          ? err.getCause() : err;
      return cause instanceof TurnException te ? te : new TurnException("relay did not answer " + what, cause);
    }
    ErrorCode e = m.errorCode();
    if (e == null) {
      return new TurnException("relay answered " + what + " with " + m);
    }
    return new TurnException("relay refused " + what + ": " + e.code() + (e.reason().isEmpty() ? "" : " " + e.reason()));
  }

  /** Fails every pending request; the owner is going away. */
  void cancelPending() {
    for (Pending p : new ArrayList<>(pending.values())) {
      if (p.timer != null) {
        p.timer.cancel(false);
      }
      p.result.completeExceptionally(new TurnException("client closed"));
    }
    pending.clear();
  }

  @Override
  public String toString() {
    return "TurnClient[" + server + " " + state + (relayed != null ? " relayed " + relayed : "") + "]";
  }
}
