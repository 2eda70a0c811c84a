package io.introducer.rendezvous.impl;

import io.introducer.rendezvous.PeerOutcome;
import io.introducer.rendezvous.Session;
import io.introducer.rendezvous.SessionStore;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/** A single-node {@link SessionStore} keeping at most {@code capacity} sessions, evicting the oldest first. */
public final class InMemorySessionStore implements SessionStore {
  private final int capacity;
  private final Map<String, Session> byId = new ConcurrentHashMap<>();
  /** Session ids in creation order; ids already removed from the map are skipped when met. */
  private final Queue<String> creationOrder = new ConcurrentLinkedQueue<>();

  public InMemorySessionStore(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
    }
    this.capacity = capacity;
  }

  @Override
  public void add(Session session) {
    if (byId.put(session.id(), session) == null) {
      creationOrder.add(session.id());
    }
    while (byId.size() > capacity) {
      String oldest = creationOrder.poll();
      if (oldest == null) {
        break;
      }
      byId.remove(oldest);
    }
  }

  @Override
  public Optional<Session> get(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  @Override
  public boolean markIntroduced(String id, Instant at) {
    return byId.computeIfPresent(id, (k, s) -> s.introduced(at)) != null;
  }

  @Override
  public boolean recordOutcome(String id, String peerId, PeerOutcome outcome) {
    Session s = byId.get(id);
    if (s == null || !(s.initiator().equals(peerId) || s.responder().equals(peerId))) {
      return false;
    }
    byId.put(id, s.withOutcome(peerId, outcome));
    return true;
  }

  @Override
  public int expire(Instant cutoff) {
    int removed = 0;
    for (String id = creationOrder.peek(); id != null; id = creationOrder.peek()) {
      Session s = byId.get(id);
      if (s != null && !s.createdAt().isBefore(cutoff)) {
        break; // creation order: everything after is younger
      }
      creationOrder.poll();
      if (s != null) {
        byId.remove(id);
        removed++;
      }
    }
    return removed;
  }

  @Override
  public int size() {
    return byId.size();
  }

  @Override
  public Collection<Session> all() {
    return List.copyOf(byId.values());
  }
}
