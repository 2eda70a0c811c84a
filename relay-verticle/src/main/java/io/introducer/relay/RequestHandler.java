package io.introducer.relay;

import io.introducer.protocol.ChannelData;
import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.StunAddress;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.TransactionId;
import io.vertx.core.buffer.Buffer;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers STUN requests on the relay's listening socket: Binding, and the TURN requests Allocate,
 * Refresh, CreatePermission and ChannelBind (RFC 8656 sections 7-12) after long-term authentication.
 * Authenticated answers are cached per client address and transaction id, so retransmissions get the
 * same answer and never a second allocation. Runs on the relay's event loop only.
 */
final class RequestHandler {
  private static final Logger log = LoggerFactory.getLogger(RequestHandler.class);
  static final int PEER_ADDRESS_FAMILY_MISMATCH = 443;
  private static final int UDP = 17;

  private final RelayConfig config;
  private final Clock clock;
  private final Authenticator auth;
  private final AllocationManager allocations;
  private final PeerPolicy policy;
  private final TransactionCache cache;
  private final SourceRateLimiter unauthLimiter;
  private final RelayCounters counters;
  private final BiConsumer<InetSocketAddress, Buffer> out;
  private final boolean ipv6;

  RequestHandler(RelayConfig config, Clock clock, Authenticator auth, AllocationManager allocations, PeerPolicy policy,
      TransactionCache cache, SourceRateLimiter unauthLimiter, RelayCounters counters,
      BiConsumer<InetSocketAddress, Buffer> out) {
    this.config = config;
    this.clock = clock;
    this.auth = auth;
    this.allocations = allocations;
    this.policy = policy;
    this.cache = cache;
    this.unauthLimiter = unauthLimiter;
    this.counters = counters;
    this.out = out;
    this.ipv6 = allocations.ipv6();
  }

  void onRequest(StunMessage req, InetSocketAddress from) {
    long now = clock.millis();
    Buffer cached = cache.get(from, req.transactionKey(), now);
    if (cached != null) {
      counters.retransmissionsAnswered.increment();
      out.accept(from, cached);
      return;
    }
    switch (req.method()) {
      case StunMethods.BINDING -> binding(req, from);
      case StunMethods.ALLOCATE, StunMethods.REFRESH, StunMethods.CREATE_PERMISSION, StunMethods.CHANNEL_BIND ->
          turn(req, from, now);
      default -> {
        if (unauthAllowed(from)) {
          sendError(req, from, ErrorCode.BAD_REQUEST, "Bad Request: unsupported method", null, null);
        }
      }
    }
  }

