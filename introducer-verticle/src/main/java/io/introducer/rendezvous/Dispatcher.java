package io.introducer.rendezvous;

import io.introducer.protocol.Demux;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import java.net.InetSocketAddress;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First stop of every datagram: demultiplexes, decodes, answers Binding and routes the rest. Anything it
 * cannot use is dropped and counted by reason; nothing thrown while handling a packet escapes.
 */
final class Dispatcher {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

  private final IntroducerConfig config;
  private final Outbound out;
  private final IntroducerCounters counters;
  private final PeerRequests peerRequests;
  private final Introductions introductions;

  Dispatcher(IntroducerConfig config, Outbound out, IntroducerCounters counters, PeerRequests peerRequests,
      Introductions introductions) {
    this.config = config;
    this.out = out;
    this.counters = counters;
    this.peerRequests = peerRequests;
    this.introductions = introductions;
  }

  void onDatagram(byte[] data, InetSocketAddress from) {
    counters.packetsIn.increment();
    try {
      route(data, from);
    } catch (RuntimeException e) {
      log.error("Bug while handling a datagram from {}", from, e);
      counters.drop("internal-error");
    }
  }

  private void route(byte[] data, InetSocketAddress from) {
    if (data.length == 0 || Demux.classify(data[0]) != Demux.Kind.STUN) {
      counters.drop("not-stun");
      return;
    }
    StunMessage m;
    try {
      m = StunMessage.decode(data);
    } catch (StunParseException e) {
      counters.drop(e.reason());
      log.debug("Dropped datagram from {}: {}", from, e.getMessage());
      return;
    }
    switch (m.messageClass()) {
      case REQUEST -> request(m, from);
      case INDICATION -> {
        // Binding indications are RFC 8489 keepalives: nothing to do. Nothing else is expected.
        if (m.method() != StunMethods.BINDING) {
          counters.drop("unexpected-indication");
        }
      }
      case SUCCESS_RESPONSE, ERROR_RESPONSE -> {
        if (!introductions.onResponse(m)) {
          counters.drop("unmatched-response");
        }
      }
    }
  }

  private void request(StunMessage m, InetSocketAddress from) {
    switch (m.method()) {
      case StunMethods.BINDING -> binding(m, from);
      case StunMethods.REGISTER, StunMethods.KEEPALIVE, StunMethods.CONNECT, StunMethods.RESULT,
          StunMethods.DEREGISTER -> peerRequests.handle(m, from);
      default -> counters.drop("unsupported-method");
    }
  }

  private void binding(StunMessage request, InetSocketAddress from) {
    List<Integer> unknown = request.unknownComprehensionRequired();
    StunMessage.Builder response = unknown.isEmpty()
        ? StunMessage.successFor(request)
            .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, from)
            .addAddress(StunAttributes.MAPPED_ADDRESS, from)
        : StunMessage.errorFor(request, 420, "unknown attribute").addUnknownAttributes(unknown);
    response.addString(StunAttributes.SOFTWARE, config.software());
    if (request.hasFingerprint()) {
      response.fingerprint();
    }
    if (!unknown.isEmpty()) {
      counters.error(420);
    }
    counters.bindings.increment();
    out.send(response.encode(), from);
  }
}
