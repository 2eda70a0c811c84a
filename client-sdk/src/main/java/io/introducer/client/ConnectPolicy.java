package io.introducer.client;

/**
 * Whether and when a connection may travel through a TURN relay (docs/PROTOCOL.md section 8). The
 * introducer hands out relay credentials when it knows a relay; without them every policy can only punch.
 */
public enum ConnectPolicy {
  /**
   * Never relay: punch, and fail with {@code "punch timed out"} (or {@code "relay required"} when the
   * introducer says the two NATs cannot be punched) when no direct path opens. Relayed candidates the other
   * peer announces are ignored.
   */
  DIRECT_ONLY,
  /**
   * Punch; when the punch window ends without a direct path, or the introducer's strategy says a relay is
   * needed, fall back to the relay. The channel then reports {@link Path#RELAY}. The default.
   */
  AUTO,
  /**
   * Allocate on the relay at once: the channel opens through it ({@link Path#RELAY}) as soon as possible,
   * while punching goes on for the punch window; when a direct path opens, the same {@link PeerChannel}
   * moves to it ({@link Path#DIRECT}, see {@link PeerChannel#onPathChange}) and the relay is released.
   */
  RELAY_FIRST
}