  private void binding(StunMessage req, InetSocketAddress from) {
    if (!unauthAllowed(from)) {
      return;
    }
    byte[] resp = StunMessage.successFor(req).addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, from)
        .fingerprint().encode();
    out.accept(from, Buffer.buffer(resp));
  }

  private void turn(StunMessage req, InetSocketAddress from, long now) {
    Authenticator.Outcome outcome = auth.authenticate(req, from.getAddress().getHostAddress());
    if (outcome.refusal() != null) {
      refuse(req, from, outcome.refusal());
      return;
    }
    Authenticator.Identity id = outcome.identity();
    List<Integer> unknown = new ArrayList<>(req.unknownComprehensionRequired());
    // Java cannot set DF on a datagram: RFC 8656 7.2 says to treat DONT-FRAGMENT as unknown then.
    if (req.method() == StunMethods.ALLOCATE && req.has(StunAttributes.DONT_FRAGMENT)) {
      unknown.add(StunAttributes.DONT_FRAGMENT);
    }
    if (!unknown.isEmpty()) {
      StunMessage.Builder b = StunMessage.errorFor(req, ErrorCode.UNKNOWN_ATTRIBUTE, "Unknown Attribute")
          .addUnknownAttributes(unknown);
      reply(req, from, id, b, ErrorCode.UNKNOWN_ATTRIBUTE);
      return;
    }
    switch (req.method()) {
      case StunMethods.ALLOCATE -> allocate(req, from, id, now);
      case StunMethods.REFRESH -> refresh(req, from, id, now);
      case StunMethods.CREATE_PERMISSION -> createPermission(req, from, id, now);
      default -> channelBind(req, from, id, now);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Allocate (RFC 8656 7.2)

  private void allocate(StunMessage req, InetSocketAddress from, Authenticator.Identity id, long now) {
    TransactionId txid = req.transactionKey();
    Allocation existing = allocations.get(from);
    if (existing != null) {
      if (!existing.allocateTxid.equals(txid)) {
        error(req, from, id, ErrorCode.ALLOCATION_MISMATCH, "Allocation Mismatch");
      } else if (existing.state == Allocation.State.ACTIVE) {
        counters.retransmissionsAnswered.increment();
        out.accept(from, existing.allocateResponse);
      } else {
        counters.drop("retransmit-in-progress");
      }
      return;
    }
    byte[] transport = req.get(StunAttributes.REQUESTED_TRANSPORT);
    if (transport == null || transport.length != 4) {
      error(req, from, id, ErrorCode.BAD_REQUEST, "Bad Request: REQUESTED-TRANSPORT is required");
      return;
    }
    if ((transport[0] & 0xFF) != UDP) {
      error(req, from, id, ErrorCode.UNSUPPORTED_TRANSPORT, "Unsupported Transport Protocol");
      return;
    }
    byte[] evenPort = req.get(StunAttributes.EVEN_PORT);
    boolean hasToken = req.has(StunAttributes.RESERVATION_TOKEN);
    byte[] family = req.get(StunAttributes.REQUESTED_ADDRESS_FAMILY);
    if (hasToken && (evenPort != null || family != null)) {
      error(req, from, id, ErrorCode.BAD_REQUEST, "Bad Request: RESERVATION-TOKEN with EVEN-PORT or REQUESTED-ADDRESS-FAMILY");
      return;
    }
    if (hasToken) {
      // This relay never hands out reservation tokens, so none is valid (RFC 8656 7.2: 508).
      error(req, from, id, ErrorCode.INSUFFICIENT_CAPACITY, "Insufficient Capacity: unknown reservation token");
      return;
    }
    if (evenPort != null && evenPort.length != 1) {
      error(req, from, id, ErrorCode.BAD_REQUEST, "Bad Request: malformed EVEN-PORT");
      return;
    }
    if (evenPort != null && (evenPort[0] & 0x80) != 0) {
      error(req, from, id, ErrorCode.INSUFFICIENT_CAPACITY, "Insufficient Capacity: port reservation not supported");
      return;
    }
    if (family != null) {
      if (family.length != 4) {
        error(req, from, id, ErrorCode.BAD_REQUEST, "Bad Request: malformed REQUESTED-ADDRESS-FAMILY");
        return;
      }
      int wanted = family[0] & 0xFF;
      if (wanted != (ipv6 ? StunAddress.FAMILY_IPV6 : StunAddress.FAMILY_IPV4)) {
        error(req, from, id, ErrorCode.ADDRESS_FAMILY_NOT_SUPPORTED, "Address Family not Supported");
        return;
      }
    }
    long lifetime = desiredLifetime(req);
    if (lifetime < 0) {
      error(req, from, id, ErrorCode.BAD_REQUEST, "Bad Request: malformed LIFETIME");
      return;
    }
    switch (allocations.admit(id.account())) { // on OK the quota is taken: create() follows at once
      case QUOTA -> {
        error(req, from, id, ErrorCode.ALLOCATION_QUOTA_REACHED, "Allocation Quota Reached");
        return;
      }
      case CAPACITY -> {
        error(req, from, id, ErrorCode.INSUFFICIENT_CAPACITY, "Insufficient Capacity");
        return;
      }
      default -> { }
    }
    Allocation a = allocations.create(from, id, txid, now);
    allocations.bind(a, evenPort != null).onComplete(ar -> {
      if (ar.failed()) {
        allocations.delete(a, false);
        log.warn("Allocate from {} refused: {}", from, ar.cause().getMessage());
        error(req, from, id, ErrorCode.INSUFFICIENT_CAPACITY, "Insufficient Capacity: no relay port");
        return;
      }
      long at = clock.millis();
      a.expiresAt = at + lifetime * 1000;
      StunMessage.Builder b = StunMessage.successFor(req)
          .addXorAddress(StunAttributes.XOR_RELAYED_ADDRESS, a.relayedAddress)
          .addU32(StunAttributes.LIFETIME, lifetime)
          .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, from)
          .addString(StunAttributes.SOFTWARE, config.software());
      a.allocateResponse = reply(req, from, id, b, 0);
      log.debug("allocation {} for {} at {} ({} s)", a.relayedAddress, id.username(), from, lifetime);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Refresh (RFC 8656 7.3)

  private void refresh(StunMessage req, InetSocketAddress from, Authenticator.Identity id, long now) {
    Allocation a = owned(req, from, id);
    if (a == null) {
      return;
    }
    byte[] family = req.get(StunAttributes.REQUESTED_ADDRESS_FAMILY);
    if (family != null && (family.length != 4
        || (family[0] & 0xFF) != (ipv6 ? StunAddress.FAMILY_IPV6 : StunAddress.FAMILY_IPV4))) {
      error(req, from, id, PEER_ADDRESS_FAMILY_MISMATCH, "Peer Address Family Mismatch");
      return;
    }
    long lifetime = req.has(StunAttributes.LIFETIME) && req.getU32(StunAttributes.LIFETIME) == 0 ? 0 : desiredLifetime(req);
    if (lifetime < 0) {
      error(req, from, id, ErrorCode.BAD_REQUEST, "Bad Request: malformed LIFETIME");
      return;
    }
    if (lifetime == 0) {
      allocations.delete(a, false);
    } else {
      a.expiresAt = now + lifetime * 1000;
    }
    reply(req, from, id, StunMessage.successFor(req).addU32(StunAttributes.LIFETIME, lifetime), 0);
  }

  // ---------------------------------------------------------------------------------------------
  // CreatePermission (RFC 8656 section 10)

  private void createPermission(StunMessage req, InetSocketAddress from, Authenticator.Identity id, long now) {
    Allocation a = owned(req, from, id);
    if (a == null) {
      return;
    }
    List<byte[]> values = req.getAll(StunAttributes.XOR_PEER_ADDRESS);
    if (values.isEmpty()) {
      error(req, from, id, ErrorCode.BAD_REQUEST, "Bad Request: XOR-PEER-ADDRESS is required");
      return;
    }
    byte[] txid = req.transactionId();
    List<InetSocketAddress> peers = new ArrayList<>(values.size());
    for (byte[] v : values) {
      InetSocketAddress peer = StunAddress.decodeXor(v, 0, v.length, txid, 0);
      if (peer == null) {
        error(req, from, id, ErrorCode.BAD_REQUEST, "Bad Request: malformed XOR-PEER-ADDRESS");
        return;
      }
      peers.add(peer);
    }
    // All or nothing (RFC 8656 10.2): check every peer before installing any.
    for (InetSocketAddress peer : peers) {
      if (!peerAcceptable(req, from, id, peer)) {
        return;
      }
    }
    if (a.permissions.size() + a.newPermissionsNeeded(peers) > Allocation.MAX_PERMISSIONS) {
      error(req, from, id, ErrorCode.INSUFFICIENT_CAPACITY, "Insufficient Capacity: too many permissions");
      return;
    }
    long expiresAt = now + config.permissionLifetimeSeconds() * 1000L;
    for (InetSocketAddress peer : peers) {
      int before = a.permissions.size();
      a.permit(peer.getAddress(), expiresAt);
      if (a.permissions.size() > before) {
        counters.permissionsCreated.increment();
      }
    }
    reply(req, from, id, StunMessage.successFor(req), 0);
  }

  // ---------------------------------------------------------------------------------------------
  // ChannelBind (RFC 8656 section 11)

  private void channelBind(StunMessage req, InetSocketAddress from, Authenticator.Identity id, long now) {
    Allocation a = owned(req, from, id);
    if (a == null) {
      return;
    }
    byte[] number = req.get(StunAttributes.CHANNEL_NUMBER);
    InetSocketAddress peer = req.getXorAddress(StunAttributes.XOR_PEER_ADDRESS);
    if (number == null || number.length != 4 || peer == null) {
      error(req, from, id, ErrorCode.BAD_REQUEST, "Bad Request: CHANNEL-NUMBER and XOR-PEER-ADDRESS are required");
      return;
    }
    int channel = ((number[0] & 0xFF) << 8) | (number[1] & 0xFF);
    if (channel < ChannelData.MIN_CHANNEL || channel > config.maxChannel()) {
      error(req, from, id, ErrorCode.BAD_REQUEST,
          String.format("Bad Request: channel number outside 0x4000-0x%04X", config.maxChannel()));
      return;
    }
    if (!peerAcceptable(req, from, id, peer)) {
      return;
    }
    ChannelBinding byNumber = a.bindingByNumber(channel);
    if (byNumber != null && !byNumber.peer.equals(peer)) {
      error(req, from, id, ErrorCode.BAD_REQUEST, "Bad Request: channel is bound to another peer");
      return;
    }
    ChannelBinding byPeer = a.bindingByPeer(peer);
    if (byPeer != null && byPeer.number != channel) {
      error(req, from, id, ErrorCode.BAD_REQUEST, "Bad Request: peer is bound to another channel");
      return;
    }
    boolean newPermission = !a.permissions.containsKey(peer.getAddress());
    if (newPermission && a.permissions.size() >= Allocation.MAX_PERMISSIONS) {
      error(req, from, id, ErrorCode.INSUFFICIENT_CAPACITY, "Insufficient Capacity: too many permissions");
      return;
    }
    if (a.bind(channel, peer, now + config.channelLifetimeSeconds() * 1000L,
        now + config.permissionLifetimeSeconds() * 1000L)) {
      counters.channelsBound.increment();
    }
    if (newPermission) {
      counters.permissionsCreated.increment();
    }
    reply(req, from, id, StunMessage.successFor(req), 0);
  }

  // ---------------------------------------------------------------------------------------------
  // Shared checks and answers

  /** The caller's active allocation, or null after answering 437 (none) or 441 (someone else's). */
  private Allocation owned(StunMessage req, InetSocketAddress from, Authenticator.Identity id) {
    Allocation a = allocations.get(from);
    if (a == null || a.state != Allocation.State.ACTIVE) {
      error(req, from, id, ErrorCode.ALLOCATION_MISMATCH, "Allocation Mismatch");
      return null;
    }
    if (!a.username.equals(id.username())) {
      if (!(config.credentialRollover() && a.rest && id.rest() && a.account.equals(id.account())
          && TurnRestCredentials.isRollover(a.username, id.username()))) {
        error(req, from, id, ErrorCode.WRONG_CREDENTIALS, "Wrong Credentials");
        return null;
      }
      // Fresh REST credentials of the same user: the allocation goes on under them (Allocation.username).
      log.debug("allocation {} of {} now under {}", a.relayedAddress, a.username, id.username());
      a.username = id.username();
      counters.credentialRollovers.increment();
    }
    return a;
  }

  /** Family and policy check of a peer address; answers 443 or 403 and returns false when refused. */
  private boolean peerAcceptable(StunMessage req, InetSocketAddress from, Authenticator.Identity id, InetSocketAddress peer) {
    InetAddress addr = peer.getAddress();
    if ((addr instanceof Inet6Address) != ipv6) {
      error(req, from, id, PEER_ADDRESS_FAMILY_MISMATCH, "Peer Address Family Mismatch");
      return false;
    }
    if (!policy.isAllowed(addr)) {
      counters.drop("peer-refused");
      error(req, from, id, ErrorCode.FORBIDDEN, "Forbidden: peer address not allowed");
      return false;
    }
    return true;
  }

  /**
   * RFC 8656 7.2/7.3 desired lifetime: min(requested, max), but never below the default; the default
   * when absent; -1 when LIFETIME is malformed.
   */
  private long desiredLifetime(StunMessage req) {
    if (!req.has(StunAttributes.LIFETIME)) {
      return config.defaultLifetimeSeconds();
    }
    long requested = req.getU32(StunAttributes.LIFETIME);
    if (requested < 0) {
      return -1;
    }
    return Math.max(Math.min(requested, config.maxLifetimeSeconds()), config.defaultLifetimeSeconds());
  }

  private boolean unauthAllowed(InetSocketAddress from) {
    switch (unauthLimiter.take(from.getAddress().getHostAddress(), System.nanoTime())) {
      case ALLOW:
        return true;
      case RATE_EXCEEDED:
        counters.drop("unauth-rate");
        return false;
      default:
        counters.drop("unauth-table-full");
        return false;
    }
  }

  private void refuse(StunMessage req, InetSocketAddress from, Authenticator.Refusal r) {
    if (r.failure()) {
      counters.authFailures.increment();
    }
    if (!unauthAllowed(from)) {
      return;
    }
    String nonce = r.code() == ErrorCode.BAD_REQUEST ? null : auth.nonceFor(from.getAddress().getHostAddress());
    sendError(req, from, r.code(), r.reason(), config.realm(), nonce);
  }

  /** An unauthenticated error answer: ERROR-CODE, REALM and NONCE when given, FINGERPRINT; nothing more. */
  private void sendError(StunMessage req, InetSocketAddress from, int code, String reason, String realm, String nonce) {
    StunMessage.Builder b = StunMessage.errorFor(req, code, reason);
    if (realm != null) {
      b.addString(StunAttributes.REALM, realm);
    }
    if (nonce != null) {
      b.addString(StunAttributes.NONCE, nonce);
    }
    counters.error(code);
    out.accept(from, Buffer.buffer(b.fingerprint().encode()));
  }

  private void error(StunMessage req, InetSocketAddress from, Authenticator.Identity id, int code, String reason) {
    reply(req, from, id, StunMessage.errorFor(req, code, reason), code);
  }

  /** Signs with the request's key and integrity kind(s), adds FINGERPRINT, caches, sends; returns the bytes. */
  private Buffer reply(StunMessage req, InetSocketAddress from, Authenticator.Identity id, StunMessage.Builder b, int errorCode) {
    if (id.sha1()) {
      b.integrity(id.key());
    }
    if (id.sha256()) {
      b.integritySha256(id.key());
    }
    Buffer bytes = Buffer.buffer(b.fingerprint().encode());
    if (errorCode != 0) {
      counters.error(errorCode);
    }
    cache.put(from, req.transactionKey(), bytes, clock.millis());
    out.accept(from, bytes);
    return bytes;
  }
}
