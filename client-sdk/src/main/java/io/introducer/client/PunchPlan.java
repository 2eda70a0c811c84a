package io.introducer.client;

import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.PunchParams;
import io.introducer.protocol.rendezvous.Strategy;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Whom a session punches, in which order and at which pace, for the strategy the introducer chose and this
 * peer's side of it (docs/PROTOCOL.md section 7). Pure: built once when the session starts.
 *
 * <ul>
 *   <li><b>simultaneous</b> (and any strategy on the symmetric side): host candidates first, then the others.
 *   <li><b>hard-side-first</b>, easy side: the hard side's server-reflexive candidate is not punched (its NAT
 *       filters it; the hard side's punch, answered and punched back from where it came, does the work), except
 *       when this NAT's filtering is not EIF: then one punch there opens our address-dependent filter to the hard
 *       side's IP, without which its punches would be dropped.
 *   <li><b>port-prediction</b>: PREDICTED candidates are punched nearest first, paced at the probe rate of
 *       PUNCH-PARAMS. When this peer is itself behind the sequential NAT, order decides which port each of its
 *       new mappings gets, so: the peer's server-reflexive candidate first when the peer is not predicted (the
 *       mapping the peer's predictions aim at is then our next one), else the peer's predictions shifted by the
 *       mappings our NAT made since the introducer saw our port (both sides shifting by their own count makes
 *       our k-th new mapping meet the peer's k-th, see below), and host candidates last. The easy side extends
 *       the introducer's window up to {@link #MAX_PREDICTED} ports, in case the sequential NAT moved on further.
 *   <li><b>birthday</b>: the same targets as simultaneous; {@link Birthday} adds the extra sockets (hard side)
 *       or the random probes (easy side).
 *   <li><b>relay</b>: only host candidates (the LAN may still work); the NATs cannot be punched.
 * </ul>
 *
 * <p>Why the shift works: say A and B are both sequential (stride 1), the introducer saw ports a and b, and each
 * has made d_A, d_B mappings since. A's i-th new mapping is a + 1 + d_A + i and goes to b + 1 + d_A + i; B's j-th
 * is b + 1 + d_B + j and goes to a + 1 + d_B + j. For j = i + d_A - d_B, A's packet arrives at B's mapping whose
 * destination is exactly A's port, and the other way round: the filters on both sides let them through.
 */
final class PunchPlan {
  /** Most PREDICTED ports punched (the introducer's window, extended on the easy side). */
  static final int MAX_PREDICTED = 256;
  /** Most other targets (candidates and peer-reflexive addresses learned while punching). */
  static final int MAX_OTHER = 16;

  private final List<InetSocketAddress> targets;
  private final Set<InetSocketAddress> predicted;
  private final long predictedPaceMicros;
  private final boolean ownPredicted;
  private final boolean peerPredicted;
  private final boolean birthdayHard;
  private final boolean birthdayEasy;
  private final List<InetSocketAddress> easyServerReflexive;
  private final InetAddress hardAddress;

  private PunchPlan(List<InetSocketAddress> targets, Set<InetSocketAddress> predicted, long predictedPaceMicros,
      boolean ownPredicted, boolean peerPredicted, boolean birthdayHard, boolean birthdayEasy,
      List<InetSocketAddress> easyServerReflexive, InetAddress hardAddress) {
    this.targets = List.copyOf(targets);
    this.predicted = Set.copyOf(predicted);
    this.predictedPaceMicros = predictedPaceMicros;
    this.ownPredicted = ownPredicted;
    this.peerPredicted = peerPredicted;
    this.birthdayHard = birthdayHard;
    this.birthdayEasy = birthdayEasy;
    this.easyServerReflexive = List.copyOf(easyServerReflexive);
    this.hardAddress = hardAddress;
  }

  /**
   * The plan for one session.
   *
   * @param own this client's NAT profile (UNKNOWN without discovery)
   * @param ownMappingsSince mappings our NAT made for the client's socket since the introducer's view of it
   * @param v4Socket whether the client's socket is IPv4 (it cannot reach IPv6 candidates)
   */
  static PunchPlan of(Introduction intro, NatProfile own, int ownMappingsSince, boolean v4Socket) {
    Strategy strategy = intro.strategy();
    int side = intro.side();
    PunchParams params = intro.punchParams();
    List<Candidate> usable = new ArrayList<>();
    for (Candidate c : intro.candidates()) {
      boolean v4 = c.address().getAddress() instanceof Inet4Address;
      if (v4 || !v4Socket) {
        usable.add(c);
      }
    }
    List<InetSocketAddress> hosts = new ArrayList<>();
    List<InetSocketAddress> reflexive = new ArrayList<>();
    List<InetSocketAddress> guesses = new ArrayList<>();
    for (Candidate c : usable) {
      switch (c.kind()) {
        case HOST -> hosts.add(c.address());
        case PREDICTED -> guesses.add(c.address());
        default -> reflexive.add(c.address()); // server-reflexive, relayed
      }
    }
    long pace = Math.max(1, 1_000_000L / params.probesPerSecond());
    Set<InetSocketAddress> ordered = new LinkedHashSet<>();
    Set<InetSocketAddress> predictedSet = new HashSet<>();
    boolean ownPredicted = false;
    switch (strategy) {
      case RELAY -> ordered.addAll(hosts);
      case HARD_SIDE_FIRST -> {
        ordered.addAll(hosts);
        if (side != Introduction.SIDE_EASY || own.filtering() != NatProfile.Filtering.EIF) {
          ordered.addAll(reflexive);
        }
      }
      case PORT_PREDICTION -> {
        ownPredicted = own.endpointDependent() && own.allocation() == NatProfile.Allocation.SEQUENTIAL
            && own.stride() != 0;
        List<InetSocketAddress> predictions = ownPredicted
            ? shifted(guesses, reflexive, ownMappingsSince, guesses.size())
            : shifted(guesses, reflexive, 0, Math.max(guesses.size(), Math.min(MAX_PREDICTED,
                Math.max(guesses.size(), params.probeCount()) * 4)));
        predictedSet.addAll(predictions);
        if (ownPredicted) {
          if (guesses.isEmpty()) {
            ordered.addAll(reflexive);
          }
          ordered.addAll(predictions);
          ordered.addAll(reflexive);
          ordered.addAll(hosts);
        } else {
          ordered.addAll(hosts);
          ordered.addAll(reflexive);
          ordered.addAll(predictions);
        }
      }
      default -> {
        ordered.addAll(hosts);
        ordered.addAll(reflexive);
      }
    }
    List<InetSocketAddress> out = new ArrayList<>();
    int others = 0;
    for (InetSocketAddress a : ordered) {
      if (predictedSet.contains(a)) {
        out.add(a); // at most MAX_PREDICTED by construction
      } else if (others < MAX_OTHER) {
        out.add(a);
        others++;
      }
    }
    boolean birthday = strategy == Strategy.BIRTHDAY;
    InetAddress hardIp = reflexive.isEmpty() ? null : reflexive.get(0).getAddress();
    return new PunchPlan(out, predictedSet, pace, ownPredicted, !guesses.isEmpty(),
        birthday && side == Introduction.SIDE_HARD,
        birthday && side == Introduction.SIDE_EASY && hardIp != null, reflexive, hardIp);
  }

  /**
   * {@code count} predicted ports of the peer starting {@code skip} places into its window: the introducer's
   * guesses as far as they go, extrapolated past them with the stride they show.
   */
  static List<InetSocketAddress> shifted(List<InetSocketAddress> guesses, List<InetSocketAddress> reflexive, int skip,
      int count) {
    if (guesses.isEmpty()) {
      return List.of();
    }
    InetSocketAddress first = guesses.get(0);
    int stride;
    if (guesses.size() >= 2) {
      stride = guesses.get(1).getPort() - first.getPort();
    } else {
      InetSocketAddress base = reflexive.stream().filter(r -> r.getAddress().equals(first.getAddress())).findFirst()
          .orElse(null);
      stride = base == null ? 0 : first.getPort() - base.getPort();
    }
    List<InetSocketAddress> out = new ArrayList<>();
    if (stride == 0) {
      for (int i = Math.min(skip, guesses.size() - 1); i < guesses.size() && out.size() < count; i++) {
        out.add(guesses.get(i));
      }
      return out;
    }
    for (int k = skip; out.size() < count && k < skip + MAX_PREDICTED; k++) {
      int port = first.getPort() + stride * k;
      if (port < 1 || port > 65535) {
        break;
      }
      out.add(new InetSocketAddress(first.getAddress(), port));
    }
    return out;
  }

  /** Every address to punch each round, in order. */
  List<InetSocketAddress> targets() {
    return targets;
  }

  /** True for a PREDICTED port (paced at the probe rate, not the candidate pacing). */
  boolean isPredicted(InetSocketAddress a) {
    return predicted.contains(a);
  }

  /** Pacing of predicted ports and birthday probes: one per this many microseconds. */
  long predictedPaceMicros() {
    return predictedPaceMicros;
  }

  /** True when our own NAT is the sequential one being predicted: the order of our first sends matters. */
  boolean ownPredicted() {
    return ownPredicted;
  }

  /**
   * True when both NATs are predicted: then our shift (mappings since the introducer saw our port) must be exact,
   * and the session measures it first ({@link NatDiscovery#freshMapping}).
   */
  boolean bothPredicted() {
    return ownPredicted && peerPredicted;
  }

  /** Birthday, hard side: open extra sockets and punch the easy side's server-reflexive address from each. */
  boolean birthdayHard() {
    return birthdayHard;
  }

  /** Birthday, easy side: probe random ports of {@link #hardAddress()}. */
  boolean birthdayEasy() {
    return birthdayEasy;
  }

  /** The other peer's server-reflexive (and relayed) candidates. */
  List<InetSocketAddress> serverReflexive() {
    return easyServerReflexive;
  }

  /** The hard side's public IP (its server-reflexive candidate's), or null. */
  InetAddress hardAddress() {
    return hardAddress;
  }
}
