package io.introducer.relay;

import java.net.InetAddress;
import java.util.List;
import java.util.Set;

/**
 * Which peer addresses a client may open permissions and channels to. A relay that forwards to
 * loopback, private or link-local space lets anyone on the internet reach the relay's own network
 * (and cloud metadata at 169.254.169.254), so those are refused unless listed in {@code allowPeers}.
 */
public final class PeerPolicy {
  /** Ranges refused by default: special-purpose and non-global space (RFC 6890 and friends). */
  static final List<Cidr> REFUSED = List.of(
      Cidr.parse("0.0.0.0/8"),          // "this network", includes the unspecified address
      Cidr.parse("10.0.0.0/8"),         // RFC 1918
      Cidr.parse("100.64.0.0/10"),      // CGNAT shared space (RFC 6598)
      Cidr.parse("127.0.0.0/8"),        // loopback
      Cidr.parse("169.254.0.0/16"),     // link-local, incl. cloud metadata 169.254.169.254
      Cidr.parse("172.16.0.0/12"),      // RFC 1918
      Cidr.parse("192.0.0.0/24"),       // IETF protocol assignments
      Cidr.parse("192.168.0.0/16"),     // RFC 1918
      Cidr.parse("198.18.0.0/15"),      // benchmarking
      Cidr.parse("224.0.0.0/4"),        // multicast
      Cidr.parse("240.0.0.0/4"),        // reserved, incl. broadcast 255.255.255.255
      Cidr.parse("::/96"),              // unspecified, loopback, IPv4-compatible
      Cidr.parse("64:ff9b::/96"),       // NAT64: would reach any IPv4 address, private ones included
      Cidr.parse("2002::/16"),          // 6to4: embeds an IPv4 address
      Cidr.parse("fc00::/7"),           // unique local
      Cidr.parse("fe80::/10"),          // link-local
      Cidr.parse("fec0::/10"),          // deprecated site-local
      Cidr.parse("ff00::/8"));          // multicast

  private final List<Cidr> allow;
  private final Set<InetAddress> own;

  /**
   * @param allow prefixes always permitted (checked first: tests allow 127.0.0.0/8)
   * @param own the relay's own addresses, refused so a client cannot loop the relay into itself
   */
  public PeerPolicy(List<Cidr> allow, Set<InetAddress> own) {
    this.allow = List.copyOf(allow);
    this.own = Set.copyOf(own);
  }

  public boolean isAllowed(InetAddress peer) {
    for (Cidr c : allow) {
      if (c.contains(peer)) {
        return true;
      }
    }
    if (own.contains(peer)) {
      return false;
    }
    for (Cidr c : REFUSED) {
      if (c.contains(peer)) {
        return false;
      }
    }
    return true;
  }
}
