package io.introducer.client;

import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.TransactionId;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Requests to the introducer: retransmitted (RTO doubling) until answered or the total timeout, answered only
 * by a response from the same server, with the same transaction id, correctly signed. The first RTO is 250 ms
 * until an answer to a first transmission gives a round-trip sample; then RFC 6298's SRTT + 4 RTTVAR, within
 * 50-250 ms, so that one lost CONNECT costs a few round trips rather than a quarter second.
 * Control thread only; futures complete on the control thread.
 */
final class Transactions {
  static final long INITIAL_RTO_MILLIS = 250;
  static final long MIN_RTO_MILLIS = 50;

  private final ClientRuntime rt;
  private final Map<TransactionId, Pending> pending = new HashMap<>();
  /** RFC 6298 estimates from answers to first transmissions (Karn); negative before the first sample. */
  private long srttNanos = -1;
  private long rttvarNanos;

  Transactions(ClientRuntime rt) {
    this.rt = rt;
  }

  private final class Pending {
    final TransactionId id;
    final byte[] bytes;
    final InetSocketAddress server;
    final long deadline;
    final CompletableFuture<StunMessage> result = new CompletableFuture<>();
    long rto = rto();
    long firstSentNanos;
    int transmissions;
    ScheduledFuture<?> timer;

    Pending(TransactionId id, byte[] bytes, InetSocketAddress server, long deadline) {
      this.id = id;
      this.bytes = bytes;
      this.server = server;
      this.deadline = deadline;
    }

    void transmit() {
      if (result.isDone()) {
        return;
      }
      long left = (deadline - ClientRuntime.nowNanos()) / 1_000_000;
      if (left <= 0) {
        pending.remove(id);
        result.completeExceptionally(new TimeoutException("no answer from " + server));
        return;
      }
      if (transmissions++ == 0) {
        firstSentNanos = ClientRuntime.nowNanos();
      }
      rt.send(bytes, server);
      long wait = Math.min(rto, left);
      rto *= 2;
      timer = rt.schedule(this::transmit, wait);
    }
  }

  /**
   * Sends {@code request} to {@code server}; the future completes with the (verified) success or error
   * response, or fails with {@link TimeoutException}.
   */
  CompletableFuture<StunMessage> send(byte[] request, InetSocketAddress server, Duration timeout) {
    TransactionId id = new TransactionId(java.util.Arrays.copyOfRange(request, 8, 20));
    Pending p = new Pending(id, request, server, ClientRuntime.nowNanos() + timeout.toNanos());
    pending.put(id, p);
    p.transmit();
    return p.result;
  }

  /** Matches a response to a pending request; false (and nothing happens) if it is not a valid answer. */
  boolean onResponse(StunMessage m, InetSocketAddress source) {
    Pending p = pending.get(m.transactionKey());
    if (p == null || !p.server.equals(source)) {
      return false;
    }
    if (!acceptable(m)) {
      return false;
    }
    pending.remove(p.id);
    if (p.timer != null) {
      p.timer.cancel(false);
    }
    if (p.transmissions == 1) {
      sample(ClientRuntime.nowNanos() - p.firstSentNanos);
    }
    p.result.complete(m);
    return true;
  }

  /** RFC 6298 section 2: RTTVAR <- 3/4 RTTVAR + 1/4 |SRTT - R|, SRTT <- 7/8 SRTT + 1/8 R. */
  void sample(long rttNanos) {
    if (srttNanos < 0) {
      srttNanos = rttNanos;
      rttvarNanos = rttNanos / 2;
    } else {
      rttvarNanos = rttvarNanos - rttvarNanos / 4 + Math.abs(srttNanos - rttNanos) / 4;
      srttNanos = srttNanos - srttNanos / 8 + rttNanos / 8;
    }
  }

  /** The first retransmission timeout of a new request. */
  long rto() {
    if (srttNanos < 0) {
      return INITIAL_RTO_MILLIS;
    }
    long rto = TimeUnit.NANOSECONDS.toMillis(srttNanos + 4 * rttvarNanos);
    return Math.max(MIN_RTO_MILLIS, Math.min(INITIAL_RTO_MILLIS, rto));
  }

  /**
   * Success responses must be signed with K_peer. Error responses may be unsigned only where the
   * introducer could not know or verify the key (PROTOCOL.md section 3): 400, 401 and 420.
   */
  private boolean acceptable(StunMessage m) {
    if (m.messageClass() == StunClass.SUCCESS_RESPONSE) {
      return rt.wire.verifiedByIntroducer(m);
    }
    if (m.messageClass() != StunClass.ERROR_RESPONSE || m.errorCode() == null) {
      return false;
    }
    if (m.hasIntegritySha256()) {
      return rt.wire.verifiedByIntroducer(m);
    }
    int code = m.errorCode().code();
    return code == ErrorCode.BAD_REQUEST || code == ErrorCode.UNAUTHORIZED || code == ErrorCode.UNKNOWN_ATTRIBUTE;
  }

  /** Fails every pending request (client closing). */
  void cancelAll(Throwable cause) {
    for (Pending p : new ArrayList<>(pending.values())) {
      if (p.timer != null) {
        p.timer.cancel(false);
      }
      p.result.completeExceptionally(cause);
    }
    pending.clear();
  }
}
