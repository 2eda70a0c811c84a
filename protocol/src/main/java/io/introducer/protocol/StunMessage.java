package io.introducer.protocol;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/**
 * A decoded STUN message (RFC 8489). Attributes are kept as views into the datagram so that
 * MESSAGE-INTEGRITY and FINGERPRINT can be checked over the exact bytes received.
 *
 * <p>{@link #decode} enforces the RFC's structural rules (cookie, lengths, padding, FINGERPRINT last
 * and correct) and throws {@link StunParseException} otherwise; attributes that follow
 * MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored as the RFC requires.
 */
public final class StunMessage {
  public static final int HEADER_LENGTH = 20;
  public static final int MAGIC_COOKIE = 0x2112A442;
  public static final int FINGERPRINT_XOR = 0x5354554E;
  /** Largest UDP payload (IPv4); {@link Builder#encode()} refuses to build a bigger message. */
  public static final int MAX_LENGTH = 65507;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final byte[] raw;
  private final int method;
  private final StunClass messageClass;
  private final int attrCount;
  private final int[] attrType;
  private final int[] attrOffset;
  private final int[] attrLength;
  private final int integrityOffset;       // offset of MESSAGE-INTEGRITY header, or -1
  private final int integritySha256Offset; // offset of MESSAGE-INTEGRITY-SHA256 header, or -1
  private final boolean fingerprint;

  private StunMessage(byte[] raw, int method, StunClass cls, int n, int[] types, int[] offsets, int[] lengths,
      int integrityOffset, int integritySha256Offset, boolean fingerprint) {
    this.raw = raw;
    this.method = method;
    this.messageClass = cls;
    this.attrCount = n;
    this.attrType = types;
    this.attrOffset = offsets;
    this.attrLength = lengths;
    this.integrityOffset = integrityOffset;
    this.integritySha256Offset = integritySha256Offset;
    this.fingerprint = fingerprint;
  }

  /** Cheap pre-check: could these bytes be a STUN message (first two bits zero, magic cookie)? */
  public static boolean looksLikeStun(byte[] buf, int off, int len) {
    return len >= HEADER_LENGTH && (buf[off] & 0xC0) == 0 && readInt(buf, off + 4) == MAGIC_COOKIE;
  }

  public static StunMessage decode(byte[] datagram) throws StunParseException {
    return decode(datagram, 0, datagram.length);
  }

  /** Decodes one STUN message that fills {@code len} bytes exactly (one UDP datagram). */
  public static StunMessage decode(byte[] buf, int off, int len) throws StunParseException {
    if (len < HEADER_LENGTH) {
      throw new StunParseException("truncated", "shorter than the 20-byte STUN header: " + len);
    }
    if ((buf[off] & 0xC0) != 0) {
      throw new StunParseException("not-stun", "first two bits are not zero");
    }
    if (readInt(buf, off + 4) != MAGIC_COOKIE) {
      throw new StunParseException("bad-cookie", "magic cookie mismatch");
    }
    int bodyLength = readShort(buf, off + 2);
    if ((bodyLength & 3) != 0) {
      throw new StunParseException("bad-length", "message length not a multiple of 4: " + bodyLength);
    }
    if (bodyLength != len - HEADER_LENGTH) {
      throw new StunParseException("bad-length", "message length " + bodyLength + " but datagram carries " + (len - HEADER_LENGTH));
    }
    byte[] raw = Arrays.copyOfRange(buf, off, off + len);
    int type = readShort(raw, 0);
    int method = (type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2);
    StunClass cls = StunClass.ofBits(((type >> 4) & 1) | ((type >> 7) & 2));

    int max = bodyLength / 4;
    int[] types = new int[max];
    int[] offsets = new int[max];
    int[] lengths = new int[max];
    int n = 0;
    int integrity = -1;
    int integrity256 = -1;
    boolean fingerprint = false;
    int pos = HEADER_LENGTH;
    while (pos < len) {
      if (fingerprint) {
        throw new StunParseException("fingerprint-not-last", "attribute after FINGERPRINT");
      }
      if (pos + 4 > len) {
        throw new StunParseException("truncated", "attribute header truncated at " + pos);
      }
      int at = readShort(raw, pos);
      int alen = readShort(raw, pos + 2);
      int padded = (alen + 3) & ~3;
      if (pos + 4 + padded > len) {
        throw new StunParseException("attribute-overrun", "attribute " + StunAttributes.name(at) + " overruns the message");
      }
      boolean afterIntegrity = integrity >= 0 || integrity256 >= 0;
      if (at == StunAttributes.FINGERPRINT) {
        if (alen != 4) {
          throw new StunParseException("bad-fingerprint", "FINGERPRINT length " + alen);
        }
        long expected = fingerprintOf(raw, pos);
        if ((readInt(raw, pos + 4) & 0xFFFFFFFFL) != expected) {
          throw new StunParseException("bad-fingerprint", "FINGERPRINT mismatch");
        }
        fingerprint = true;
      } else if (at == StunAttributes.MESSAGE_INTEGRITY && !afterIntegrity) {
        if (alen != 20) {
          throw new StunParseException("bad-integrity-length", "MESSAGE-INTEGRITY length " + alen);
        }
        integrity = pos;
      } else if (at == StunAttributes.MESSAGE_INTEGRITY_SHA256 && integrity256 < 0) {
        if (alen < 16 || alen > 32 || (alen & 3) != 0) {
          throw new StunParseException("bad-integrity-length", "MESSAGE-INTEGRITY-SHA256 length " + alen);
        }
        integrity256 = pos;
      } else if (afterIntegrity) {
        pos += 4 + padded; // RFC 8489 14.5: ignore what follows the integrity attributes
        continue;
      }
      types[n] = at;
      offsets[n] = pos + 4;
      lengths[n] = alen;
      n++;
      pos += 4 + padded;
    }
    return new StunMessage(raw, method, cls, n, types, offsets, lengths, integrity, integrity256, fingerprint);
  }

