package io.introducer.client;

import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Strategy;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Observes a client's registration and introductions (the CLI prints these). Every method has a no-op
 * default; calls arrive on the client's callback executor, never on its protocol threads.
 */
public interface ClientListener {

  /** The introducer accepted a REGISTER (at start, or again after the registration was lost). */
  default void registered(InetSocketAddress publicAddress) {}

  /**
   * The introducer introduced this client to another peer, either answering our CONNECT or with an
   * INTRODUCE on behalf of a peer connecting to us; punching starts now.
   */
  default void introduced(String remotePeerId, String sessionId, List<Candidate> candidates, Strategy strategy) {}

  /** Keepalives went unanswered; the client keeps trying to REGISTER again (with back-off). */
  default void registrationLost(String reason) {}
}
