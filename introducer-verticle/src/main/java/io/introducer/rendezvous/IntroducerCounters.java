package io.introducer.rendezvous;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Traffic counters of one introducer; updated on its event loop, readable from any thread. */
public final class IntroducerCounters {
  final LongAdder packetsIn = new LongAdder();
  final LongAdder packetsOut = new LongAdder();
  final LongAdder bindings = new LongAdder();
  final LongAdder registrations = new LongAdder();
  final LongAdder keepalives = new LongAdder();
  final LongAdder deregistrations = new LongAdder();
  final LongAdder connects = new LongAdder();
  final LongAdder introductions = new LongAdder();
  final LongAdder introductionsAcked = new LongAdder();
  final LongAdder introductionsTimedOut = new LongAdder();
  final LongAdder results = new LongAdder();
  final LongAdder updates = new LongAdder();
  final LongAdder updatesForwarded = new LongAdder();
  final LongAdder updatesAcked = new LongAdder();
  final LongAdder updatesTimedOut = new LongAdder();
  final LongAdder relayRequests = new LongAdder();
  final LongAdder changeRequests = new LongAdder();
  final LongAdder changeForwards = new LongAdder();
  final LongAdder changeForwardsFailed = new LongAdder();
  final LongAdder changeAnswersForPartners = new LongAdder();
  final LongAdder responsePortRedirects = new LongAdder();
  final LongAdder retransmissionsAnswered = new LongAdder();
  final LongAdder deliveriesForwarded = new LongAdder();
  final LongAdder deliveriesReceived = new LongAdder();
  final LongAdder deliveriesFailed = new LongAdder();
  private final Map<String, LongAdder> drops = new ConcurrentHashMap<>();
  private final Map<Integer, LongAdder> errors = new ConcurrentHashMap<>();

  void drop(String reason) {
    drops.computeIfAbsent(reason, r -> new LongAdder()).increment();
  }

  void error(int code) {
    errors.computeIfAbsent(code, c -> new LongAdder()).increment();
  }

  public long packetsIn() {
    return packetsIn.sum();
  }

  public long packetsOut() {
    return packetsOut.sum();
  }

  /** Binding requests answered (success or 420). */
  public long bindings() {
    return bindings.sum();
  }

  /** Successful REGISTER transactions (retransmissions not counted again). */
  public long registrations() {
    return registrations.sum();
  }

  public long keepalives() {
    return keepalives.sum();
  }

  public long deregistrations() {
    return deregistrations.sum();
  }

  /** Successful CONNECT transactions, i.e. sessions created. */
  public long connects() {
    return connects.sum();
  }

  /** INTRODUCE transactions started. */
  public long introductions() {
    return introductions.sum();
  }

  public long introductionsAcked() {
    return introductionsAcked.sum();
  }

  /** INTRODUCE transactions given up after the last retransmission. */
  public long introductionsTimedOut() {
    return introductionsTimedOut.sum();
  }

  /** RESULT reports recorded. */
  public long results() {
    return results.sum();
  }

  /** UPDATE requests accepted from peers. */
  public long updates() {
    return updates.sum();
  }

  /** RELAY-REQUESTs answered with credentials of a replacement relay. */
  public long relayRequests() {
    return relayRequests.sum();
  }

  /** UPDATE transactions started towards the other peer of a session. */
  public long updatesForwarded() {
    return updatesForwarded.sum();
  }

  public long updatesAcked() {
    return updatesAcked.sum();
  }

  /** Forwarded UPDATEs given up after the last retransmission. */
  public long updatesTimedOut() {
    return updatesTimedOut.sum();
  }

  /** Binding requests answered from another socket as their CHANGE-REQUEST asked. */
  public long changeRequests() {
    return changeRequests.sum();
  }

  /**
   * Binding answers to a CHANGE-REQUEST for another IP handed to the RFC 5780 partner node to send from its socket
   * (also counted in {@link #changeRequests}).
   */
  public long changeForwards() {
    return changeForwards.sum();
  }

  /** Forwarded change answers the partner did not confirm (gone, no such socket, or no reply in time). */
  public long changeForwardsFailed() {
    return changeForwardsFailed.sum();
  }

  /** Binding answers other nodes, whose partner this node is, handed here and this node sent from its socket. */
  public long changeAnswersForPartners() {
    return changeAnswersForPartners.sum();
  }

  /** Binding responses sent to the port a RESPONSE-PORT named. */
  public long responsePortRedirects() {
    return responsePortRedirects.sum();
  }

  /** INTRODUCE/UPDATE handed to the node that owns the target's registration. */
  public long deliveriesForwarded() {
    return deliveriesForwarded.sum();
  }

  /** INTRODUCE/UPDATE other nodes handed to this one to send. */
  public long deliveriesReceived() {
    return deliveriesReceived.sum();
  }

  /** Forwarded deliveries the owner could not make (no such node any more, or the peer left it). */
  public long deliveriesFailed() {
    return deliveriesFailed.sum();
  }

  /** Request retransmissions answered from the transaction cache. */
  public long retransmissionsAnswered() {
    return retransmissionsAnswered.sum();
  }

  /** Dropped datagrams by reason (parse failures use {@code StunParseException.reason()}). */
  public Map<String, Long> drops() {
    Map<String, Long> out = new TreeMap<>();
    drops.forEach((reason, n) -> out.put(reason, n.sum()));
    return out;
  }

  public long drops(String reason) {
    LongAdder n = drops.get(reason);
    return n == null ? 0 : n.sum();
  }

  /** Error responses sent, by STUN error code. */
  public Map<Integer, Long> errors() {
    Map<Integer, Long> out = new TreeMap<>();
    errors.forEach((code, n) -> out.put(code, n.sum()));
    return out;
  }
}
