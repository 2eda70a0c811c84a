package io.introducer.client;

/** How a {@link PeerChannel}'s datagrams travel. */
public enum Path {
  /** Straight between the two peers' NAT mappings (or LAN addresses): a hole was punched. */
  DIRECT,
  /** Through a TURN relay, when no direct path could be opened. */
  RELAY
}
