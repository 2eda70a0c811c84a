package io.introducer.rendezvous;

import java.net.InetSocketAddress;
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

  /** No relay: sessions get no credentials, and pairs that need a relay cannot connect. */
  RelaySelector NONE = (appId, initiator, responder) -> Optional.empty();

  /** Always the same relay (the node's own, or one from the configuration). */
  static RelaySelector fixed(Relay relay) {
    Optional<Relay> always = Optional.of(relay);
    return (appId, initiator, responder) -> always;
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
}