  static long fingerprintOf(byte[] raw, int fingerprintAttrOffset) {
    // The length field must cover the FINGERPRINT attribute itself while the CRC is computed.
    byte[] copy = Arrays.copyOf(raw, fingerprintAttrOffset);
    writeShort(copy, 2, fingerprintAttrOffset + 8 - HEADER_LENGTH);
    CRC32 crc = new CRC32();
    crc.update(copy, 0, fingerprintAttrOffset);
    return (crc.getValue() ^ FINGERPRINT_XOR) & 0xFFFFFFFFL;
  }

  public int method() {
    return method;
  }

  public StunClass messageClass() {
    return messageClass;
  }

  public boolean is(int method, StunClass cls) {
    return this.method == method && this.messageClass == cls;
  }

  /** A copy of the 96-bit transaction id. */
  public byte[] transactionId() {
    return Arrays.copyOfRange(raw, 8, 20);
  }

  /** The transaction id as a compact key for maps. */
  public TransactionId transactionKey() {
    return new TransactionId(transactionId());
  }

  /** The exact bytes of this message. */
  public byte[] bytes() {
    return raw.clone();
  }

  public int length() {
    return raw.length;
  }

  public boolean hasFingerprint() {
    return fingerprint;
  }

  public boolean hasIntegrity() {
    return integrityOffset >= 0;
  }

  public boolean hasIntegritySha256() {
    return integritySha256Offset >= 0;
  }

  /** Attribute types in order of appearance (those after integrity are not listed). */
  public List<Integer> attributeTypes() {
    List<Integer> out = new ArrayList<>(attrCount);
    for (int i = 0; i < attrCount; i++) {
      out.add(attrType[i]);
    }
    return out;
  }

  /** Comprehension-required attributes this codec does not know (answer 420 to a request carrying any). */
  public List<Integer> unknownComprehensionRequired() {
    List<Integer> out = new ArrayList<>(0);
    for (int i = 0; i < attrCount; i++) {
      if (!StunAttributes.isKnown(attrType[i]) && !out.contains(attrType[i])) {
        out.add(attrType[i]);
      }
    }
    return out;
  }

  private int indexOf(int type) {
    for (int i = 0; i < attrCount; i++) {
      if (attrType[i] == type) {
        return i;
      }
    }
    return -1;
  }

  public boolean has(int type) {
    return indexOf(type) >= 0;
  }

