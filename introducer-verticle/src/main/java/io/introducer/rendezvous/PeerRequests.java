package io.introducer.rendezvous;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.TransactionId;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests a peer sends the introducer (REGISTER, KEEPALIVE, CONNECT, RESULT, DEREGISTER, UPDATE): the
 * retransmission/replay check, authentication with the peer key, timestamp freshness, then the method's
 * handler. Every response after a verified MESSAGE-INTEGRITY-SHA256 is signed and cached.
 */
final class PeerRequests {
  static final long TRANSACTION_TTL_MILLIS = 60_000;
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
  private final TransactionCache transactions = new TransactionCache(TRANSACTION_CACHE_CAPACITY, TRANSACTION_TTL_MILLIS);
  private final Handler registrations;
  private final Handler connects;
  private final Handler results;
  private final Handler updates;

  PeerRequests(IntroducerConfig config, Outbound out, IntroducerCounters counters, Replies replies, Clock clock,
      RegistrationHandler registrations, ConnectHandler connects, ResultHandler results, UpdateHandler updates) {
    this.config = config;
    this.out = out;
    this.counters = counters;
    this.replies = replies;
    this.clock = clock;
    this.registrations = registrations;
    this.connects = connects;
    this.results = results;
    this.updates = updates;
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
    byte[] key = Rendezvous.peerKey(secret, appId, peerId);
    if (!request.verifyIntegritySha256(key)) {
      out.send(replies.unsignedError(request, 401, "bad integrity"), from);
      return;
    }
    Caller caller = new Caller(appId, peerId, key, from, now);
    byte[] response = authenticated(caller, request);
    transactions.put(tx, from, response, now.toEpochMilli());
    out.send(response, from);
  }

  private byte[] authenticated(Caller caller, StunMessage request) {
    Long timestamp = request.getU64(StunAttributes.TIMESTAMP);
    if (timestamp == null) {
      return replies.error(caller, request, 400, "bad request: TIMESTAMP");
    }
    if (Math.abs(caller.now().toEpochMilli() - timestamp) > Rendezvous.MAX_CLOCK_SKEW_MS) {
      return replies.error(caller, request, 401, "stale timestamp");
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
