package io.introducer.rendezvous;

import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.Strategy;
import java.net.InetSocketAddress;
import java.time.Instant;

/**
 * What one peer reported for a session in its RESULT request (the OUTCOME, CANDIDATE and REASON attributes).
 *
 * @param chosenRemote the remote address the peer settled on, or null (failed sessions have none)
 * @param reason why the session failed, or null
 */
public record PeerOutcome(
    Outcome outcome,
    Strategy strategy,
    long timeToConnectMillis,
    long rttMicros,
    InetSocketAddress chosenRemote,
    String reason,
    Instant reportedAt) {

  public PeerOutcome {
    if (outcome == null || strategy == null || reportedAt == null) {
      throw new IllegalArgumentException("outcome, strategy and reportedAt must not be null");
    }
  }
}
