package io.introducer.protocol;

/**
 * STUN method numbers. Standard ones from RFC 8489 / RFC 8656; Introducer's rendezvous methods sit in
 * 0x060-0x06F, unassigned by IANA and below 0x080 so the first byte stays in 0-3 (RFC 7983 demux).
 */
public final class StunMethods {
  private StunMethods() {}

  public static final int BINDING = 0x001;
  public static final int ALLOCATE = 0x003;
  public static final int REFRESH = 0x004;
  public static final int SEND = 0x006;
  public static final int DATA = 0x007;
  public static final int CREATE_PERMISSION = 0x008;
  public static final int CHANNEL_BIND = 0x009;

  /** Peer to introducer: register a peer id and its candidates. */
  public static final int REGISTER = 0x060;
  /** Peer to introducer: refresh a registration and the NAT mapping. */
  public static final int KEEPALIVE = 0x061;
  /** Peer to introducer: ask to be introduced to another peer. */
  public static final int CONNECT = 0x062;
  /** Introducer to peer: another peer wants to connect; punch now. */
  public static final int INTRODUCE = 0x063;
  /** Peer to peer: authenticated connectivity check, and later consent/RTT probe. */
  public static final int PUNCH = 0x064;
  /** Peer to introducer: the outcome of a session's traversal. */
  public static final int RESULT = 0x065;
  /** Peer to peer indication: the channel is closed. */
  public static final int CLOSE = 0x066;
  /** Peer to introducer: remove the registration now. */
  public static final int DEREGISTER = 0x067;
  /** Peer to introducer to the other peer: late candidates (e.g. a relayed address) for a session. */
  public static final int UPDATE = 0x068;
  /**
   * Peer to introducer: fresh TURN credentials for an open session whose relay was lost, on another relay than the
   * one named (docs/PROTOCOL.md section 8).
   */
  public static final int RELAY_REQUEST = 0x069;

  public static String name(int method) {
    switch (method) {
      case BINDING: return "Binding";
      case ALLOCATE: return "Allocate";
      case REFRESH: return "Refresh";
      case SEND: return "Send";
      case DATA: return "Data";
      case CREATE_PERMISSION: return "CreatePermission";
      case CHANNEL_BIND: return "ChannelBind";
      case REGISTER: return "Register";
      case KEEPALIVE: return "Keepalive";
      case CONNECT: return "Connect";
      case INTRODUCE: return "Introduce";
      case PUNCH: return "Punch";
      case RESULT: return "Result";
      case CLOSE: return "Close";
      case DEREGISTER: return "Deregister";
      case UPDATE: return "Update";
      case RELAY_REQUEST: return "RelayRequest";
      default: return String.format("0x%03X", method);
    }
  }
}
