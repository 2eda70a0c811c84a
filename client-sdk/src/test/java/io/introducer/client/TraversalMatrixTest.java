package io.introducer.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.introducer.client.testing.NatBehavior;
import io.introducer.client.testing.NatSimulator;
import io.introducer.client.testing.SimulatedNat;
import io.introducer.protocol.rendezvous.Strategy;
import io.introducer.rendezvous.PeerOutcome;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every ordered pair of the five NAT presets, through a real introducer with two IPs (so that NAT discovery
 * measures everything and the introducer picks the strategy of docs/PROTOCOL.md section 7): the pair connects
 * with the expected strategy, on the expected path, on both sides, and exchanges data; or it fails as expected.
 */
class TraversalMatrixTest {
  /** The five presets, in the order of the table below. */
  private static final Map<String, Supplier<NatBehavior>> NATS = new java.util.LinkedHashMap<>();

  static {
    NATS.put("full-cone", NatBehavior::fullCone);
    NATS.put("restricted-cone", NatBehavior::restrictedCone);
    NATS.put("port-restricted-cone", NatBehavior::portRestrictedCone);
    NATS.put("symmetric-sequential", () -> NatBehavior.symmetricSequential(1));
    NATS.put("symmetric-random", NatBehavior::symmetricRandom);
  }

  private static final String SIM = "simultaneous";
  private static final String PRED = "port-prediction";
  private static final String HSF = "hard-side-first";
  private static final String BDAY = "birthday";
  /** A pair that needs a relay: without one the introducer refuses the CONNECT with this reason. */
  private static final String NO_RELAY = "fails: relay required";

  /**
   * Row: initiator's NAT; column: responder's NAT (order of {@link #NATS}). A strategy name means "connects
   * directly with it"; "fails: REASON" means the connect fails with that reason. Once a relay is configured
   * for this introducer, the NO_RELAY cells become "relay" (path RELAY).
   */
  private static final String[][] EXPECTED = {
      //            full     restricted  port-restr  sequential  random
      /* full */   {SIM,     SIM,        SIM,        PRED,       HSF},
      /* restr */  {SIM,     SIM,        SIM,        PRED,       HSF},
      /* port */   {SIM,     SIM,        SIM,        PRED,       BDAY},
      /* seq */    {PRED,    PRED,       PRED,       PRED,       NO_RELAY},
      /* random */ {HSF,     HSF,        BDAY,       NO_RELAY,   NO_RELAY},
  };

  private static TestIntroducer introducer;
  private final NatSimulator sim = new NatSimulator(5);
  private final Peers peers = new Peers(introducer);

  @BeforeAll
  static void startIntroducer() throws Exception {
    introducer = new TestIntroducer(c -> c.put("alternateHost", "127.0.0.2").put("punchWindowMillis", 5_000));
  }

  @AfterAll
  static void stopIntroducer() throws Exception {
    introducer.stop();
  }

  @AfterEach
  void tearDown() {
    peers.close();
    sim.close();
  }

  static Stream<Arguments> pairs() {
    List<String> names = new ArrayList<>(NATS.keySet());
    List<Arguments> out = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      for (int j = 0; j < names.size(); j++) {
        out.add(Arguments.of(names.get(i), names.get(j), EXPECTED[i][j]));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} -> {1}: {2}")
  @MethodSource("pairs")
  void everyPairConnectsWithTheExpectedStrategyOrFailsAsExpected(String from, String to, String expected)
      throws Exception {
    SimulatedNat natA = sim.addNat(NATS.get(from).get());
    SimulatedNat natB = sim.addNat(NATS.get(to).get());
    String aId = Peers.id("a");
    String bId = Peers.id("b");
    // Both start (and measure their NATs) at once.
    CompletableFuture<IntroducerClient> startA = CompletableFuture.supplyAsync(() -> start(aId, natA));
    IntroducerClient b = start(bId, natB);
    IntroducerClient a = startA.get(Peers.WAIT_SECONDS, TimeUnit.SECONDS);
    BlockingQueue<PeerChannel> toB = Peers.incoming(b);

    if (expected.startsWith("fails: ")) {
      try {
        a.connect(bId).get(Peers.WAIT_SECONDS, TimeUnit.SECONDS);
        fail("connect succeeded but should fail with " + expected);
      } catch (ExecutionException e) {
        assertThat(e.getCause()).isInstanceOf(ConnectException.class);
        assertThat(((ConnectException) e.getCause()).reason()).isEqualTo(expected.substring("fails: ".length()));
      }
      return;
    }
    Strategy strategy = Strategy.valueOf(expected.toUpperCase().replace('-', '_'));
    PeerChannel ab = Peers.connect(a, bId);
    PeerChannel ba = Peers.take(toB);

    assertThat(ab.strategy()).as("initiator's strategy").isEqualTo(strategy);
    assertThat(ba.strategy()).as("responder's strategy").isEqualTo(strategy);
    assertThat(ab.path()).isEqualTo(Path.DIRECT);
    assertThat(ba.path()).isEqualTo(Path.DIRECT);
    assertThat(ab.remoteAddress().getAddress()).isEqualTo(natB.publicAddress());
    assertThat(ba.remoteAddress().getAddress()).isEqualTo(natA.publicAddress());
    BlockingQueue<String> atA = Peers.messages(ab);
    BlockingQueue<String> atB = Peers.messages(ba);
    ab.send("hello b".getBytes(StandardCharsets.UTF_8));
    ba.send("hello a".getBytes(StandardCharsets.UTF_8));
    assertThat(Peers.next(atB)).isEqualTo("hello b");
    assertThat(Peers.next(atA)).isEqualTo("hello a");

    if (strategy == Strategy.BIRTHDAY) {
      // The hard side kept only the socket that got through: its other mappings are gone.
      SimulatedNat hard = NATS.get(from).get().mapping() == NatBehavior.Mapping.ENDPOINT_INDEPENDENT ? natB : natA;
      assertThat(hard.mappingCount()).isLessThan(8);
    }
    // Both RESULTs name the strategy used.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Peers.WAIT_SECONDS);
    io.introducer.rendezvous.Session s;
    do {
      s = introducer.verticle().sessions().get(ab.sessionId()).orElseThrow();
      if (s.initiatorOutcome() != null && s.responderOutcome() != null) {
        break;
      }
      Thread.sleep(20);
    } while (System.nanoTime() < deadline);
    assertThat(s.strategy()).isEqualTo(strategy);
    assertThat(Stream.of(s.initiatorOutcome(), s.responderOutcome()).map(PeerOutcome::strategy))
        .containsOnly(strategy);
  }

  private IntroducerClient start(String id, SimulatedNat nat) {
    try {
      return peers.start(id, nat.addHost());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
