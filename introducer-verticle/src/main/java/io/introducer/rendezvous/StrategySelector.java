package io.introducer.rendezvous;

import io.introducer.protocol.rendezvous.Strategy;

/** Chooses how two registered peers traverse their NATs; the seam for NAT-profile-based choice later. */
@FunctionalInterface
interface StrategySelector {
  /** Until NAT profiles are observed, every pair punches simultaneously. */
  StrategySelector SIMULTANEOUS = (initiator, responder) -> Strategy.SIMULTANEOUS;

  Strategy select(Registration initiator, Registration responder);
}
