package io.introducer.rendezvous;

import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.PunchParams;
import io.introducer.protocol.rendezvous.Strategy;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Chooses how two registered peers traverse their NATs from both NAT profiles (docs/PROTOCOL.md section 7). A
 * profile's unknown fields count as the common case, EIM mapping and APDF filtering. A peer is
 * <em>hard</em> when its mapping is endpoint-dependent (ADM or APDM), and then <em>sequential</em> when its
 * allocator is sequential with a non-zero stride, <em>random</em> otherwise (random, preserving or unknown
 * allocation, or a zero stride, cannot be predicted):
 * <pre>
 *   A \ B        EIM             sequential              random
 *   EIM          simultaneous    port-prediction (B)     birthday (B hard); hard-side-first if A is EIF/ADF
 *   sequential   mirror          port-prediction (both)  relay
 *   random       mirror          mirror                  relay
 * </pre>
 * Pure: no I/O, no state beyond its configuration.
 */
final class StrategySelector {

  /** The side byte of STRATEGY, as told to one peer. */
  enum Side {
    /** Both punch. */
    SYMMETRIC(0),
    /** This peer is behind the hard NAT: it sends first / opens the sockets. */
    HARD(1),
    /** This peer is behind the easy NAT: it waits for / probes the hard side. */
    EASY(2);

    private final int code;

    Side(int code) {
      this.code = code;
    }

    int code() {
      return code;
    }
  }

  /**
   * How one session is to be traversed.
   *
   * @param initiatorSide the side told to the initiator (CONNECT success)
   * @param responderSide the side told to the responder (INTRODUCE)
   * @param params PUNCH-PARAMS for both peers; for port prediction its probe count is the prediction window
   * @param initiatorPredicted PREDICTED candidates of the initiator, sent to the responder after its other candidates
   * @param responderPredicted PREDICTED candidates of the responder, sent to the initiator after its other candidates
   */
  record Plan(Strategy strategy, Side initiatorSide, Side responderSide, PunchParams params,
      List<Candidate> initiatorPredicted, List<Candidate> responderPredicted) {
    Plan {
      initiatorPredicted = List.copyOf(initiatorPredicted);
      responderPredicted = List.copyOf(responderPredicted);
    }

    /** STRATEGY's value for a peer: strategy, side, two reserved bytes. */
    static byte[] strategyValue(Strategy strategy, Side side) {
      return new byte[] {(byte) strategy.code(), (byte) side.code(), 0, 0};
    }
  }

  /** What matters of a NAT for the choice. */
  enum Kind { EASY, SEQUENTIAL, RANDOM }

  private final PunchParams params;
  private final int predictionWindow;

  StrategySelector(PunchParams params, int predictionWindow) {
    if (predictionWindow < 1) {
      throw new IllegalArgumentException("predictionWindow must be at least 1, got " + predictionWindow);
    }
    this.params = params;
    this.predictionWindow = predictionWindow;
  }

  Plan select(Registration initiator, Registration responder) {
    NatProfile a = initiator.natProfile();
    NatProfile b = responder.natProfile();
    Kind ka = kind(a);
    Kind kb = kind(b);
    List<Candidate> none = List.of();
    if (ka == Kind.EASY && kb == Kind.EASY) {
      return new Plan(Strategy.SIMULTANEOUS, Side.SYMMETRIC, Side.SYMMETRIC, params, none, none);
    }
    if (ka == Kind.SEQUENTIAL && kb == Kind.SEQUENTIAL) {
      return new Plan(Strategy.PORT_PREDICTION, Side.SYMMETRIC, Side.SYMMETRIC, predictionParams(),
          predicted(initiator.serverReflexive(), a.stride()), predicted(responder.serverReflexive(), b.stride()));
    }
    if (ka != Kind.EASY && kb != Kind.EASY) {
      return new Plan(Strategy.RELAY, Side.SYMMETRIC, Side.SYMMETRIC, params, none, none);
    }
    boolean initiatorHard = ka != Kind.EASY;
    Side initiatorSide = initiatorHard ? Side.HARD : Side.EASY;
    Side responderSide = initiatorHard ? Side.EASY : Side.HARD;
    Registration hard = initiatorHard ? initiator : responder;
    NatProfile easyProfile = initiatorHard ? b : a;
    if ((initiatorHard ? ka : kb) == Kind.SEQUENTIAL) {
      List<Candidate> guesses = predicted(hard.serverReflexive(), hard.natProfile().stride());
      return new Plan(Strategy.PORT_PREDICTION, initiatorSide, responderSide, predictionParams(),
          initiatorHard ? guesses : none, initiatorHard ? none : guesses);
    }
    NatProfile.Filtering f = easyProfile.filtering();
    Strategy s = f == NatProfile.Filtering.EIF || f == NatProfile.Filtering.ADF ? Strategy.HARD_SIDE_FIRST
        : Strategy.BIRTHDAY;
    return new Plan(s, initiatorSide, responderSide, params, none, none);
  }

  static Kind kind(NatProfile p) {
    if (!p.endpointDependent()) {
      return Kind.EASY; // EIM, or unknown: the common case
    }
    return p.allocation() == NatProfile.Allocation.SEQUENTIAL && p.stride() != 0 ? Kind.SEQUENTIAL : Kind.RANDOM;
  }

  private PunchParams predictionParams() {
    return new PunchParams(params.socketCount(), predictionWindow, params.probesPerSecond());
  }

  /** The mapped port plus stride x k for k = 1..W, nearest first, leaving out ports outside 1-65535. */
  List<Candidate> predicted(InetSocketAddress serverReflexive, int stride) {
    List<Candidate> out = new ArrayList<>(predictionWindow);
    for (int k = 1; k <= predictionWindow; k++) {
      int port = serverReflexive.getPort() + stride * k;
      if (port >= 1 && port <= 65535) {
        out.add(new Candidate(Candidate.Kind.PREDICTED, new InetSocketAddress(serverReflexive.getAddress(), port)));
      }
    }
    return out;
  }
}
