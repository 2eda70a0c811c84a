package io.introducer.rendezvous;

import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Picks the TURN relay whose credentials a session's peers get in CONNECT success and INTRODUCE (docs/PROTOCOL.md
 * section 8). Called on the introducer's event loop for every session: an implementation answers from state it
 * holds (a cluster-wide one keeps a local view of relay load, updated from the event bus) and never blocks.
 */
@FunctionalInterface
public interface RelaySelector {

  /** A relay: where peers reach it, and the TURN REST shared secret it checks credentials with. */
  record Relay(InetSocketAddress address, String restSecret) {
    public Relay {
      if (address == null || address.isUnresolved() || restSecret == null || restSecret.isEmpty()) {
        throw new IllegalArgumentException("a relay needs a resolved address and a non-empty REST secret");
      }
    }

    @Override
    public String toString() {
      return "Relay[" + SessionJson.address(address) + "]";
    }
  }

  /**
   * A relay's announced load: allocations now, and its capacity (maximum of allocations). A relay with
   * {@code allocations >= capacity} is full and never chosen.
   */
  record Load(InetSocketAddress address, long allocations, long capacity) {
    public boolean full() {
      return allocations >= capacity;
    }

    double fraction() {
      return capacity <= 0 ? 1.0 : (double) allocations / capacity;
    }
  }

  /** At most this many relays are listed in REGISTER (and KEEPALIVE) success for the peer to measure. */
  int MAX_CANDIDATES = 4;

  /**
   * Relay choice tolerance band, absolute part: relays whose {@code max(rttA, rttB)} is within
   * {@code max(RTT_BAND_MIN_MICROS, RTT_BAND_FRACTION x best)} of the best relay's count as equally close and are
   * ranked by load ({@link #choose}). 2 ms: well above the jitter of a 3-sample Binding round, well below the RTT
   * difference a player notices.
   */
  long RTT_BAND_MIN_MICROS = 2_000;

  /** Relay choice tolerance band, relative part: 20 % of the best relay's max-RTT ({@link #RTT_BAND_MIN_MICROS}). */
  double RTT_BAND_FRACTION = 0.20;

  /** No relay: sessions get no credentials, and pairs that need a relay cannot connect. */
  RelaySelector NONE = (appId, initiator, responder) -> Optional.empty();

  /** Always the same relay (the node's own, or one from the configuration). */
  static RelaySelector fixed(Relay relay) {
    Optional<Relay> always = Optional.of(relay);
    List<InetSocketAddress> listed = List.of(relay.address());
    return new RelaySelector() {
      @Override
      public Optional<Relay> select(String appId, Registration initiator, Registration responder) {
        return always;
      }

      @Override
      public List<InetSocketAddress> candidates(String appId) {
        return listed;
      }
    };
  }

  /**
   * The relays a peer of {@code appId} may be given, for it to measure its RTT to them (RELAY-ADDRESS in REGISTER
   * success, and in KEEPALIVE success through {@link #relist}, docs/PROTOCOL.md section 8): at most
   * {@link #MAX_CANDIDATES}, none full. By default none (a selector that ignores RTTs gains nothing from them);
   * {@link #fixed} lists its relay, a cluster's selector the least loaded.
   */
  default List<InetSocketAddress> candidates(String appId) {
    return List.of();
  }

  /**
   * The relays to list in a KEEPALIVE success (RELAY-ADDRESS, docs/PROTOCOL.md section 8, relay choice) to a peer of
   * {@code appId} that reports RTTs to {@code reported}: {@link #candidates} when they are not the same set (a relay
   * joined, left or filled up since the peer measured), else none. Keepalives are the most frequent message (every
   * peer, every ~15 s), and four IPv4 RELAY-ADDRESS attributes are 48 bytes on an 84-byte success: listing them in
   * every one would add more than half to the introducer's keepalive traffic for news that comes rarely. The price of
   * comparing with what the peer reports rather than keeping per-peer state: a peer that does not report every listed
   * relay (one of them does not answer, or the peer does not measure at all) gets the list in every keepalive, as it
   * would if the list were always sent; a peer that measures compares sets and ignores a list it already has. Like
   * REGISTER success, only when there is a choice (two or more candidates).
   */
  default List<InetSocketAddress> relist(String appId, Collection<InetSocketAddress> reported) {
    List<InetSocketAddress> now = candidates(appId);
    return now.size() < 2 || new HashSet<>(now).equals(new HashSet<>(reported)) ? List.of() : now;
  }

