package io.introducer.rendezvous;

import java.time.Instant;
import java.util.Collection;
import java.util.Optional;

/**
 * History of sessions by id. Written from the introducer's event loop only; implementations must allow
 * concurrent reads. Memory is bounded: adding beyond the store's capacity evicts the oldest sessions.
 */
public interface SessionStore {

  void add(Session session);

  Optional<Session> get(String id);

  /** Records that the responder acknowledged INTRODUCE; false for an unknown session. */
  boolean markIntroduced(String id, Instant at);

  /** Records (or replaces) {@code peerId}'s report; false for an unknown session or a stranger to it. */
  boolean recordOutcome(String id, String peerId, PeerOutcome outcome);

  /** Drops sessions created before {@code cutoff}; returns how many. */
  int expire(Instant cutoff);

  int size();

  /** Adds another node's copy of a session, merged with ours when we have one ({@link Session#mergedWith}). */
  default void merge(Session session) {
    add(get(session.id()).map(mine -> mine.mergedWith(session)).orElse(session));
  }

  /** A snapshot of all sessions, for read-only views. */
  Collection<Session> all();
}
