package io.introducer.protocol;

import java.util.Arrays;

/**
 * A TURN ChannelData message (RFC 8656 section 12.4): 2-byte channel number (0x4000-0x4FFF), 2-byte
 * length of the application data, the data, and over stream transports padding to 4 bytes.
 *
 * <p>Over UDP the padding is optional (RFC 8656 12.5), so {@link #decode} accepts padded and unpadded
 * datagrams and ignores bytes after the claimed length; it refuses a datagram too short for its length.
 */
public record ChannelData(int channel, byte[] data) {
  public static final int HEADER_LENGTH = 4;
  public static final int MIN_CHANNEL = 0x4000;
  public static final int MAX_CHANNEL = 0x4FFF;

  public ChannelData {
    if (!isValidChannel(channel)) {
      throw new IllegalArgumentException(String.format("channel number 0x%04X outside 0x4000-0x4FFF", channel));
    }
    if (data.length > 0xFFFF) {
      throw new IllegalArgumentException("ChannelData payload too long: " + data.length);
    }
  }

  /** True for the channel numbers a client may bind (RFC 8656 section 12). */
  public static boolean isValidChannel(int channel) {
    return channel >= MIN_CHANNEL && channel <= MAX_CHANNEL;
  }

  /** Decodes one ChannelData datagram occupying {@code len} bytes at {@code off}. */
  public static ChannelData decode(byte[] buf, int off, int len) throws StunParseException {
    if (len < HEADER_LENGTH) {
      throw new StunParseException("channel-data-truncated", "shorter than the 4-byte ChannelData header: " + len);
    }
    int channel = StunMessage.readShort(buf, off);
    if (!isValidChannel(channel)) {
      throw new StunParseException("bad-channel", String.format("channel number 0x%04X", channel));
    }
    int dataLength = StunMessage.readShort(buf, off + 2);
    if (HEADER_LENGTH + dataLength > len) {
      throw new StunParseException("channel-data-truncated",
          "ChannelData claims " + dataLength + " bytes but the datagram carries " + (len - HEADER_LENGTH));
    }
    return new ChannelData(channel, Arrays.copyOfRange(buf, off + HEADER_LENGTH, off + HEADER_LENGTH + dataLength));
  }

  /** Encodes without padding, the usual form over UDP. */
  public byte[] encode() {
    return encode(false);
  }

  /** Encodes, padding the datagram to a multiple of 4 bytes when {@code pad} (required over TCP/TLS). */
  public byte[] encode(boolean pad) {
    int size = HEADER_LENGTH + data.length;
    byte[] out = new byte[pad ? (size + 3) & ~3 : size];
    StunMessage.writeShort(out, 0, channel);
    StunMessage.writeShort(out, 2, data.length);
    System.arraycopy(data, 0, out, HEADER_LENGTH, data.length);
    return out;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChannelData c && c.channel == channel && Arrays.equals(c.data, data);
  }

  @Override
  public int hashCode() {
    return 31 * channel + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return String.format("ChannelData[channel=0x%04X, %d bytes]", channel, data.length);
  }
}
