package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.NatProfile.Allocation;
import io.introducer.protocol.rendezvous.NatProfile.Filtering;
import io.introducer.protocol.rendezvous.NatProfile.Hairpinning;
import io.introducer.protocol.rendezvous.NatProfile.Mapping;
import io.introducer.protocol.rendezvous.PunchParams;
import io.introducer.protocol.rendezvous.Strategy;
import io.introducer.rendezvous.StrategySelector.Plan;
import io.introducer.rendezvous.StrategySelector.Side;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The strategy table of docs/PROTOCOL.md section 7, pair by pair. */
class StrategySelectorTest {
  private static final PunchParams PARAMS = new PunchParams(256, 2048, 1000);
  private static final int W = 16;
  private static final int STRIDE = 2;
  private static final InetSocketAddress INITIATOR_SRFLX = new InetSocketAddress("198.51.100.7", 40_000);
  private static final InetSocketAddress RESPONDER_SRFLX = new InetSocketAddress("203.0.113.9", 50_000);

  private static final Map<String, NatProfile> PROFILES = Map.of(
      "EIM/EIF", profile(Mapping.EIM, Filtering.EIF, Allocation.PRESERVING, 0),
      "EIM/ADF", profile(Mapping.EIM, Filtering.ADF, Allocation.PRESERVING, 0),
      "EIM/APDF", profile(Mapping.EIM, Filtering.APDF, Allocation.RANDOM, 0),
      "SEQ", profile(Mapping.ADM, Filtering.APDF, Allocation.SEQUENTIAL, STRIDE),
      "RANDOM", profile(Mapping.APDM, Filtering.APDF, Allocation.RANDOM, 0),
      "UNKNOWN", NatProfile.UNKNOWN);

  private final StrategySelector selector = new StrategySelector(PARAMS, W);

  private static NatProfile profile(Mapping m, Filtering f, Allocation a, int stride) {
    return new NatProfile(m, f, a, stride, Hairpinning.UNKNOWN, 0);
  }

  private static Registration registration(String peer, InetSocketAddress srflx, NatProfile profile) {
    Instant t = Instant.parse("2025-01-01T00:00:00Z");
    return new Registration("game", peer, srflx, List.of(), t, t.plusSeconds(60), profile);
  }

  private Plan select(NatProfile initiator, NatProfile responder) {
    return selector.select(registration("a", INITIATOR_SRFLX, initiator), registration("b", RESPONDER_SRFLX, responder));
  }

  private static List<Candidate> predictions(InetSocketAddress srflx) {
    return IntStream.rangeClosed(1, W).mapToObj(k -> new Candidate(Candidate.Kind.PREDICTED,
        new InetSocketAddress(srflx.getAddress(), srflx.getPort() + STRIDE * k))).toList();
  }

  /** initiator, responder, strategy, initiator's side, responder's side, whose ports are predicted (A, B, both, -). */
  @ParameterizedTest(name = "{0} x {1} -> {2} ({3}/{4}), predicted {5}")
  @CsvSource({
      "EIM/EIF,  EIM/EIF,  SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "EIM/EIF,  EIM/ADF,  SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "EIM/EIF,  EIM/APDF, SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "EIM/EIF,  SEQ,      PORT_PREDICTION, EASY,      HARD,      B",
      "EIM/EIF,  RANDOM,   HARD_SIDE_FIRST, EASY,      HARD,      -",
      "EIM/EIF,  UNKNOWN,  SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "EIM/ADF,  EIM/EIF,  SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "EIM/ADF,  EIM/ADF,  SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "EIM/ADF,  EIM/APDF, SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "EIM/ADF,  SEQ,      PORT_PREDICTION, EASY,      HARD,      B",
      "EIM/ADF,  RANDOM,   HARD_SIDE_FIRST, EASY,      HARD,      -",
      "EIM/ADF,  UNKNOWN,  SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "EIM/APDF, EIM/EIF,  SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "EIM/APDF, EIM/ADF,  SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "EIM/APDF, EIM/APDF, SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "EIM/APDF, SEQ,      PORT_PREDICTION, EASY,      HARD,      B",
      "EIM/APDF, RANDOM,   BIRTHDAY,        EASY,      HARD,      -",
      "EIM/APDF, UNKNOWN,  SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "SEQ,      EIM/EIF,  PORT_PREDICTION, HARD,      EASY,      A",
      "SEQ,      EIM/ADF,  PORT_PREDICTION, HARD,      EASY,      A",
      "SEQ,      EIM/APDF, PORT_PREDICTION, HARD,      EASY,      A",
      "SEQ,      SEQ,      PORT_PREDICTION, SYMMETRIC, SYMMETRIC, both",
      "SEQ,      RANDOM,   RELAY,           SYMMETRIC, SYMMETRIC, -",
      "SEQ,      UNKNOWN,  PORT_PREDICTION, HARD,      EASY,      A",
      "RANDOM,   EIM/EIF,  HARD_SIDE_FIRST, HARD,      EASY,      -",
      "RANDOM,   EIM/ADF,  HARD_SIDE_FIRST, HARD,      EASY,      -",
      "RANDOM,   EIM/APDF, BIRTHDAY,        HARD,      EASY,      -",
      "RANDOM,   SEQ,      RELAY,           SYMMETRIC, SYMMETRIC, -",
      "RANDOM,   RANDOM,   RELAY,           SYMMETRIC, SYMMETRIC, -",
      "RANDOM,   UNKNOWN,  BIRTHDAY,        HARD,      EASY,      -",
      "UNKNOWN,  EIM/EIF,  SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "UNKNOWN,  EIM/ADF,  SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "UNKNOWN,  EIM/APDF, SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
      "UNKNOWN,  SEQ,      PORT_PREDICTION, EASY,      HARD,      B",
      "UNKNOWN,  RANDOM,   BIRTHDAY,        EASY,      HARD,      -",
      "UNKNOWN,  UNKNOWN,  SIMULTANEOUS,    SYMMETRIC, SYMMETRIC, -",
  })
  void everyPairOfNatBehavioursGetsTheStrategyOfTheTable(String a, String b, Strategy strategy, Side initiatorSide,
      Side responderSide, String predicted) {
    Plan plan = select(PROFILES.get(a), PROFILES.get(b));

    assertThat(plan.strategy()).isEqualTo(strategy);
    assertThat(plan.initiatorSide()).isEqualTo(initiatorSide);
    assertThat(plan.responderSide()).isEqualTo(responderSide);
    boolean initiatorPredicted = predicted.equals("A") || predicted.equals("both");
    boolean responderPredicted = predicted.equals("B") || predicted.equals("both");
    assertThat(plan.initiatorPredicted()).isEqualTo(initiatorPredicted ? predictions(INITIATOR_SRFLX) : List.of());
    assertThat(plan.responderPredicted()).isEqualTo(responderPredicted ? predictions(RESPONDER_SRFLX) : List.of());
    PunchParams expected = strategy == Strategy.PORT_PREDICTION ? new PunchParams(256, W, 1000) : PARAMS;
    assertThat(plan.params()).isEqualTo(expected);
  }

