package io.introducer.protocol;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.zip.CRC32;

/**
 * Hand-assembles STUN datagrams for tests, independently of {@link StunMessage.Builder}, so malformed
 * messages can be made and the builder's output can be checked against a second implementation.
 */
final class Wire {
  static final int COOKIE = 0x2112A442;

  private Wire() {}

  /** Hex with any whitespace, as RFC hex dumps are laid out. */
  static byte[] hex(String s) {
    return HexFormat.of().parseHex(s.replaceAll("\\s+", ""));
  }

  static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  /** One TLV attribute, zero-padded to 4 bytes; {@code declaredLength} may lie about the value. */
  static byte[] attr(int type, int declaredLength, byte[] value) {
    int padded = (value.length + 3) & ~3;
    return ByteBuffer.allocate(4 + padded).putShort((short) type).putShort((short) declaredLength).put(value).array();
  }

  static byte[] attr(int type, byte[] value) {
    return attr(type, value.length, value);
  }

  /** A header with a correct length field followed by the given attributes. */
  static byte[] message(int messageType, byte[] transactionId, byte[]... attributes) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (byte[] a : attributes) {
      body.writeBytes(a);
    }
    return concat(header(messageType, body.size(), transactionId), body.toByteArray());
  }

  static byte[] header(int messageType, int bodyLength, byte[] transactionId) {
    return ByteBuffer.allocate(20).putShort((short) messageType).putShort((short) bodyLength).putInt(COOKIE)
        .put(transactionId).array();
  }

  /** Appends attributes and rewrites the length field to cover them. */
  static byte[] append(byte[] message, byte[]... attributes) {
    byte[] out = message;
    for (byte[] a : attributes) {
      out = concat(out, a);
    }
    return withLengthField(out, out.length - 20);
  }

  /** Appends a FINGERPRINT computed here (CRC-32 of everything before it, XOR 0x5354554E). */
  static byte[] appendFingerprint(byte[] message) {
    byte[] withPlaceholder = append(message, attr(0x8028, new byte[4]));
    CRC32 crc = new CRC32();
    crc.update(withPlaceholder, 0, withPlaceholder.length - 8);
    int value = (int) (crc.getValue() ^ 0x5354554EL);
    ByteBuffer.wrap(withPlaceholder).putInt(withPlaceholder.length - 4, value);
    return withPlaceholder;
  }

  static byte[] withLengthField(byte[] message, int length) {
    byte[] out = message.clone();
    ByteBuffer.wrap(out).putShort(2, (short) length);
    return out;
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** An IP literal (no DNS lookup happens for a literal). */
  static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(literal, e);
    }
  }

  static byte[] transactionId(int seed) {
    byte[] t = new byte[12];
    for (int i = 0; i < t.length; i++) {
      t[i] = (byte) (seed * 31 + i * 17);
    }
    return t;
  }
}
