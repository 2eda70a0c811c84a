package io.introducer.protocol.rendezvous;

/** How two peers are to traverse their NATs; chosen by the introducer from both NAT profiles. */
public enum Strategy {
  /** Both send to every candidate at once (ICE-like); the default for endpoint-independent mappings. */
  SIMULTANEOUS(0),
  /** The peer behind the stricter NAT sends first; the other learns its port from what arrives. */
  HARD_SIDE_FIRST(1),
  /** Probe a window of predicted ports of a sequential allocator. */
  PORT_PREDICTION(2),
  /** The hard side opens many sockets and the easy side probes random ports. */
  BIRTHDAY(3),
  /** No direct path is possible; use a TURN relay. */
  RELAY(4);

  private final int code;

  Strategy(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static Strategy of(int code) {
    for (Strategy s : values()) {
      if (s.code == code) {
        return s;
      }
    }
    return null;
  }

  public String wireName() {
    return name().toLowerCase().replace('_', '-');
  }
}
