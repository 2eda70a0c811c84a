package io.introducer.rendezvous.impl;

import io.introducer.rendezvous.RecordCodec;
import io.introducer.rendezvous.Registration;
import io.introducer.rendezvous.Registry;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A registry shared by the nodes of a cluster. Each node keeps the registrations it owns (peers that registered
 * with it) in memory and publishes them to a shared store that every node can read, such as a Hazelcast
 * ReplicatedMap. Keepalives stay local: a registration is published again only when its address changes or its
 * published lifetime runs low, so the cluster sees about one write per peer per half lifetime.
 *
 * <p>A published record carries an expiry one lifetime beyond the owner's, so other nodes never drop a live peer;
 * the owner removes it when it expires or leaves, and the store's own time-to-live removes what a dead node left.
 */
public final class SharedRegistry implements Registry {

  /**
   * The shared key-value store: reads are local and cheap and must not block; writes reach every node and may be
   * applied asynchronously (in order).
   */
  public interface Store {
    String get(String key);

    void put(String key, String value, Duration timeToLive);

    void remove(String key);

    Collection<String> values();
  }

  private final Store store;
  private final String nodeId;
  private final Duration lifetime;
  private final Clock clock;
  private final Map<String, Registration> own = new ConcurrentHashMap<>();
  private final Map<String, Instant> publishedUntil = new ConcurrentHashMap<>();
  /** The keys of {@link #own} by expiry second, so that expiring visits what is due rather than every registration. */
  private final ExpiryIndex<String> expiry = new ExpiryIndex<>(new ExpiryIndex.Records<>() {
    @Override
    public Registration get(String key) {
      return own.get(key);
    }

    @Override
    public boolean remove(String key, Registration expired) {
      if (!own.remove(key, expired)) {
        return false;
      }
      forget(key);
      return true;
    }
  });

  public SharedRegistry(Store store, String nodeId, Duration lifetime, Clock clock) {
    this.store = store;
    this.nodeId = nodeId;
    this.lifetime = lifetime;
    this.clock = clock;
  }

  public static String key(String appId, String peerId) {
    return appId + "/" + peerId;
  }

  @Override
  public Optional<Registration> get(String appId, String peerId) {
    String k = key(appId, peerId);
    Registration shared = decode(store.get(k));
    Registration mine = own.get(k);
    if (shared != null && !nodeId.equals(shared.owner())
        && (mine == null || shared.registeredAt().toEpochMilli() >= mine.registeredAt().toEpochMilli())) {
      // The peer registered with another node since: that node now delivers to it. (Writes to the store are
      // asynchronous, so a record older than ours is one our own publication has not replaced yet. Records carry
      // milliseconds, hence the comparison in milliseconds.)
      own.remove(k);
      publishedUntil.remove(k);
      return Optional.of(shared);
    }
    return Optional.ofNullable(mine != null ? mine : shared);
  }

  @Override
  public void put(Registration registration) {
    Registration owned = registration.ownedBy(nodeId);
    String k = key(owned.appId(), owned.peerId());
    // A new key is stored as given, so the index holds the map's own key string.
    expiry.replaced(k, own.put(k, owned), owned);
    publish(k, owned);
  }

  @Override
  public Optional<Registration> touch(String appId, String peerId, InetSocketAddress source, Instant expiresAt) {
    String k = key(appId, peerId);
    Registration before = own.get(k);
    Registration after = own.computeIfPresent(k, (key, r) -> r.refreshed(source, expiresAt));
    if (after != null) {
      expiry.replaced(k, before, after);
      Instant published = publishedUntil.get(k);
      boolean moved = before != null && !before.serverReflexive().equals(source);
      // Also republished when the shared copy vanished (a survivor cleaned up after a node it thought dead).
      if (moved || published == null || expiresAt.isAfter(published.minus(lifetime.dividedBy(2)))
          || store.get(k) == null) {
        publish(k, after);
      }
    }
    return Optional.ofNullable(after);
  }

  @Override
  public boolean remove(String appId, String peerId) {
    String k = key(appId, peerId);
    boolean removed = own.remove(k) != null;
    forget(k);
    return removed;
  }

  /** After {@code k} left {@link #own}: unpublishes it, unless another node owns the shared record now. */
  private void forget(String k) {
    publishedUntil.remove(k);
    Registration shared = decode(store.get(k));
    if (shared != null && nodeId.equals(shared.owner())) {
      store.remove(k);
    }
  }

  @Override
  public int expire(Instant now) {
    return expiry.expire(now);
  }

  @Override
  public boolean expireSome(Instant now, int maxSteps) {
    return expiry.expireSome(now, maxSteps);
  }

  /** Entries of the expiry index (for tests). */
  int indexEntries() {
    return expiry.entries();
  }

  /** Registrations this node owns (capacity is per node). */
  @Override
  public int size() {
    return own.size();
  }

  /** Every registration in the cluster; this node's own in their freshest form. */
  @Override
  public Collection<Registration> all() {
    List<Registration> out = new ArrayList<>(own.values());
    for (String v : store.values()) {
      Registration r = decode(v);
      if (r != null && !nodeId.equals(r.owner())) {
        out.add(r);
      }
    }
    return out;
  }

  private void publish(String k, Registration r) {
    Instant until = r.expiresAt().plus(lifetime);
    Registration published = new Registration(r.appId(), r.peerId(), r.serverReflexive(), r.hostCandidates(),
        r.registeredAt(), until, r.natProfile(), nodeId, r.tokenExpiry(), r.relayRtts());
    Duration ttl = Duration.between(clock.instant(), until).plus(lifetime);
    store.put(k, RecordCodec.encode(published).encode(), ttl.isNegative() ? lifetime : ttl);
    publishedUntil.put(k, until);
  }

  private static Registration decode(String value) {
    if (value == null) {
      return null;
    }
    try {
      return RecordCodec.decodeRegistration(new JsonObject(value));
    } catch (RuntimeException e) {
      return null; // a record from a newer or broken node: treat as absent
    }
  }
}
