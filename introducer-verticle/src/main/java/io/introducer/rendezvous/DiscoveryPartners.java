package io.introducer.rendezvous;

import io.vertx.core.json.JsonObject;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Where a clustered introducer without a second IP of its own ({@code alternateHost}) finds the "IP2" of RFC 5780:
 * another node (docs/PROTOCOL.md section 6). Every node publishes its introducer's primary address and alternate
 * port; each picks as partner the next live member after itself, in member order, whose IP differs from its own.
 * Its Binding responses then name the partner's alternate address in OTHER-ADDRESS, and the partner answers the
 * CHANGE-REQUESTs for another IP on its behalf. The node implements this over its cluster state.
 */
public interface DiscoveryPartners {
  /**
   * One node's introducer as the others see it.
   *
   * @param nodeId the node's id (its event-bus addresses are derived from it)
   * @param primary the address clients reach its primary socket at (IP:P1)
   * @param alternatePort its alternate port P2 on the same IP, or -1 when it has none
   */
  record Partner(String nodeId, InetSocketAddress primary, int alternatePort) {
    public Partner {
      Objects.requireNonNull(nodeId, "nodeId");
      Objects.requireNonNull(primary, "primary");
      if (primary.isUnresolved() || primary.getAddress().isAnyLocalAddress()) {
        throw new IllegalArgumentException("a partner needs a concrete address, not " + primary);
      }
    }

    /** IP:P2. */
    public InetSocketAddress alternate() {
      return new InetSocketAddress(primary.getAddress(), alternatePort);
    }

    /** As published to the other nodes: {@code {"host": IP literal, "port": P1, "alternatePort": P2}}. */
    public JsonObject toJson() {
      return new JsonObject().put("host", primary.getAddress().getHostAddress()).put("port", primary.getPort())
          .put("alternatePort", alternatePort);
    }

    /** The inverse of {@link #toJson} (never a name lookup). @throws IllegalArgumentException when malformed */
    public static Partner fromJson(String nodeId, JsonObject j) {
      InetAddress ip = IntroducerConfig.tryLiteral(j.getString("host"));
      Integer port = j.getInteger("port");
      if (ip == null || port == null || port <= 0 || port > 0xFFFF) {
        throw new IllegalArgumentException("not an introducer record: " + j.encode());
      }
      return new Partner(nodeId, new InetSocketAddress(ip, port), j.getInteger("alternatePort", -1));
    }
  }

  /**
   * Publishes this node's introducer and, from then on, reports its partner to {@code changes}: once at once and then
   * on every change (null when there is none), from any thread, never blocking.
   */
  void join(Partner self, Consumer<Partner> changes);

  /** Stops reporting and withdraws this node's introducer. */
  void leave();

  /**
   * The partner of {@code self}: the first of the members after it, in {@code members} order and wrapping around,
   * that published an introducer with an alternate port on an IP of the same family but other than {@code self}'s.
   * Null when there is none. The same inputs give the same partner on every node.
   */
  static Partner pick(List<String> members, Partner self, Map<String, Partner> published) {
    int n = members.size();
    int at = members.indexOf(self.nodeId());
    for (int i = 1; i <= n; i++) {
      String id = members.get(Math.floorMod(at + i, n));
      Partner p = id.equals(self.nodeId()) ? null : published.get(id);
      if (p != null && p.alternatePort() > 0 && p.alternatePort() != p.primary().getPort()
          && !p.primary().getAddress().equals(self.primary().getAddress())
          && (p.primary().getAddress() instanceof Inet4Address) == (self.primary().getAddress() instanceof Inet4Address)) {
        return p;
      }
    }
    return null;
  }
}
