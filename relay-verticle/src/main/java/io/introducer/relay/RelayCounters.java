package io.introducer.relay;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counters of one relay; updated on its event loops, readable from any thread. */
public final class RelayCounters {
  final LongAdder allocationsActive = new LongAdder();
  final LongAdder allocationsCreated = new LongAdder();
  final LongAdder allocationsExpired = new LongAdder();
  final LongAdder allocationsDeleted = new LongAdder();
  final LongAdder permissionsCreated = new LongAdder();
  final LongAdder channelsBound = new LongAdder();
  final LongAdder bytesToPeer = new LongAdder();
  final LongAdder packetsToPeer = new LongAdder();
  final LongAdder bytesToClient = new LongAdder();
  final LongAdder packetsToClient = new LongAdder();
  final LongAdder authFailures = new LongAdder();
  final LongAdder retransmissionsAnswered = new LongAdder();
  final LongAdder credentialRollovers = new LongAdder();
  private final Map<String, LongAdder> drops = new ConcurrentHashMap<>();
  private final Map<Integer, LongAdder> errors = new ConcurrentHashMap<>();

  void drop(String reason) {
    drops.computeIfAbsent(reason, r -> new LongAdder()).increment();
  }

  void error(int code) {
    errors.computeIfAbsent(code, c -> new LongAdder()).increment();
  }

  /** Allocations that exist now (including ones whose relayed port is being bound). */
  public long allocationsActive() {
    return allocationsActive.sum();
  }

  public long allocationsCreated() {
    return allocationsCreated.sum();
  }

  /** Allocations removed because their lifetime ran out. */
  public long allocationsExpired() {
    return allocationsExpired.sum();
  }

  /** Allocations removed by a Refresh with LIFETIME 0 or by the relay stopping. */
  public long allocationsDeleted() {
    return allocationsDeleted.sum();
  }

  public long permissionsCreated() {
    return permissionsCreated.sum();
  }

  public long channelsBound() {
    return channelsBound.sum();
  }

  /** Application bytes relayed client -> peer (Send indications and ChannelData). */
  public long bytesToPeer() {
    return bytesToPeer.sum();
  }

  public long packetsToPeer() {
    return packetsToPeer.sum();
  }

  /** Application bytes relayed peer -> client (Data indications and ChannelData). */
  public long bytesToClient() {
    return bytesToClient.sum();
  }

  public long packetsToClient() {
    return packetsToClient.sum();
  }

  /** Requests refused for authentication: no or bad credentials, wrong password, expired REST username. */
  public long authFailures() {
    return authFailures.sum();
  }

  /** Allocations moved to fresh TURN REST credentials of the same user ({@link TurnRestCredentials#isRollover}). */
  public long credentialRollovers() {
    return credentialRollovers.sum();
  }

  /** Retransmitted requests answered from the transaction cache. */
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

  /** Error responses sent, by code. */
  public Map<Integer, Long> errors() {
    Map<Integer, Long> out = new TreeMap<>();
    errors.forEach((code, n) -> out.put(code, n.sum()));
    return out;
  }

  public long errors(int code) {
    LongAdder n = errors.get(code);
    return n == null ? 0 : n.sum();
  }
}
