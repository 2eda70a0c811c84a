package io.introducer.rendezvous;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.TransactionId;
import io.introducer.protocol.rendezvous.PeerTokens;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests a peer sends the introducer (REGISTER, KEEPALIVE, CONNECT, RESULT, DEREGISTER, UPDATE, RELAY-REQUEST): the
 * retransmission/replay check, the app's rate limit, authentication with the peer key (or the peer token's key
 * when the request carries TOKEN-EXPIRY), timestamp freshness and the token's expiry, then the method's handler.
 * Every response after a verified MESSAGE-INTEGRITY-SHA256 is signed and cached. Every answer is paid for from the
 * source's amplification credit ({@link RateLimits#spend}).
 */
final class PeerRequests {
  /**
   * How long an authenticated transaction is remembered: longer than the whole span of TIMESTAMPs a request can be
   * accepted with (twice the allowed skew), so that a replay from another source is either still remembered or
   * already stale. The extra second covers the boundary, where a timestamp exactly the skew away is still fresh.
   */
  static final long TRANSACTION_TTL_MILLIS = 2 * Rendezvous.MAX_CLOCK_SKEW_MS + 1_000;
  /** Bounds memory; a full cache forgets its oldest transactions first. */
  static final int TRANSACTION_CACHE_CAPACITY = 100_000;
  private static final Logger log = LoggerFactory.getLogger(PeerRequests.class);

  /** A method's logic once the caller is authenticated and the request fresh. */
  @FunctionalInterface
  interface Handler {
    byte[] handle(Caller caller, StunMessage request);
  }

  private final IntroducerConfig config;
  private final Outbound out;
  private final IntroducerCounters counters;
  private final Replies replies;
  private final Clock clock;
  private final RateLimits limits;
  private final TransactionCache transactions = new TransactionCache(TRANSACTION_CACHE_CAPACITY, TRANSACTION_TTL_MILLIS);
  private final Handler registrations;
  private final Handler connects;
  private final Handler results;
  private final Handler updates;
  private final Handler relayRequests;

  PeerRequests(IntroducerConfig config, Outbound out, IntroducerCounters counters, Replies replies, Clock clock,
      RateLimits limits, RegistrationHandler registrations, ConnectHandler connects, ResultHandler results,
      UpdateHandler updates, RelayRequestHandler relayRequests) {
    this.config = config;
    this.limits = limits;
    // Answers only ever go to the request's source, and only as far as its credit covers them.
    this.out = (datagram, to) -> {
      if (limits.spend(to, datagram.length)) {
        out.send(datagram, to);
      }
    };
    this.counters = counters;
    this.replies = replies;
    this.clock = clock;
    this.registrations = registrations;
    this.connects = connects;
    this.results = results;
    this.updates = updates;
    this.relayRequests = relayRequests;
  }

  void handle(StunMessage request, InetSocketAddress from) {
    Instant now = clock.instant();
    TransactionId tx = request.transactionKey();
    TransactionCache.Entry cached = transactions.find(tx, now.toEpochMilli());
    if (cached != null) {
      if (cached.source().equals(from)) {
        counters.retransmissionsAnswered.increment();
        out.send(cached.response(), from);
      } else {
        counters.drop("replay");
      }
      return;
    }
    String appId = request.getString(StunAttributes.APP_ID);
    String peerId = request.getString(StunAttributes.PEER_ID);
    if (!Rendezvous.isValidId(appId)) {
      out.send(replies.unsignedError(request, 400, "bad request: APP-ID"), from);
      return;
    }
    if (!Rendezvous.isValidId(peerId)) {
      out.send(replies.unsignedError(request, 400, "bad request: PEER-ID"), from);
      return;
    }
    String secret = config.secret(appId);
    if (secret == null) {
      out.send(replies.unsignedError(request, 401, "unknown app"), from);
      return;
    }
    if (!limits.admitApp(appId)) {
      return; // before the HMAC work; counted rate-app
    }
    long tokenExpiry = 0;
    if (request.has(StunAttributes.TOKEN_EXPIRY)) {
      Long expiry = request.getU64(StunAttributes.TOKEN_EXPIRY);
      if (expiry == null || expiry <= 0) {
        out.send(replies.unsignedError(request, 400, "bad request: TOKEN-EXPIRY"), from);
        return;
      }
      tokenExpiry = expiry;
    } else if (config.requiresToken(appId)) {
      out.send(replies.unsignedError(request, 401, "token required"), from);
      return;
    }
    byte[] key = tokenExpiry > 0 ? PeerTokens.key(secret, appId, peerId, tokenExpiry)
        : Rendezvous.peerKey(secret, appId, peerId);
    if (!request.verifyIntegritySha256(key)) {
      out.send(replies.unsignedError(request, 401, "bad integrity"), from);
      return;
    }
    Caller caller = new Caller(appId, peerId, key, from, now, tokenExpiry);
    byte[] response = authenticated(caller, request);
    transactions.put(tx, from, response, now.toEpochMilli());
    out.send(response, from);
  }

  private byte[] authenticated(Caller caller, StunMessage request) {
    Long timestamp = request.getU64(StunAttributes.TIMESTAMP);
    if (timestamp == null) {
      return replies.error(caller, request, 400, "bad request: TIMESTAMP");
    }
    long now = caller.now().toEpochMilli();
    // Compared without a subtraction that could overflow (a TIMESTAMP of now + 2^63 must not look fresh).
    if (timestamp < now - Rendezvous.MAX_CLOCK_SKEW_MS || timestamp > now + Rendezvous.MAX_CLOCK_SKEW_MS) {
      return replies.error(caller, request, 401, "stale timestamp");
    }
    if (caller.tokenExpiry() > 0 && caller.tokenExpiry() <= caller.now().getEpochSecond()) {
      return replies.error(caller, request, 401, "token expired");
    }
    List<Integer> unknown = request.unknownComprehensionRequired();
    if (!unknown.isEmpty()) {
      return replies.unknownAttributes(caller, request, unknown);
    }
    try {
      return switch (request.method()) {
        case StunMethods.CONNECT -> connects.handle(caller, request);
        case StunMethods.RESULT -> results.handle(caller, request);
        case StunMethods.UPDATE -> updates.handle(caller, request);
        case StunMethods.RELAY_REQUEST -> relayRequests.handle(caller, request);
        case StunMethods.REGISTER, StunMethods.KEEPALIVE, StunMethods.DEREGISTER -> registrations.handle(caller, request);
        default -> throw new IllegalStateException("not a peer request: " + request);
      };
    } catch (RuntimeException e) {
      log.error("Failed to handle {} from {}", request, caller.source(), e);
      return replies.error(caller, request, 500, "server error");
    }
  }

  /** Forgets transactions older than the replay window. */
  void expire(long nowMillis) {
    transactions.expire(nowMillis);
  }
}
