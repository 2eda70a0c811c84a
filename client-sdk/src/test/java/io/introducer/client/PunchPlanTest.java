package io.introducer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.PunchParams;
import io.introducer.protocol.rendezvous.Strategy;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Whom each strategy punches, in which order (docs/PROTOCOL.md section 7, as the SDK executes it). */
class PunchPlanTest {
  private static final InetSocketAddress HOST = new InetSocketAddress("10.0.9.2", 40000);
  private static final InetSocketAddress REFLEXIVE = new InetSocketAddress("198.51.100.7", 5000);
  private static final NatProfile EIM_EIF = profile(NatProfile.Mapping.EIM, NatProfile.Filtering.EIF,
      NatProfile.Allocation.PRESERVING, 0);
  private static final NatProfile EIM_ADF = profile(NatProfile.Mapping.EIM, NatProfile.Filtering.ADF,
      NatProfile.Allocation.PRESERVING, 0);
  private static final NatProfile SEQUENTIAL = profile(NatProfile.Mapping.APDM, NatProfile.Filtering.APDF,
      NatProfile.Allocation.SEQUENTIAL, 1);

  private static NatProfile profile(NatProfile.Mapping m, NatProfile.Filtering f, NatProfile.Allocation a, int s) {
    return new NatProfile(m, f, a, s, NatProfile.Hairpinning.NO, 0);
  }

  private static Introduction intro(Strategy strategy, int side, List<Candidate> candidates) {
    return new Introduction(new byte[16], new byte[32], 0, "peer", candidates, strategy, Duration.ofSeconds(10), side,
        new PunchParams(256, 16, 1000), null);
  }

  private static List<Candidate> hostAndReflexive() {
    return List.of(new Candidate(Candidate.Kind.SERVER_REFLEXIVE, REFLEXIVE), new Candidate(Candidate.Kind.HOST, HOST));
  }

  /** The peer's candidates with {@code n} PREDICTED ports after its server-reflexive one, stride 1. */
  private static List<Candidate> predicted(int n) {
    List<Candidate> out = new ArrayList<>(hostAndReflexive());
    for (int k = 1; k <= n; k++) {
      out.add(new Candidate(Candidate.Kind.PREDICTED, new InetSocketAddress(REFLEXIVE.getAddress(), 5000 + k)));
    }
    return out;
  }

  private static InetSocketAddress port(int p) {
    return new InetSocketAddress(REFLEXIVE.getAddress(), p);
  }

  @Test
  void simultaneousPunchesHostCandidatesFirst() {
    PunchPlan plan = PunchPlan.of(intro(Strategy.SIMULTANEOUS, 0, hostAndReflexive()), EIM_EIF, 0, true);
    assertThat(plan.targets()).containsExactly(HOST, REFLEXIVE);
    assertThat(plan.birthdayHard() || plan.birthdayEasy() || plan.ownPredicted()).isFalse();
  }

  @Test
  void theEasySideOfHardSideFirstLeavesTheHardSidesMappingAloneUnlessItsFilterNeedsOpening() {
    Introduction easy = intro(Strategy.HARD_SIDE_FIRST, Introduction.SIDE_EASY, hostAndReflexive());
    assertThat(PunchPlan.of(easy, EIM_EIF, 0, true).targets()).containsExactly(HOST);
    assertThat(PunchPlan.of(easy, EIM_ADF, 0, true).targets()).containsExactly(HOST, REFLEXIVE);
    Introduction hard = intro(Strategy.HARD_SIDE_FIRST, Introduction.SIDE_HARD, hostAndReflexive());
    assertThat(PunchPlan.of(hard, SEQUENTIAL, 0, true).targets()).containsExactly(HOST, REFLEXIVE);
  }

  @Test
  void theEasySideOfPortPredictionPunchesPredictionsNearestFirstBeyondTheIntroducersWindow() {
    PunchPlan plan = PunchPlan.of(intro(Strategy.PORT_PREDICTION, Introduction.SIDE_EASY, predicted(16)), EIM_EIF, 0,
        true);
    assertThat(plan.targets().subList(0, 4)).containsExactly(HOST, REFLEXIVE, port(5001), port(5002));
    assertThat(plan.targets()).hasSize(2 + 64).contains(port(5064)).doesNotContain(port(5065));
    assertThat(plan.isPredicted(port(5040))).isTrue();
    assertThat(plan.isPredicted(REFLEXIVE)).isFalse();
    assertThat(plan.predictedPaceMicros()).isEqualTo(1000);
  }

  @Test
  void aSequentialSideFacingAnEimPeerSendsToItsMappingFirstAndHostsLast() {
    PunchPlan plan = PunchPlan.of(intro(Strategy.PORT_PREDICTION, Introduction.SIDE_HARD, hostAndReflexive()),
        SEQUENTIAL, 3, true);
    assertThat(plan.ownPredicted()).isTrue();
    assertThat(plan.bothPredicted()).isFalse();
    assertThat(plan.targets()).containsExactly(REFLEXIVE, HOST);
  }

  @Test
  void twoSequentialSidesShiftThePredictionsByTheirOwnAllocatorsMove() {
    Introduction both = intro(Strategy.PORT_PREDICTION, Introduction.SIDE_SYMMETRIC, predicted(16));
    PunchPlan fresh = PunchPlan.of(both, SEQUENTIAL, 0, true);
    assertThat(fresh.bothPredicted()).isTrue();
    assertThat(fresh.targets().subList(0, 3)).containsExactly(port(5001), port(5002), port(5003));
    assertThat(fresh.targets().subList(16, 18)).containsExactly(REFLEXIVE, HOST);
    // Our allocator moved 20 ports: the k-th new mapping meets the peer's k-th from port 5021 on, past the
    // introducer's 16 guesses.
    PunchPlan moved = PunchPlan.of(both, SEQUENTIAL, 20, true);
    assertThat(moved.targets().subList(0, 2)).containsExactly(port(5021), port(5022));
    assertThat(moved.targets()).contains(port(5036)).doesNotContain(port(5037), port(5001));
  }

  @Test
  void birthdayTellsEachSideItsHalf() {
    PunchPlan hard = PunchPlan.of(intro(Strategy.BIRTHDAY, Introduction.SIDE_HARD, hostAndReflexive()), SEQUENTIAL, 0,
        true);
    PunchPlan easy = PunchPlan.of(intro(Strategy.BIRTHDAY, Introduction.SIDE_EASY, hostAndReflexive()), EIM_ADF, 0,
        true);
    assertThat(hard.birthdayHard()).isTrue();
    assertThat(hard.serverReflexive()).containsExactly(REFLEXIVE);
    assertThat(easy.birthdayEasy()).isTrue();
    assertThat(easy.hardAddress()).isEqualTo(REFLEXIVE.getAddress());
    assertThat(easy.targets()).containsExactly(HOST, REFLEXIVE);
  }

  @Test
  void relayPunchesOnlyTheLan() {
    PunchPlan plan = PunchPlan.of(intro(Strategy.RELAY, 0, hostAndReflexive()), EIM_EIF, 0, true);
    assertThat(plan.targets()).containsExactly(HOST);
  }

  @Test
  void anIpv4SocketSkipsIpv6Candidates() {
    List<Candidate> mixed = new ArrayList<>(hostAndReflexive());
    mixed.add(new Candidate(Candidate.Kind.HOST, new InetSocketAddress("2001:db8::1", 4000)));
    assertThat(PunchPlan.of(intro(Strategy.SIMULTANEOUS, 0, mixed), EIM_EIF, 0, true).targets())
        .containsExactly(HOST, REFLEXIVE);
  }
}