  /** Value of the first attribute of this type, or null. */
  public byte[] get(int type) {
    int i = indexOf(type);
    return i < 0 ? null : Arrays.copyOfRange(raw, attrOffset[i], attrOffset[i] + attrLength[i]);
  }

  /** Values of every attribute of this type, in order. */
  public List<byte[]> getAll(int type) {
    List<byte[]> out = new ArrayList<>(2);
    for (int i = 0; i < attrCount; i++) {
      if (attrType[i] == type) {
        out.add(Arrays.copyOfRange(raw, attrOffset[i], attrOffset[i] + attrLength[i]));
      }
    }
    return out;
  }

  public String getString(int type) {
    byte[] v = get(type);
    return v == null ? null : new String(v, StandardCharsets.UTF_8);
  }

  /** A 32-bit unsigned value, or -1 when absent or not 4 bytes long. */
  public long getU32(int type) {
    byte[] v = get(type);
    if (v == null || v.length != 4) {
      return -1;
    }
    return readInt(v, 0) & 0xFFFFFFFFL;
  }

  /** A 64-bit value, or null when absent or not 8 bytes long. */
  public Long getU64(int type) {
    byte[] v = get(type);
    if (v == null || v.length != 8) {
      return null;
    }
    return ((long) readInt(v, 0) << 32) | (readInt(v, 4) & 0xFFFFFFFFL);
  }

  /** An XOR-encoded address attribute (XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, ...), or null if absent or malformed. */
  public InetSocketAddress getXorAddress(int type) {
    byte[] v = get(type);
    return v == null ? null : StunAddress.decodeXor(v, 0, v.length, raw, 8);
  }

  /** A plain address attribute (MAPPED-ADDRESS, OTHER-ADDRESS, ...), or null if absent or malformed. */
  public InetSocketAddress getAddress(int type) {
    byte[] v = get(type);
    return v == null ? null : StunAddress.decodePlain(v, 0, v.length);
  }

  /** ERROR-CODE, or null if absent or malformed. */
  public ErrorCode errorCode() {
    byte[] v = get(StunAttributes.ERROR_CODE);
    if (v == null || v.length < 4) {
      return null;
    }
    int code = (v[2] & 0x7) * 100 + (v[3] & 0xFF);
    return new ErrorCode(code, new String(v, 4, v.length - 4, StandardCharsets.UTF_8));
  }

  /** UNKNOWN-ATTRIBUTES of a 420 response: the types the peer did not understand (empty when absent). */
  public List<Integer> unknownAttributes() {
    byte[] v = get(StunAttributes.UNKNOWN_ATTRIBUTES);
    List<Integer> out = new ArrayList<>(v == null ? 0 : v.length / 2);
    for (int i = 0; v != null && i + 1 < v.length; i += 2) {
      out.add(readShort(v, i));
    }
    return out;
  }

  /** Checks MESSAGE-INTEGRITY (HMAC-SHA1) under {@code key}; false if absent or wrong. */
  public boolean verifyIntegrity(byte[] key) {
    if (integrityOffset < 0) {
      return false;
    }
    byte[] mac = Hmac.sha1(key, hashInput(integrityOffset, 20));
    return MessageDigest.isEqual(mac, Arrays.copyOfRange(raw, integrityOffset + 4, integrityOffset + 24));
  }

  /** Checks MESSAGE-INTEGRITY-SHA256 under {@code key} (truncated values allowed); false if absent or wrong. */
  public boolean verifyIntegritySha256(byte[] key) {
    if (integritySha256Offset < 0) {
      return false;
    }
    int len = readShort(raw, integritySha256Offset + 2);
    byte[] mac = Hmac.sha256(key, hashInput(integritySha256Offset, len));
    return MessageDigest.isEqual(Arrays.copyOf(mac, len),
        Arrays.copyOfRange(raw, integritySha256Offset + 4, integritySha256Offset + 4 + len));
  }

  /** The bytes an integrity attribute at {@code attrOffset} covers, with the length field adjusted (RFC 8489 14.5). */
  private byte[] hashInput(int attrOffset, int valueLength) {
    byte[] in = Arrays.copyOf(raw, attrOffset);
    writeShort(in, 2, attrOffset + 4 + valueLength - HEADER_LENGTH);
    return in;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    sb.append(StunMethods.name(method)).append(' ').append(messageClass).append(" tx=")
        .append(TransactionId.hex(raw, 8, 12)).append(" [");
    for (int i = 0; i < attrCount; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(StunAttributes.name(attrType[i])).append('(').append(attrLength[i]).append(')');
    }
    return sb.append(']').toString();
  }

