package io.introducer.node;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** What a node does; a node's config lists any combination. */
public enum Role {
  /** The UDP rendezvous: STUN Binding, registrations, introductions. */
  INTRODUCER,
  /** The TURN relay (RFC 8656) on UDP, for peers that cannot reach each other directly. */
  RELAY,
  /** The dashboard page and JSON API on the node's HTTP port (see the dashboard module). */
  DASHBOARD;

  /** Deployment order: the relay before the introducer, which hands out the relay's bound address. */
  int deployOrder() {
    return switch (this) {
      case RELAY -> 0;
      case INTRODUCER -> 1;
      case DASHBOARD -> 2;
    };
  }

  public static Role parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown role '" + name + "': this build offers " + names(), e);
    }
  }

  public static String names() {
    return Arrays.stream(values()).map(r -> r.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", "));
  }
}
