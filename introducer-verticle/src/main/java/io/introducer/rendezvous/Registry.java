package io.introducer.rendezvous;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Collection;
import java.util.Optional;

/**
 * Registered peers by (app id, peer id). The introducer writes from its event loop only; implementations
 * must still allow concurrent reads (a dashboard reads from other threads).
 */
public interface Registry {

  /** The registration, expired or not: callers decide what an expired one means. */
  Optional<Registration> get(String appId, String peerId);

  /** Adds or replaces the registration of its (app id, peer id). */
  void put(Registration registration);

  /** Follows the peer to {@code source} and extends its life; empty when it is not registered. */
  Optional<Registration> touch(String appId, String peerId, InetSocketAddress source, Instant expiresAt);

  /** Returns whether a registration was removed. */
  boolean remove(String appId, String peerId);

  /** Removes every registration expired at {@code now}; returns how many. */
  int expire(Instant now);

  int size();

  /** A snapshot of all registrations, for read-only views. */
  Collection<Registration> all();
}
