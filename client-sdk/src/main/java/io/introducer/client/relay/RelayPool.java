package io.introducer.client.relay;

import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TURN allocations of one client socket, shared by its sessions. A relay tells allocations apart by
 * the client's address, so one socket holds at most one allocation per relay: sessions that relay through
 * the same server share it ({@link #acquire} / {@link #release} count the users; the last release deletes
 * it).
 *
 * <p>Peers reached through an allocation are named by <em>tunnel addresses</em>: unresolved
 * {@link InetSocketAddress}es ({@link #isTunnel}) that stand for "this peer address, through this relay".
 * The rest of the SDK keys sessions, routes and punch targets by address, so a tunnel address lets a
 * relayed peer be handled like any other (sending to one goes through {@link #send}). They never collide
 * with real addresses, even when the peer's address as the relay sees it is also one of its direct
 * candidates.
 *
 * <p>Threading: control thread, except {@link #isServer}, {@link #onChannelData}, {@link #tunnel},
 * {@link #send} and {@link #isTunnel}, which any thread may call (the receiver and game threads do).
 */
public final class RelayPool {
  private static final Logger log = LoggerFactory.getLogger(RelayPool.class);
  /** Host name prefix of tunnel addresses. */
  static final String TUNNEL_PREFIX = "turn~";
  /** Distinct peer addresses one allocation relays for; more are dropped (each needs a permitted IP anyway). */
  public static final int MAX_TUNNELS_PER_ALLOCATION = 64;
  /**
   * Largest datagram a peer can exchange through a relay: the relay wraps it in a 4-byte ChannelData
   * header, and the result must fit one UDP datagram (65507).
   */
  public static final int MAX_RELAYED_DATAGRAM = 65507 - 4;

  private final TurnClient.Io io;
  private final TurnClient.Settings settings;
  private final Map<InetSocketAddress, Entry> byServer = new ConcurrentHashMap<>();
  private final Map<TurnClient, CompletableFuture<Void>> deleting = new ConcurrentHashMap<>();
  private final Map<InetSocketAddress, Tunnel> tunnels = new ConcurrentHashMap<>();
  private boolean closed;

  /** A datagram a peer sent through a relay, with the tunnel address that names that peer. */
  public record Unwrapped(InetSocketAddress source, byte[] datagram) {}

  /** One peer reached through one allocation. Any thread. */
  public static final class Tunnel {
    private final TurnClient client;
    private final InetSocketAddress peer;
    private final InetSocketAddress address;

    Tunnel(TurnClient client, InetSocketAddress peer, InetSocketAddress address) {
      this.client = client;
      this.peer = peer;
      this.address = address;
    }

    /** The peer's address as the relay sees it. */
    public InetSocketAddress peer() {
      return peer;
    }

    /** The tunnel address naming this peer through this relay. */
    public InetSocketAddress address() {
      return address;
    }

    /** The allocation the peer is reached through. */
    public TurnClient client() {
      return client;
    }

    /** Sends one datagram to the peer through the relay (best effort). */
    public void send(byte[] datagram) {
      client.send(peer, datagram);
    }

    @Override
    public String toString() {
      return peer + " via " + client.server();
    }
  }

  private final class Entry {
    final TurnClient client;
    final CompletableFuture<TurnClient> ready;
    final Map<Object, Consumer<String>> owners = new LinkedHashMap<>();
    final AtomicInteger tunnelCount = new AtomicInteger();

    Entry(TurnClient client) {
      this.client = client;
      this.ready = client.allocate().thenApply(a -> client);
    }
  }

  /** A pool sending through {@code io}, with these timings for every allocation. */
  public RelayPool(TurnClient.Io io, TurnClient.Settings settings) {
    this.io = Objects.requireNonNull(io, "io");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /** True when {@code address} is a tunnel address (see the class comment). Any thread. */
  public static boolean isTunnel(InetSocketAddress address) {
    return address != null && address.isUnresolved() && address.getHostString().startsWith(TUNNEL_PREFIX);
  }

  /**
   * The allocation on {@code server}, made now with these credentials unless one exists already, for
   * {@code owner}; {@code onLost} hears (on the control thread) when the allocation is lost later.
   * Fails with a {@link TurnException} when the relay refuses or does not answer.
   */
  public CompletableFuture<TurnClient> acquire(InetSocketAddress server, String username, String password,
      Object owner, Consumer<String> onLost) {
    if (closed) {
      return CompletableFuture.failedFuture(new TurnException("client closed"));
    }
    Entry e = byServer.get(server);
    if (e == null) {
      TurnClient client = new TurnClient(io, server, username, password, settings);
      Entry created = new Entry(client);
      e = created;
      byServer.put(server, created);
      client.onLost(reason -> {
        forget(created);
        new ArrayList<>(created.owners.values()).forEach(l -> l.accept(reason));
        created.owners.clear();
      });
      created.ready.whenComplete((c, err) -> {
        if (err != null) {
          forget(created);
          created.owners.clear();
        }
      });
    }
    e.owners.put(owner, onLost);
    return e.ready;
  }

  /** {@code owner} no longer needs the allocation on {@code server}; the last owner's release deletes it. */
  public void release(InetSocketAddress server, Object owner) {
    Entry e = byServer.get(server);
    if (e == null || e.owners.remove(owner) == null || !e.owners.isEmpty()) {
      return;
    }
    forget(e);
    delete(e.client);
  }

  /**
   * Deletes the allocation on {@code server} without telling its owners: they are moving to a new allocation on the
   * same relay (credential renewal; a socket holds one allocation per relay, so the old one must go first). The future
   * completes when the relay answered the deletion or it timed out; it never fails.
   */
  public CompletableFuture<Void> retire(InetSocketAddress server) {
    Entry e = byServer.get(server);
    if (e == null) {
      return CompletableFuture.completedFuture(null);
    }
    forget(e);
    e.owners.clear();
    return delete(e.client);
  }

  private CompletableFuture<Void> delete(TurnClient client) {
    return trackDeletion(client, client::close);
  }

  /**
   * Starts the deletion of {@code client}'s allocation, listed in {@link #deleting} (before it starts) until it is
   * over. The future never fails.
   */
  private CompletableFuture<Void> trackDeletion(TurnClient client, Supplier<CompletableFuture<Void>> deletion) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    deleting.put(client, done);
    deletion.get().whenComplete((v, err) -> {
      deleting.remove(client);
      done.complete(null);
    });
    return done;
  }

  private void forget(Entry e) {
    byServer.remove(e.client.server(), e);
    tunnels.values().removeIf(t -> t.client == e.client);
  }

  /**
   * The relay at {@code server} stopped relaying (the owner's probes through it go unanswered): its allocation is
   * lost for every session sharing it (each owner's {@code onLost} hears {@code reason}) and deleted in case the
   * relay still lives. False when this pool has no active allocation there.
   */
  public boolean declareLost(InetSocketAddress server, String reason) {
    Entry e = byServer.get(server);
    if (e == null || !e.client.isActive()) {
      return false;
    }
    trackDeletion(e.client, () -> e.client.abandon(reason));
    return true;
  }

  /** True when datagrams from {@code source} come from a relay this pool has an allocation on. Any thread. */
  public boolean isServer(InetSocketAddress source) {
    return byServer.containsKey(source);
  }

  /** The allocation on {@code server}, if any. */
  public TurnClient allocation(InetSocketAddress server) {
    Entry e = byServer.get(server);
    return e == null ? null : e.client;
  }

  /**
   * A STUN message from {@code source}: a response to one of our TURN requests, or a Data indication,
   * whose content goes to {@code inner}. False when it is neither (not from a relay of ours, unexpected or
   * not authentic).
   */
  public boolean onStun(StunMessage m, InetSocketAddress source, Consumer<Unwrapped> inner) {
    Entry e = byServer.get(source);
    if (m.messageClass().isResponse()) {
      if (e != null && e.client.onResponse(m)) {
        return true;
      }
      for (TurnClient c : deleting.keySet()) {
        if (c.server().equals(source) && c.onResponse(m)) {
          return true;
        }
      }
      return false;
    }
    if (e == null || !m.is(StunMethods.DATA, StunClass.INDICATION)) {
      return false;
    }
    TurnClient.Relayed r = e.client.onDataIndication(m);
    Tunnel t = r == null ? null : tunnelFor(e, r.peer());
    if (t == null) {
      return false;
    }
    inner.accept(new Unwrapped(t.address, r.data()));
    return true;
  }

  /** A ChannelData datagram from {@code source} (any thread): the peer's datagram, or null when not ours. */
  public Unwrapped onChannelData(byte[] datagram, InetSocketAddress source) {
    Entry e = byServer.get(source);
    TurnClient.Relayed r = e == null ? null : e.client.onChannelData(datagram);
    Tunnel t = r == null ? null : tunnelFor(e, r.peer());
    return t == null ? null : new Unwrapped(t.address, r.data());
  }

  private Tunnel tunnelFor(Entry e, InetSocketAddress peer) {
    InetSocketAddress address = tunnelAddress(e.client.server(), peer);
    Tunnel t = tunnels.get(address);
    if (t != null) {
      return t;
    }
    if (e.tunnelCount.incrementAndGet() > MAX_TUNNELS_PER_ALLOCATION) {
      e.tunnelCount.decrementAndGet();
      log.debug("allocation on {} relays for too many peers; dropping {}", e.client.server(), peer);
      return null;
    }
    Tunnel created = new Tunnel(e.client, peer, address);
    Tunnel raced = tunnels.putIfAbsent(address, created);
    if (raced != null) {
      e.tunnelCount.decrementAndGet();
      return raced;
    }
    return created;
  }

  private static InetSocketAddress tunnelAddress(InetSocketAddress server, InetSocketAddress peer) {
    return InetSocketAddress.createUnresolved(TUNNEL_PREFIX + hostPort(server) + "~" + peer.getAddress().getHostAddress(),
        peer.getPort());
  }

  private static String hostPort(InetSocketAddress a) {
    InetAddress ip = a.getAddress();
    return ip.getHostAddress() + ":" + a.getPort();
  }

  /** The tunnel named by {@code address}, or null when it is not (or no longer) one. Any thread. */
  public Tunnel tunnel(InetSocketAddress address) {
    return tunnels.get(address);
  }

  /**
   * The address a datagram from {@code source} really came from: the peer's address as the relay saw it for
   * a tunnel address (null when the tunnel is gone), else {@code source} itself. Any thread.
   */
  public InetSocketAddress peerAddress(InetSocketAddress source) {
    if (!isTunnel(source)) {
      return source;
    }
    Tunnel t = tunnels.get(source);
    return t == null ? null : t.peer;
  }

  /** Sends {@code datagram} to the peer a tunnel address names; dropped when the tunnel is gone. Any thread. */
  public void send(InetSocketAddress tunnelAddress, byte[] datagram) {
    Tunnel t = tunnels.get(tunnelAddress);
    if (t != null) {
      t.send(datagram);
    } else {
      log.debug("no tunnel {} (allocation released): datagram dropped", tunnelAddress);
    }
  }

  /**
   * Deletes every allocation (client closing); later acquires fail. The future completes when every relay
   * answered or its request timed out, deletions already under way included.
   */
  public CompletableFuture<Void> closeAll() {
    closed = true;
    List<CompletableFuture<Void>> all = new ArrayList<>(deleting.values());
    for (Entry e : new ArrayList<>(byServer.values())) {
      forget(e);
      e.owners.clear();
      all.add(delete(e.client));
    }
    return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
  }
}
