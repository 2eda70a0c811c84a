package io.introducer.protocol.rendezvous;

import io.introducer.protocol.StunAddress;
import java.net.InetSocketAddress;

/**
 * A transport address at which a peer may be reached (cf. ICE candidates, RFC 8445).
 * Wire form of the CANDIDATE attribute: kind (1 byte), reserved (1 byte), then the XOR-MAPPED-ADDRESS
 * value layout XORed with the message's cookie and transaction id.
 */
public record Candidate(Kind kind, InetSocketAddress address) {

  public enum Kind {
    /** An address of the peer's own interface (LAN). */
    HOST(0),
    /** The address the introducer saw the peer's packets come from (its NAT mapping). */
    SERVER_REFLEXIVE(1),
    /** An address on a TURN relay. */
    RELAYED(2),
    /** A guessed NAT mapping (port prediction). */
    PREDICTED(3);

    private final int code;

    Kind(int code) {
      this.code = code;
    }

    public int code() {
      return code;
    }

    public static Kind of(int code) {
      for (Kind k : values()) {
        if (k.code == code) {
          return k;
        }
      }
      return null;
    }
  }

  public Candidate {
    if (kind == null || address == null || address.isUnresolved()) {
      throw new IllegalArgumentException("candidate needs a kind and a resolved address");
    }
  }

  public byte[] encode(byte[] transactionId) {
    byte[] addr = StunAddress.encodeXor(address, transactionId);
    byte[] v = new byte[2 + addr.length];
    v[0] = (byte) kind.code();
    System.arraycopy(addr, 0, v, 2, addr.length);
    return v;
  }

  /** Decodes a CANDIDATE value; null when malformed or of an unknown kind (ignored by receivers). */
  public static Candidate decode(byte[] value, byte[] transactionId) {
    if (value.length < 2 + 8) {
      return null;
    }
    Kind kind = Kind.of(value[0] & 0xFF);
    byte[] withCookie = new byte[20];
    // decodeXor expects the transaction id at offset 8 of the source array, like a raw message.
    System.arraycopy(transactionId, 0, withCookie, 8, 12);
    InetSocketAddress a = StunAddress.decodeXor(value, 2, value.length - 2, withCookie, 8);
    return kind == null || a == null ? null : new Candidate(kind, a);
  }

  @Override
  public String toString() {
    return kind.name().toLowerCase() + ":" + address.getAddress().getHostAddress() + ":" + address.getPort();
  }
}
