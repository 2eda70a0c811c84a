package io.introducer.protocol.rendezvous;

/**
 * PUNCH-PARAMS: sizes and pacing of the port-guessing strategies (docs/PROTOCOL.md section 7).
 *
 * @param socketCount sockets the hard side opens (birthday)
 * @param probeCount probes the easy side may send (birthday) or predicted ports (port prediction)
 * @param probesPerSecond pacing of those probes
 */
public record PunchParams(int socketCount, int probeCount, int probesPerSecond) {
  public static final PunchParams DEFAULT = new PunchParams(256, 2048, 1000);

  public PunchParams {
    check(socketCount, "socketCount");
    check(probeCount, "probeCount");
    check(probesPerSecond, "probesPerSecond");
    if (probesPerSecond == 0) {
      throw new IllegalArgumentException("probesPerSecond must be positive");
    }
  }

  private static void check(int v, String name) {
    if (v < 0 || v > 0xFFFF) {
      throw new IllegalArgumentException(name + " out of range 0-65535: " + v);
    }
  }

  public byte[] encode() {
    return new byte[] {(byte) (socketCount >>> 8), (byte) socketCount, (byte) (probeCount >>> 8), (byte) probeCount,
        (byte) (probesPerSecond >>> 8), (byte) probesPerSecond, 0, 0};
  }

  /** Null when malformed. */
  public static PunchParams decode(byte[] v) {
    if (v == null || v.length != 8) {
      return null;
    }
    int s = ((v[0] & 0xFF) << 8) | (v[1] & 0xFF);
    int p = ((v[2] & 0xFF) << 8) | (v[3] & 0xFF);
    int r = ((v[4] & 0xFF) << 8) | (v[5] & 0xFF);
    return r == 0 ? null : new PunchParams(s, p, r);
  }
}