  // ---------------------------------------------------------------------------------------------
  // Building

  public static byte[] newTransactionId() {
    byte[] t = new byte[12];
    RANDOM.nextBytes(t);
    return t;
  }

  public static Builder builder(int method, StunClass cls) {
    return new Builder(method, cls, newTransactionId());
  }

  public static Builder builder(int method, StunClass cls, byte[] transactionId) {
    return new Builder(method, cls, transactionId);
  }

  /** A success response builder for {@code request}: same method and transaction id. */
  public static Builder successFor(StunMessage request) {
    return new Builder(request.method(), StunClass.SUCCESS_RESPONSE, request.transactionId());
  }

  /** An error response for {@code request} carrying ERROR-CODE. */
  public static Builder errorFor(StunMessage request, int code, String reason) {
    return new Builder(request.method(), StunClass.ERROR_RESPONSE, request.transactionId()).addErrorCode(code, reason);
  }

  /** Assembles a message; integrity and fingerprint attributes are computed in {@link #encode()}. */
  public static final class Builder {
    private final int method;
    private final StunClass cls;
    private final byte[] txid;
    private final List<int[]> headers = new ArrayList<>();
    private final List<byte[]> values = new ArrayList<>();
    private byte padding;
    private byte[] integrityKey;
    private byte[] integritySha256Key;
    private boolean fingerprint;

    private Builder(int method, StunClass cls, byte[] txid) {
      if (method < 0 || method > 0xFFF) {
        throw new IllegalArgumentException("method out of range: " + method);
      }
      if (txid == null || txid.length != 12) {
        throw new IllegalArgumentException("transaction id must be 12 bytes");
      }
      this.method = method;
      this.cls = cls;
      this.txid = txid.clone();
    }

    public byte[] transactionId() {
      return txid.clone();
    }

    /** Byte used to pad attribute values to 4 bytes (zero by default; RFC 5769's vectors use 0x20). */
    public Builder paddingByte(int b) {
      this.padding = (byte) b;
      return this;
    }

    public Builder add(int type, byte[] value) {
      if (value.length > 0xFFFF) {
        throw new IllegalArgumentException("attribute too long: " + value.length);
      }
      headers.add(new int[] {type});
      values.add(value.clone());
      return this;
    }

    public Builder addString(int type, String value) {
      return add(type, value.getBytes(StandardCharsets.UTF_8));
    }

    public Builder addU32(int type, long value) {
      byte[] v = new byte[4];
      writeInt(v, 0, (int) value);
      return add(type, v);
    }

    public Builder addU64(int type, long value) {
      byte[] v = new byte[8];
      writeInt(v, 0, (int) (value >>> 32));
      writeInt(v, 4, (int) value);
      return add(type, v);
    }

    public Builder addXorAddress(int type, InetSocketAddress address) {
      return add(type, StunAddress.encodeXor(address, txid));
    }

    public Builder addAddress(int type, InetSocketAddress address) {
      return add(type, StunAddress.encodePlain(address));
    }

    public Builder addErrorCode(int code, String reason) {
      if (code < 300 || code > 699) {
        throw new IllegalArgumentException("error code out of range: " + code);
      }
      byte[] r = reason.getBytes(StandardCharsets.UTF_8);
      int keep = utf8Prefix(r, 763); // RFC 8489 14.8: at most 763 bytes
      byte[] v = new byte[4 + keep];
      v[2] = (byte) (code / 100);
      v[3] = (byte) (code % 100);
      System.arraycopy(r, 0, v, 4, keep);
      return add(StunAttributes.ERROR_CODE, v);
    }

    /** Longest prefix of at most {@code max} bytes that does not split a UTF-8 sequence. */
    private static int utf8Prefix(byte[] utf8, int max) {
      if (utf8.length <= max) {
        return utf8.length;
      }
      int end = max;
      while (end > 0 && (utf8[end] & 0xC0) == 0x80) {
        end--; // utf8[end] continues a sequence: cut before the sequence starts
      }
      return end;
    }