  /** The relay for a new session of {@code appId} between these two registrations, or empty when there is none. */
  Optional<Relay> select(String appId, Registration initiator, Registration responder);

  /**
   * A relay for a session of {@code appId} whose relay was lost (RELAY-REQUEST, docs/PROTOCOL.md section 8): any but
   * the {@code excluded} addresses, or empty when there is none. Either registration may be null (the peer is
   * re-registering elsewhere). By default {@link #select}'s choice unless it is excluded; a selector that knows
   * several relays overrides this to pick among the others.
   */
  default Optional<Relay> replacement(String appId, Registration initiator, Registration responder,
      Set<InetSocketAddress> excluded) {
    return select(appId, initiator, responder).filter(r -> !excluded.contains(r.address()));
  }

  /**
   * The relays that are not full, least loaded (fraction of capacity) first, at most {@link #MAX_CANDIDATES}: what
   * a selector that knows several relays lists in {@link #candidates}.
   */
  static List<InetSocketAddress> leastLoaded(Collection<Load> relays) {
    return relays.stream().filter(l -> !l.full()).sorted(Comparator.comparingDouble(Load::fraction))
        .map(Load::address).limit(MAX_CANDIDATES).toList();
  }

  /**
   * The relay for a session between {@code a} and {@code b} among {@code relays} that are not full and not
   * {@code excluded} (docs/PROTOCOL.md section 8, relay choice). A relay both peers reported an RTT to (RELAY-RTT) is
   * ranked by the worse of the two, {@code max(rttA, rttB)}, and comes before any relay one of them did not measure;
   * those are ranked by load. RTTs within the tolerance band of the best one ({@link #RTT_BAND_MIN_MICROS},
   * {@link #RTT_BAND_FRACTION}) count as equal: among those relays the less loaded wins (then the lower RTT), so
   * near-equal relays share the load instead of one of them winning on measurement noise; a relay outside the band
   * loses to one inside it whatever the loads. Either registration may be null (its RTTs are then unknown): the
   * choice is the least loaded relay.
   */
  static Optional<InetSocketAddress> choose(Collection<Load> relays, Registration a, Registration b,
      Set<InetSocketAddress> excluded) {
    List<Load> usable = relays.stream().filter(l -> !l.full() && !excluded.contains(l.address())).toList();
    long best = usable.stream().mapToLong(l -> worseRtt(l.address(), a, b)).min().orElse(Long.MAX_VALUE);
    long bandEnd = best == Long.MAX_VALUE ? Long.MAX_VALUE : best + rttBand(best);
    // In the band (or all, when nobody has RTTs): rank 0, by load; outside it: by RTT, then load.
    Comparator<Load> order = Comparator.<Load>comparingLong(l -> {
      long rtt = worseRtt(l.address(), a, b);
      return rtt <= bandEnd ? 0 : rtt;
    }).thenComparingDouble(Load::fraction).thenComparingLong(l -> worseRtt(l.address(), a, b));
    return usable.stream().min(order).map(Load::address);
  }

  /** The width of the tolerance band above a best max-RTT of {@code bestMicros}: max(2 ms, 20 %). */
  static long rttBand(long bestMicros) {
    return Math.max(RTT_BAND_MIN_MICROS, (long) (bestMicros * RTT_BAND_FRACTION));
  }

  /** max(rttA, rttB) to {@code relay} in microseconds, or Long.MAX_VALUE when either peer did not report it. */
  private static long worseRtt(InetSocketAddress relay, Registration a, Registration b) {
    if (a == null || b == null) {
      return Long.MAX_VALUE;
    }
    Optional<Long> ra = a.relayRttMicros(relay);
    Optional<Long> rb = b.relayRttMicros(relay);
    return ra.isPresent() && rb.isPresent() ? Math.max(ra.get(), rb.get()) : Long.MAX_VALUE;
  }
}
