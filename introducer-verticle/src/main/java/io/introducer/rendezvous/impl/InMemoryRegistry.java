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

/** A single-node {@link Registry} on a ConcurrentHashMap. */
public final class InMemoryRegistry implements Registry {
  private record Key(String appId, String peerId) {}

  private final Map<Key, Registration> byPeer = new ConcurrentHashMap<>();

  @Override
  public Optional<Registration> get(String appId, String peerId) {
    return Optional.ofNullable(byPeer.get(new Key(appId, peerId)));
  }

  @Override
  public void put(Registration registration) {
    byPeer.put(new Key(registration.appId(), registration.peerId()), registration);
  }

  @Override
  public Optional<Registration> touch(String appId, String peerId, InetSocketAddress source, Instant expiresAt) {
    return Optional.ofNullable(byPeer.computeIfPresent(new Key(appId, peerId), (k, r) -> r.refreshed(source, expiresAt)));
  }

  @Override
  public boolean remove(String appId, String peerId) {
    return byPeer.remove(new Key(appId, peerId)) != null;
  }

  @Override
  public int expire(Instant now) {
    int before = byPeer.size();
    byPeer.values().removeIf(r -> r.isExpired(now));
    return Math.max(0, before - byPeer.size());
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
