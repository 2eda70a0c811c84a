package io.introducer.protocol.rendezvous;

/**
 * A peer's measured NAT behaviour (RFC 4787 vocabulary), carried in NAT-PROFILE (docs/PROTOCOL.md section 6).
 *
 * @param stride port step of a sequential allocator (0 otherwise)
 * @param lifetimeSeconds estimated mapping lifetime, 0 when unknown
 */
public record NatProfile(Mapping mapping, Filtering filtering, Allocation allocation, int stride, Hairpinning hairpinning,
    int lifetimeSeconds) {

  public enum Mapping { UNKNOWN, EIM, ADM, APDM }

  public enum Filtering { UNKNOWN, EIF, ADF, APDF }

  public enum Allocation { UNKNOWN, PRESERVING, SEQUENTIAL, RANDOM }

  public enum Hairpinning { UNKNOWN, YES, NO }

  /** The product-facing summary game platforms show. */
  public enum Summary { OPEN, MODERATE, STRICT, UNKNOWN }

  public static final NatProfile UNKNOWN =
      new NatProfile(Mapping.UNKNOWN, Filtering.UNKNOWN, Allocation.UNKNOWN, 0, Hairpinning.UNKNOWN, 0);

  public NatProfile {
    if (mapping == null || filtering == null || allocation == null || hairpinning == null) {
      throw new IllegalArgumentException("NAT profile fields must not be null");
    }
    if (stride < -128 || stride > 127) {
      throw new IllegalArgumentException("stride out of range: " + stride);
    }
    if (lifetimeSeconds < 0 || lifetimeSeconds > 0xFFFF) {
      throw new IllegalArgumentException("lifetime out of range: " + lifetimeSeconds);
    }
  }

  /** Endpoint-dependent mapping: a new external port per destination ("hard"). */
  public boolean endpointDependent() {
    return mapping == Mapping.ADM || mapping == Mapping.APDM;
  }

  public Summary summary() {
    if (mapping == Mapping.UNKNOWN) {
      return Summary.UNKNOWN;
    }
    if (endpointDependent()) {
      return Summary.STRICT;
    }
    return filtering == Filtering.EIF ? Summary.OPEN : Summary.MODERATE;
  }

  public byte[] encode() {
    return new byte[] {
        (byte) mapping.ordinal(), (byte) filtering.ordinal(), (byte) allocation.ordinal(), (byte) stride,
        (byte) hairpinning.ordinal(), 0, (byte) (lifetimeSeconds >>> 8), (byte) lifetimeSeconds};
  }

  /** Decodes a NAT-PROFILE value; null when malformed (receivers then treat the peer as unknown). */
  public static NatProfile decode(byte[] v) {
    if (v == null || v.length != 8) {
      return null;
    }
    int m = v[0] & 0xFF;
    int f = v[1] & 0xFF;
    int a = v[2] & 0xFF;
    int h = v[4] & 0xFF;
    if (m >= Mapping.values().length || f >= Filtering.values().length || a >= Allocation.values().length
        || h >= Hairpinning.values().length) {
      return null;
    }
    return new NatProfile(Mapping.values()[m], Filtering.values()[f], Allocation.values()[a], v[3],
        Hairpinning.values()[h], ((v[6] & 0xFF) << 8) | (v[7] & 0xFF));
  }
}
