package io.introducer.rendezvous.impl;

import io.introducer.rendezvous.Registration;
import io.introducer.rendezvous.Registry;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A single-node {@link Registry} on a ConcurrentHashMap, with an {@link ExpiryIndex} so that expiring visits what is
 * due rather than every registration.
 */
public final class InMemoryRegistry implements Registry {
  /** (app id, peer id), its hash computed once: an expiry pass looks keys up without reading their strings. */
  private static final class Key {
    private final String appId;
    private final String peerId;
    private final int hash; // fits in the object's padding: a Key is 24 bytes with or without it

    Key(String appId, String peerId) {
      this.appId = appId;
      this.peerId = peerId;
      this.hash = 31 * appId.hashCode() + peerId.hashCode();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && hash == k.hash && appId.equals(k.appId) && peerId.equals(k.peerId);
    }

    @Override
    public int hashCode() {
      return hash;
    }
  }

  private final Map<Key, Registration> byPeer = new ConcurrentHashMap<>();
  private final ExpiryIndex<Key> expiry = new ExpiryIndex<>(new ExpiryIndex.Records<>() {
    @Override
    public Registration get(Key key) {
      return byPeer.get(key);
    }

    @Override
    public boolean remove(Key key, Registration expired) {
      return byPeer.remove(key, expired);
    }
  });

  @Override
  public Optional<Registration> get(String appId, String peerId) {
    return Optional.ofNullable(byPeer.get(new Key(appId, peerId)));
  }

  @Override
  public void put(Registration registration) {
    Key key = new Key(registration.appId(), registration.peerId());
    // A new key is stored as given, so the index holds the map's own key object.
    expiry.replaced(key, byPeer.put(key, registration), registration);
  }

  @Override
  public Optional<Registration> touch(String appId, String peerId, InetSocketAddress source, Instant expiresAt) {
    Key key = new Key(appId, peerId);
    Registration[] before = new Registration[1];
    Registration after = byPeer.computeIfPresent(key, (k, r) -> {
      before[0] = r;
      return r.refreshed(source, expiresAt);
    });
    if (after != null) {
      expiry.replaced(key, before[0], after);
    }
    return Optional.ofNullable(after);
  }

  @Override
  public boolean remove(String appId, String peerId) {
    return byPeer.remove(new Key(appId, peerId)) != null;
  }

  @Override
  public int expire(Instant now) {
    return expiry.expire(now);
  }

  @Override
  public boolean expireSome(Instant now, int maxSteps) {
    return expiry.expireSome(now, maxSteps);
  }

  /** Entries of the expiry index (for tests and the benchmark). */
  int indexEntries() {
    return expiry.entries();
  }

  @Override
  public int size() {
    return byPeer.size();
  }

  @Override
  public Collection<Registration> all() {
    return List.copyOf(byPeer.values());
  }
}
