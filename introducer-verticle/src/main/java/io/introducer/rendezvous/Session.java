package io.introducer.rendezvous;

import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.Strategy;
import java.time.Instant;
import java.util.List;

/**
 * One introduction: who asked (initiator, sent CONNECT) to reach whom (responder, got INTRODUCE), the
 * candidates each was given of the other, and what each later reported. The session key is deliberately
 * not kept.
 *
 * @param id SESSION-ID in lower-case hex
 * @param reportDeadline after this instant a session nobody reported on is {@link SessionState#EXPIRED}
 * @param introducedAt when the responder acknowledged INTRODUCE, or null
 * @param initiatorOutcome the initiator's RESULT, or null
 * @param responderOutcome the responder's RESULT, or null
 * @param initiatorNat the initiator's NAT profile when the session was created ({@link NatProfile#UNKNOWN} if none)
 * @param responderNat the responder's NAT profile when the session was created
 */
public record Session(
    String id,
    String appId,
    String initiator,
    String responder,
    List<Candidate> initiatorCandidates,
    List<Candidate> responderCandidates,
    Strategy strategy,
    Instant createdAt,
    Instant reportDeadline,
    Instant introducedAt,
    PeerOutcome initiatorOutcome,
    PeerOutcome responderOutcome,
    NatProfile initiatorNat,
    NatProfile responderNat) {

  public Session {
    initiatorCandidates = List.copyOf(initiatorCandidates);
    responderCandidates = List.copyOf(responderCandidates);
    initiatorNat = initiatorNat == null ? NatProfile.UNKNOWN : initiatorNat;
    responderNat = responderNat == null ? NatProfile.UNKNOWN : responderNat;
  }

  /** A session between peers whose NAT behaviour is not known. */
  public Session(String id, String appId, String initiator, String responder, List<Candidate> initiatorCandidates,
      List<Candidate> responderCandidates, Strategy strategy, Instant createdAt, Instant reportDeadline,
      Instant introducedAt, PeerOutcome initiatorOutcome, PeerOutcome responderOutcome) {
    this(id, appId, initiator, responder, initiatorCandidates, responderCandidates, strategy, createdAt, reportDeadline,
        introducedAt, initiatorOutcome, responderOutcome, NatProfile.UNKNOWN, NatProfile.UNKNOWN);
  }

  /**
   * This session combined with another node's copy of it: what either knows (introduction time, each peer's report)
   * is kept, the later report winning when both have one.
   */
  public Session mergedWith(Session other) {
    if (!id.equals(other.id)) {
      throw new IllegalArgumentException("merging different sessions " + id + " and " + other.id);
    }
    Instant introduced = introducedAt == null ? other.introducedAt
        : other.introducedAt == null || introducedAt.isBefore(other.introducedAt) ? introducedAt : other.introducedAt;
    return new Session(id, appId, initiator, responder, initiatorCandidates, responderCandidates, strategy, createdAt,
        reportDeadline, introduced, later(initiatorOutcome, other.initiatorOutcome),
        later(responderOutcome, other.responderOutcome), initiatorNat, responderNat);
  }

  private static PeerOutcome later(PeerOutcome a, PeerOutcome b) {
    if (a == null || b == null) {
      return a == null ? b : a;
    }
    return b.reportedAt().isAfter(a.reportedAt()) ? b : a;
  }

  /** A success reported by either side wins (direct over relay); a failure counts only without one. */
  public SessionState state(Instant now) {
    if (reported(Outcome.CONNECTED_DIRECT)) {
      return SessionState.CONNECTED_DIRECT;
    }
    if (reported(Outcome.CONNECTED_RELAY)) {
      return SessionState.CONNECTED_RELAY;
    }
    if (reported(Outcome.FAILED)) {
      return SessionState.FAILED;
    }
    return now.isAfter(reportDeadline) ? SessionState.EXPIRED : SessionState.PENDING;
  }

  public boolean involves(String appId, String peerId) {
    return this.appId.equals(appId) && (initiator.equals(peerId) || responder.equals(peerId));
  }

  public Session introduced(Instant at) {
    return new Session(id, appId, initiator, responder, initiatorCandidates, responderCandidates, strategy,
        createdAt, reportDeadline, at, initiatorOutcome, responderOutcome, initiatorNat, responderNat);
  }

  /** This session with {@code peerId}'s report replaced; unchanged if the peer is not part of it. */
  public Session withOutcome(String peerId, PeerOutcome outcome) {
    PeerOutcome i = initiator.equals(peerId) ? outcome : initiatorOutcome;
    PeerOutcome r = responder.equals(peerId) ? outcome : responderOutcome;
    return new Session(id, appId, initiator, responder, initiatorCandidates, responderCandidates, strategy,
        createdAt, reportDeadline, introducedAt, i, r, initiatorNat, responderNat);
  }

  private boolean reported(Outcome o) {
    return (initiatorOutcome != null && initiatorOutcome.outcome() == o)
        || (responderOutcome != null && responderOutcome.outcome() == o);
  }
}