  @Test
  void theTableCoversEveryPairOfTheSixBehaviours() throws Exception {
    CsvSource table = getClass().getDeclaredMethod("everyPairOfNatBehavioursGetsTheStrategyOfTheTable", String.class,
        String.class, Strategy.class, Side.class, Side.class, String.class).getAnnotation(CsvSource.class);
    List<String> pairs = java.util.Arrays.stream(table.value())
        .map(row -> row.split(",")[0].trim() + " x " + row.split(",")[1].trim()).distinct().toList();

    assertThat(pairs).hasSize(PROFILES.size() * PROFILES.size());
  }

  @Test
  void anApdmSequentialAllocatorIsPredictedLikeAnAdmOne() {
    NatProfile apdm = profile(Mapping.APDM, Filtering.APDF, Allocation.SEQUENTIAL, STRIDE);

    Plan plan = select(PROFILES.get("EIM/APDF"), apdm);

    assertThat(plan.strategy()).isEqualTo(Strategy.PORT_PREDICTION);
    assertThat(plan.responderPredicted()).isEqualTo(predictions(RESPONDER_SRFLX));
  }

  @Test
  void endpointDependentMappingsWhosePortsCannotBePredictedCountAsRandom() {
    NatProfile zeroStride = profile(Mapping.APDM, Filtering.APDF, Allocation.SEQUENTIAL, 0);
    NatProfile unknownAllocation = profile(Mapping.ADM, Filtering.ADF, Allocation.UNKNOWN, 0);
    NatProfile preserving = profile(Mapping.APDM, Filtering.APDF, Allocation.PRESERVING, 0);

    for (NatProfile hard : List.of(zeroStride, unknownAllocation, preserving)) {
      assertThat(select(PROFILES.get("EIM/APDF"), hard).strategy()).as("%s", hard).isEqualTo(Strategy.BIRTHDAY);
    }
  }

  @Test
  void unknownFilteringOfAnEimPeerCountsAsApdf() {
    NatProfile eimOnly = profile(Mapping.EIM, Filtering.UNKNOWN, Allocation.UNKNOWN, 0);

    assertThat(select(eimOnly, PROFILES.get("RANDOM")).strategy()).isEqualTo(Strategy.BIRTHDAY);
  }

  @Test
  void predictedPortsFollowANegativeStrideNearestFirst() {
    StrategySelector s = new StrategySelector(PARAMS, 3);

    assertThat(s.predicted(new InetSocketAddress("198.51.100.7", 1000), -4)).extracting(c -> c.address().getPort())
        .containsExactly(996, 992, 988);
  }

  @Test
  void predictedPortsStayWithin1To65535() {
    StrategySelector s = new StrategySelector(PARAMS, 5);

    assertThat(s.predicted(new InetSocketAddress("198.51.100.7", 65_530), 3)).extracting(c -> c.address().getPort())
        .containsExactly(65_533);
    assertThat(s.predicted(new InetSocketAddress("198.51.100.7", 5), -2)).extracting(c -> c.address().getPort())
        .containsExactly(3, 1);
  }

  @Test
  void strategyValueIsStrategySideAndTwoReservedBytes() {
    assertThat(Plan.strategyValue(Strategy.BIRTHDAY, Side.HARD)).containsExactly(3, 1, 0, 0);
    assertThat(Plan.strategyValue(Strategy.PORT_PREDICTION, Side.EASY)).containsExactly(2, 2, 0, 0);
    assertThat(Plan.strategyValue(Strategy.RELAY, Side.SYMMETRIC)).containsExactly(4, 0, 0, 0);
  }
}
