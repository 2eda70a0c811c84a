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

  /**
   * A slice of {@link #expire}: removes registrations expired at {@code now}, but stops after examining about
   * {@code maxSteps} of them, so that a mass expiry does not hold the event loop; returns true when it got through
   * all that was due, false when it stopped early and should be called again. The default does it all at once.
   */
  default boolean expireSome(Instant now, int maxSteps) {
    expire(now);
    return true;
  }

  int size();

  /** A snapshot of all registrations, for read-only views. */
  Collection<Registration> all();
}
