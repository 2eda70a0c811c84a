package io.introducer.protocol;

/** Attribute type numbers: RFC 8489, RFC 8656 (TURN), RFC 5780, and Introducer's own (docs/PROTOCOL.md). */
public final class StunAttributes {
  private StunAttributes() {}

  // RFC 8489, comprehension-required (0x0000-0x7FFF)
  public static final int MAPPED_ADDRESS = 0x0001;
  public static final int CHANGE_REQUEST = 0x0003;
  public static final int USERNAME = 0x0006;
  public static final int MESSAGE_INTEGRITY = 0x0008;
  public static final int ERROR_CODE = 0x0009;
  public static final int UNKNOWN_ATTRIBUTES = 0x000A;
  public static final int REALM = 0x0014;
  public static final int NONCE = 0x0015;
  public static final int MESSAGE_INTEGRITY_SHA256 = 0x001C;
  public static final int PASSWORD_ALGORITHM = 0x001D;
  public static final int USERHASH = 0x001E;
  public static final int XOR_MAPPED_ADDRESS = 0x0020;

  // RFC 8656 (TURN), comprehension-required
  public static final int CHANNEL_NUMBER = 0x000C;
  public static final int LIFETIME = 0x000D;
  public static final int XOR_PEER_ADDRESS = 0x0012;
  public static final int DATA = 0x0013;
  public static final int XOR_RELAYED_ADDRESS = 0x0016;
  public static final int REQUESTED_ADDRESS_FAMILY = 0x0017;
  public static final int EVEN_PORT = 0x0018;
  public static final int REQUESTED_TRANSPORT = 0x0019;
  public static final int DONT_FRAGMENT = 0x001A;
  public static final int RESERVATION_TOKEN = 0x0022;

  // comprehension-optional (0x8000-0xFFFF)
  public static final int PASSWORD_ALGORITHMS = 0x8002;
  public static final int ALTERNATE_DOMAIN = 0x8003;
  public static final int SOFTWARE = 0x8022;
  public static final int ALTERNATE_SERVER = 0x8023;
  public static final int FINGERPRINT = 0x8028;
  public static final int RESPONSE_ORIGIN = 0x802B;
  /** RFC 5780: send the response to this port (comprehension-required). */
  public static final int RESPONSE_PORT = 0x0027;
  /** RFC 5780: pad the response (comprehension-required). */
  public static final int PADDING = 0x0026;
  public static final int OTHER_ADDRESS = 0x802C;

  // Introducer rendezvous attributes, comprehension-optional, expert-review range (docs/PROTOCOL.md)
  public static final int PEER_ID = 0xC101;
  public static final int APP_ID = 0xC102;
  public static final int TIMESTAMP = 0xC103;
  public static final int CANDIDATE = 0xC104;
  public static final int SESSION_ID = 0xC105;
  public static final int SESSION_KEY = 0xC106;
  public static final int REGISTRATION_LIFETIME = 0xC107;
  public static final int ROLE = 0xC108;
  public static final int PUNCH_WINDOW = 0xC109;
  public static final int OUTCOME = 0xC10A;
  public static final int REASON = 0xC10B;
  public static final int TARGET_PEER_ID = 0xC10C;
  public static final int STRATEGY = 0xC10D;
  public static final int NAT_PROFILE = 0xC10E;
  public static final int PUNCH_PARAMS = 0xC10F;
  public static final int RELAY_ADDRESS = 0xC110;
  public static final int RELAY_USERNAME = 0xC111;
  public static final int RELAY_PASSWORD = 0xC112;
  /** 8 bytes, Unix seconds: the expiry of the peer token whose key signs the request (docs/PROTOCOL.md section 3). */
  public static final int TOKEN_EXPIRY = 0xC113;
  /**
   * Empty, in a PUNCH request: the sender (the birthday strategy's hard side) carries the channel on the socket and
   * address this request comes from, and the recipient should too (docs/PROTOCOL.md section 7).
   */
  public static final int NOMINATED = 0xC114;
  /**
   * Empty, in a RELAY-REQUEST: a renewal, not a failover. The session's relay (named in RELAY-ADDRESS) still works but
   * the peer's credentials for it are about to expire; the introducer prefers another relay, and may answer with the
   * same one (docs/PROTOCOL.md section 8).
   */
  public static final int RENEWAL = 0xC115;
  /**
   * In REGISTER and KEEPALIVE (may repeat, at most 4): the peer's smoothed RTT to a relay the introducer listed
   * (u32 microseconds, then an XOR-MAPPED-ADDRESS value; docs/PROTOCOL.md section 8, relay choice).
   */
  public static final int RELAY_RTT = 0xC116;

  /** RFC 8489 section 14: types 0x0000-0x7FFF must be understood or the request is rejected (420). */
  public static boolean isComprehensionRequired(int type) {
    return (type & 0x8000) == 0;
  }

  /** Attribute types this codec and its users understand; any other comprehension-required type is "unknown". */
  public static boolean isKnown(int type) {
    switch (type) {
      case MAPPED_ADDRESS: case CHANGE_REQUEST: case USERNAME: case MESSAGE_INTEGRITY: case ERROR_CODE:
      case UNKNOWN_ATTRIBUTES: case REALM: case NONCE: case MESSAGE_INTEGRITY_SHA256: case PASSWORD_ALGORITHM:
      case USERHASH: case XOR_MAPPED_ADDRESS: case CHANNEL_NUMBER: case LIFETIME: case XOR_PEER_ADDRESS:
      case DATA: case XOR_RELAYED_ADDRESS: case REQUESTED_ADDRESS_FAMILY: case EVEN_PORT:
      case REQUESTED_TRANSPORT: case DONT_FRAGMENT: case RESERVATION_TOKEN: case RESPONSE_PORT:
        return true;
      default:
        return !isComprehensionRequired(type);
    }
  }

  public static String name(int type) {
    switch (type) {
      case MAPPED_ADDRESS: return "MAPPED-ADDRESS";
      case USERNAME: return "USERNAME";
      case MESSAGE_INTEGRITY: return "MESSAGE-INTEGRITY";
      case ERROR_CODE: return "ERROR-CODE";
      case UNKNOWN_ATTRIBUTES: return "UNKNOWN-ATTRIBUTES";
      case REALM: return "REALM";
      case NONCE: return "NONCE";
      case MESSAGE_INTEGRITY_SHA256: return "MESSAGE-INTEGRITY-SHA256";
      case XOR_MAPPED_ADDRESS: return "XOR-MAPPED-ADDRESS";
      case SOFTWARE: return "SOFTWARE";
      case FINGERPRINT: return "FINGERPRINT";
      case PEER_ID: return "PEER-ID";
      case APP_ID: return "APP-ID";
      case TIMESTAMP: return "TIMESTAMP";
      case CANDIDATE: return "CANDIDATE";
      case SESSION_ID: return "SESSION-ID";
      case SESSION_KEY: return "SESSION-KEY";
      case TOKEN_EXPIRY: return "TOKEN-EXPIRY";
      case NOMINATED: return "NOMINATED";
      case RENEWAL: return "RENEWAL";
      case RELAY_RTT: return "RELAY-RTT";
      default: return String.format("0x%04X", type);
    }
  }
}
