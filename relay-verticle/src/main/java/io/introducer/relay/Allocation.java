package io.introducer.relay;

import io.introducer.protocol.TransactionId;
import io.vertx.core.buffer.Buffer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * One TURN allocation: the client's 5-tuple (the listening socket of its event loop, so the client address
 * identifies it), its relayed socket, lifetime, permissions and channel bindings. Touched only on that event
 * loop. Expiry is applied by {@link #sweep}, never checked per packet.
 */
final class Allocation {
  /** Permissions per allocation: bounds the memory one authenticated client can pin. */
  static final int MAX_PERMISSIONS = 1024;

  enum State { PENDING, ACTIVE, CLOSED }

  private static final ChannelBinding[] NONE = new ChannelBinding[0];

  /** The client's address: the key of the data path's lookup and the destination of what it relays back. */
  final InetSocketAddress client;
  /** The USERNAME of the Allocate, or of the credentials it rolled over to since (same user, later expiry). */
  String username;
  /** Whose quota it takes ({@link Authenticator.Identity#account}); {@code rest}: made with TURN REST credentials. */
  final String account;
  final boolean rest;
  final TransactionId allocateTxid;
  final long createdAt;
  State state = State.PENDING;
  /** The success response to the Allocate, re-sent for retransmissions the transaction cache forgot. */
  Buffer allocateResponse;
  /** The relayed socket, set once bound (state ACTIVE). */
  Flusher.Target relay;
  int relayPort;
  InetSocketAddress relayedAddress;
  long expiresAt;

  final Map<InetAddress, Permission> permissions = new HashMap<>();
  ChannelBinding[] channels = NONE;

  /** Per-direction bandwidth caps, null when unlimited. */
  final TokenBucket toPeerBucket;
  final TokenBucket toClientBucket;

  long bytesToPeer;
  long packetsToPeer;
  long bytesToClient;
  long packetsToClient;

  Allocation(InetSocketAddress client, String username, String account, boolean rest, TransactionId allocateTxid,
      long createdAt, TokenBucket toPeerBucket, TokenBucket toClientBucket) {
    this.client = client;
    this.username = username;
    this.account = account;
    this.rest = rest;
    this.allocateTxid = allocateTxid;
    this.createdAt = createdAt;
    this.toPeerBucket = toPeerBucket;
    this.toClientBucket = toClientBucket;
  }

  /** The active channel with this number, or null. Linear: allocations bind few channels. */
  ChannelBinding channel(int number) {
    for (ChannelBinding b : channels) {
      if (b.number == number) {
        return b.active ? b : null;
      }
    }
    return null;
  }

  /** The binding (active or cooling down) holding this number, or null. */
  ChannelBinding bindingByNumber(int number) {
    for (ChannelBinding b : channels) {
      if (b.number == number) {
        return b;
      }
    }
    return null;
  }

  /** The binding (active or cooling down) holding this peer, or null. */
  ChannelBinding bindingByPeer(InetSocketAddress peer) {
    for (ChannelBinding b : channels) {
      if (b.peer.equals(peer)) {
        return b;
      }
    }
    return null;
  }

  /** Creates or refreshes the permission for {@code peer}. */
  Permission permit(InetAddress peer, long expiresAt) {
    Permission p = permissions.get(peer);
    if (p == null) {
      p = new Permission(peer, expiresAt);
      permissions.put(peer, p);
    } else {
      p.expiresAt = Math.max(p.expiresAt, expiresAt);
      p.alive = true;
    }
    return p;
  }

  /** How many of {@code peers} would need a new permission entry. */
  int newPermissionsNeeded(Iterable<InetSocketAddress> peers) {
    int n = 0;
    for (InetSocketAddress a : peers) {
      if (!permissions.containsKey(a.getAddress())) {
        n++;
      }
    }
    return n;
  }

  /**
   * Binds or refreshes {@code number} to {@code peer} and refreshes the peer's permission. The caller
   * has checked that neither the number nor the peer is bound to something else.
   *
   * @return true when a new binding was made
   */
  boolean bind(int number, InetSocketAddress peer, long channelExpiresAt, long permissionExpiresAt) {
    Permission p = permit(peer.getAddress(), permissionExpiresAt);
    ChannelBinding b = bindingByNumber(number);
    if (b != null) {
      b.expiresAt = channelExpiresAt;
      b.active = true;
      return false;
    }
    b = new ChannelBinding(number, peer, p, channelExpiresAt);
    ChannelBinding[] next = Arrays.copyOf(channels, channels.length + 1);
    next[channels.length] = b;
    channels = next;
    p.addBinding(b);
    return true;
  }

  int activeChannels() {
    int n = 0;
    for (ChannelBinding b : channels) {
      if (b.active) {
        n++;
      }
    }
    return n;
  }

  int alivePermissions() {
    int n = 0;
    for (Permission p : permissions.values()) {
      if (p.alive) {
        n++;
      }
    }
    return n;
  }

  /**
   * Expires channels (into cool-down, then away) and permissions at {@code now}. A permission with
   * bindings stays in the table, dead, until its bindings are gone.
   */
  void sweep(long now, long coolDownMillis) {
    boolean removed = false;
    for (ChannelBinding b : channels) {
      if (b.active && b.expiresAt <= now) {
        b.active = false;
        b.coolDownUntil = now + coolDownMillis;
      }
      if (!b.active && b.coolDownUntil <= now) {
        b.permission.removeBinding(b);
        removed = true;
      }
    }
    if (removed) {
      channels = Arrays.stream(channels).filter(b -> b.active || b.coolDownUntil > now).toArray(ChannelBinding[]::new);
    }
    for (Iterator<Permission> it = permissions.values().iterator(); it.hasNext(); ) {
      Permission p = it.next();
      if (p.alive && p.expiresAt <= now) {
        p.alive = false;
      }
      if (!p.alive && p.bindings.length == 0) {
        it.remove();
      }
    }
  }
}
