package io.introducer.rendezvous;

import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A registered peer: where the introducer sees it ({@code serverReflexive}, the source address of its
 * latest REGISTER or KEEPALIVE), the host candidates it announced, and the NAT behaviour it measured.
 *
 * @param natProfile the NAT-PROFILE of its latest REGISTER; {@link NatProfile#UNKNOWN} when it sent none (or a
 *     malformed one)
 */
public record Registration(
    String appId,
    String peerId,
    InetSocketAddress serverReflexive,
    List<Candidate> hostCandidates,
    Instant registeredAt,
    Instant expiresAt,
    NatProfile natProfile) {

  public Registration {
    if (appId == null || peerId == null || serverReflexive == null || registeredAt == null || expiresAt == null) {
      throw new IllegalArgumentException("registration fields must not be null");
    }
    hostCandidates = List.copyOf(hostCandidates);
    natProfile = natProfile == null ? NatProfile.UNKNOWN : natProfile;
  }

  /** A registration of a peer whose NAT behaviour is not known. */
  public Registration(String appId, String peerId, InetSocketAddress serverReflexive, List<Candidate> hostCandidates,
      Instant registeredAt, Instant expiresAt) {
    this(appId, peerId, serverReflexive, hostCandidates, registeredAt, expiresAt, NatProfile.UNKNOWN);
  }

  /** Candidates in the order peers should try them: server-reflexive first, then host. */
  public List<Candidate> candidates() {
    List<Candidate> out = new ArrayList<>(1 + hostCandidates.size());
    out.add(new Candidate(Candidate.Kind.SERVER_REFLEXIVE, serverReflexive));
    out.addAll(hostCandidates);
    return out;
  }

  public boolean isExpired(Instant now) {
    return !now.isBefore(expiresAt);
  }

  /** The same registration, now seen at {@code source} and living until {@code newExpiry}. */
  public Registration refreshed(InetSocketAddress source, Instant newExpiry) {
    return new Registration(appId, peerId, source, hostCandidates, registeredAt, newExpiry, natProfile);
  }
}