    public Builder addUnknownAttributes(List<Integer> types) {
      byte[] v = new byte[types.size() * 2];
      for (int i = 0; i < types.size(); i++) {
        writeShort(v, i * 2, types.get(i));
      }
      return add(StunAttributes.UNKNOWN_ATTRIBUTES, v);
    }

    /** Appends MESSAGE-INTEGRITY (HMAC-SHA1) under {@code key} at encode time. */
    public Builder integrity(byte[] key) {
      this.integrityKey = key.clone();
      return this;
    }

    /** Appends MESSAGE-INTEGRITY-SHA256 (full 32 bytes) under {@code key} at encode time. */
    public Builder integritySha256(byte[] key) {
      this.integritySha256Key = key.clone();
      return this;
    }

    /** Appends FINGERPRINT at encode time. */
    public Builder fingerprint() {
      this.fingerprint = true;
      return this;
    }

    public byte[] encode() {
      int size = HEADER_LENGTH;
      for (byte[] v : values) {
        size += 4 + ((v.length + 3) & ~3);
      }
      int full = size + (integrityKey != null ? 24 : 0) + (integritySha256Key != null ? 36 : 0) + (fingerprint ? 8 : 0);
      if (full > MAX_LENGTH) {
        // also keeps the 16-bit length field from wrapping
        throw new IllegalStateException("message of " + full + " bytes exceeds the UDP maximum of " + MAX_LENGTH);
      }
      byte[] out = new byte[full];
      int type = (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2)
          | ((cls.bits() & 1) << 4) | ((cls.bits() & 2) << 7);
      writeShort(out, 0, type);
      writeInt(out, 4, MAGIC_COOKIE);
      System.arraycopy(txid, 0, out, 8, 12);
      int pos = HEADER_LENGTH;
      for (int i = 0; i < values.size(); i++) {
        byte[] v = values.get(i);
        writeShort(out, pos, headers.get(i)[0]);
        writeShort(out, pos + 2, v.length);
        System.arraycopy(v, 0, out, pos + 4, v.length);
        int padded = (v.length + 3) & ~3;
        Arrays.fill(out, pos + 4 + v.length, pos + 4 + padded, padding);
        pos += 4 + padded;
      }
      if (integrityKey != null) {
        writeShort(out, 2, pos + 24 - HEADER_LENGTH);
        byte[] mac = Hmac.sha1(integrityKey, Arrays.copyOf(out, pos));
        writeShort(out, pos, StunAttributes.MESSAGE_INTEGRITY);
        writeShort(out, pos + 2, 20);
        System.arraycopy(mac, 0, out, pos + 4, 20);
        pos += 24;
      }
      if (integritySha256Key != null) {
        writeShort(out, 2, pos + 36 - HEADER_LENGTH);
        byte[] mac = Hmac.sha256(integritySha256Key, Arrays.copyOf(out, pos));
        writeShort(out, pos, StunAttributes.MESSAGE_INTEGRITY_SHA256);
        writeShort(out, pos + 2, 32);
        System.arraycopy(mac, 0, out, pos + 4, 32);
        pos += 36;
      }
      if (fingerprint) {
        writeShort(out, 2, pos + 8 - HEADER_LENGTH);
        writeShort(out, pos, StunAttributes.FINGERPRINT);
        writeShort(out, pos + 2, 4);
        long crc = fingerprintOf(out, pos);
        writeInt(out, pos + 4, (int) crc);
        pos += 8;
      }
      writeShort(out, 2, pos - HEADER_LENGTH);
      return out;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Byte helpers (big-endian, network order)

  static int readShort(byte[] b, int off) {
    return ((b[off] & 0xFF) << 8) | (b[off + 1] & 0xFF);
  }

  static int readInt(byte[] b, int off) {
    return ((b[off] & 0xFF) << 24) | ((b[off + 1] & 0xFF) << 16) | ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
  }

  static void writeShort(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 8);
    b[off + 1] = (byte) v;
  }

  static void writeInt(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  static InetAddress address(byte[] bytes) {
    try {
      return InetAddress.getByAddress(bytes);
    } catch (UnknownHostException e) {
      return null; // only thrown for a bad length, which callers check first
    }
  }
}
