package io.introducer.rendezvous;

import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.PeerTokens;
import io.introducer.protocol.rendezvous.RelayRtt;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A registered peer: where the introducer sees it ({@code serverReflexive}, the source address of its
 * latest REGISTER or KEEPALIVE), the host candidates it announced, and the NAT behaviour it measured.
 *
 * @param natProfile the NAT-PROFILE of its latest REGISTER; {@link NatProfile#UNKNOWN} when it sent none (or a
 *     malformed one)
 * @param owner the cluster node the peer registered with, the only one its NAT lets reach it; null on a single node
 * @param tokenExpiry the expiry (Unix seconds) of the peer token the peer signs with, 0 when it signs with its peer
 *     key: what the introducer signs INTRODUCE and UPDATE to it with ({@link #key})
 * @param relayRtts the smoothed RTTs to relays the peer last reported (RELAY-RTT in REGISTER or KEEPALIVE), at most
 *     {@link RelayRtt#MAX_PER_MESSAGE}, one per relay; empty when it reported none
 */
public record Registration(
    String appId,
    String peerId,
    InetSocketAddress serverReflexive,
    List<Candidate> hostCandidates,
    Instant registeredAt,
    Instant expiresAt,
    NatProfile natProfile,
    String owner,
    long tokenExpiry,
    List<RelayRtt> relayRtts) {

  public Registration {
    if (appId == null || peerId == null || serverReflexive == null || registeredAt == null || expiresAt == null) {
      throw new IllegalArgumentException("registration fields must not be null");
    }
    hostCandidates = List.copyOf(hostCandidates);
    natProfile = natProfile == null ? NatProfile.UNKNOWN : natProfile;
    relayRtts = relayRtts == null ? List.of() : List.copyOf(relayRtts);
  }

  /** A registration whose peer reported no relay RTTs. */
  public Registration(String appId, String peerId, InetSocketAddress serverReflexive, List<Candidate> hostCandidates,
      Instant registeredAt, Instant expiresAt, NatProfile natProfile, String owner, long tokenExpiry) {
    this(appId, peerId, serverReflexive, hostCandidates, registeredAt, expiresAt, natProfile, owner, tokenExpiry,
        List.of());
  }

  /** A registration of a peer that signs with its peer key. */
  public Registration(String appId, String peerId, InetSocketAddress serverReflexive, List<Candidate> hostCandidates,
      Instant registeredAt, Instant expiresAt, NatProfile natProfile, String owner) {
    this(appId, peerId, serverReflexive, hostCandidates, registeredAt, expiresAt, natProfile, owner, 0);
  }

  /** A registration kept by this node (no owner recorded). */
  public Registration(String appId, String peerId, InetSocketAddress serverReflexive, List<Candidate> hostCandidates,
      Instant registeredAt, Instant expiresAt, NatProfile natProfile) {
    this(appId, peerId, serverReflexive, hostCandidates, registeredAt, expiresAt, natProfile, null, 0);
  }

  /** A registration of a peer whose NAT behaviour is not known. */
  public Registration(String appId, String peerId, InetSocketAddress serverReflexive, List<Candidate> hostCandidates,
      Instant registeredAt, Instant expiresAt) {
    this(appId, peerId, serverReflexive, hostCandidates, registeredAt, expiresAt, NatProfile.UNKNOWN, null, 0);
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
    return new Registration(appId, peerId, source, hostCandidates, registeredAt, newExpiry, natProfile, owner,
        tokenExpiry, relayRtts);
  }

  /** The same registration, signing with the peer token that expires at {@code expiry} (0: its peer key). */
  public Registration withTokenExpiry(long expiry) {
    return new Registration(appId, peerId, serverReflexive, hostCandidates, registeredAt, expiresAt, natProfile, owner,
        expiry, relayRtts);
  }

  /** The same registration with the relay RTTs the peer reported last. */
  public Registration withRelayRtts(List<RelayRtt> rtts) {
    return new Registration(appId, peerId, serverReflexive, hostCandidates, registeredAt, expiresAt, natProfile, owner,
        tokenExpiry, rtts);
  }

  /** The RTT in microseconds the peer reported to {@code relay}, if it did. */
  public Optional<Long> relayRttMicros(InetSocketAddress relay) {
    for (RelayRtt r : relayRtts) {
      if (r.relay().equals(relay)) {
        return Optional.of(r.rttMicros());
      }
    }
    return Optional.empty();
  }

  /**
   * The key messages to this peer are signed with, given its app's secret: its peer token's key when it registered
   * with one, else its peer key (docs/PROTOCOL.md section 3).
   */
  public byte[] key(String appSecret) {
    return tokenExpiry > 0 ? PeerTokens.key(appSecret, appId, peerId, tokenExpiry)
        : Rendezvous.peerKey(appSecret, appId, peerId);
  }

  /** The same registration, owned by {@code node}. */
  public Registration ownedBy(String node) {
    return new Registration(appId, peerId, serverReflexive, hostCandidates, registeredAt, expiresAt, natProfile, node,
        tokenExpiry, relayRtts);
  }

  /** Whether {@code node} may deliver to this peer itself: it owns it, or no owner is recorded (single node). */
  public boolean isOwnedBy(String node) {
    return owner == null || owner.equals(node);
  }
}
