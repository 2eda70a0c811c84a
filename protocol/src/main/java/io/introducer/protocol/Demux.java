package io.introducer.protocol;

/**
 * Classifies a datagram by its first byte, as RFC 7983 does, so that STUN/TURN control traffic,
 * TURN ChannelData and the SDK's application data share one socket.
 */
public final class Demux {
  /** First byte of an application data frame sent between two SDK peers. */
  public static final int APP_DATA = 0xDA;

  public enum Kind { STUN, CHANNEL_DATA, APP_DATA, OTHER }

  private Demux() {}

  public static Kind classify(int firstByte) {
    int b = firstByte & 0xFF;
    if (b <= 3) {
      return Kind.STUN;
    }
    if (b >= 64 && b <= 79) {
      return Kind.CHANNEL_DATA;
    }
    if (b == APP_DATA) {
      return Kind.APP_DATA;
    }
    return Kind.OTHER;
  }
}
