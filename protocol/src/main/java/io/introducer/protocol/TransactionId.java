package io.introducer.protocol;

import java.util.Arrays;

/** A 96-bit STUN transaction id usable as a map key. */
public final class TransactionId {
  private final byte[] bytes;
  private final int hash;

  public TransactionId(byte[] bytes) {
    if (bytes.length != 12) {
      throw new IllegalArgumentException("transaction id must be 12 bytes");
    }
    this.bytes = bytes.clone();
    this.hash = Arrays.hashCode(this.bytes);
  }

  public byte[] bytes() {
    return bytes.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TransactionId t && Arrays.equals(bytes, t.bytes);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return hex(bytes, 0, 12);
  }

  static String hex(byte[] b, int off, int len) {
    StringBuilder sb = new StringBuilder(len * 2);
    for (int i = off; i < off + len; i++) {
      sb.append(Character.forDigit((b[i] >> 4) & 0xF, 16)).append(Character.forDigit(b[i] & 0xF, 16));
    }
    return sb.toString();
  }
}
