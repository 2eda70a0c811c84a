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
 * First stop of every datagram: demultiplexes, decodes, answers Binding (with the RFC 5780 attributes of
 * docs/PROTOCOL.md section 6) and routes the rest. Rendezvous traffic is served on the primary sockets only.
 * Anything it cannot use is dropped and counted by reason; nothing thrown while handling a packet escapes.
 * Datagrams reach it once {@link Endpoints} has charged them to their source ({@link RateLimits#admit}); every
 * Binding answer it sends is paid for from the source's amplification credit ({@link RateLimits#spend}).
 */
final class Dispatcher {
  private static final Logger log = LoggerFactory.getLogger(Dispatcher.class);

  /** RFC 5780 section 7.2: CHANGE-REQUEST flags. */
  static final int CHANGE_IP = 0x04;
  static final int CHANGE_PORT = 0x02;
  /** A RESPONSE-PORT redirect is refused when the response would exceed the request by more than this. */
  static final int MAX_REDIRECT_GROWTH = 64;

  private final IntroducerConfig config;
  private final Endpoints endpoints;
  private final IntroducerCounters counters;
  private final PeerRequests peerRequests;
  private final Introductions introductions;
  private final RateLimits limits;
  private final Sender sender;

  /** How Binding answers leave: from the socket {@code via}. Tests that run without sockets replace it. */
  @FunctionalInterface
  interface Sender {
    void send(Endpoints.Endpoint via, byte[] datagram, InetSocketAddress to);
  }

  Dispatcher(IntroducerConfig config, Endpoints endpoints, IntroducerCounters counters, PeerRequests peerRequests,
      Introductions introductions, RateLimits limits) {
    this(config, endpoints, counters, peerRequests, introductions, limits, (via, datagram, to) -> via.send(datagram, to));
  }

  Dispatcher(IntroducerConfig config, Endpoints endpoints, IntroducerCounters counters, PeerRequests peerRequests,
      Introductions introductions, RateLimits limits, Sender sender) {
    this.config = config;
    this.endpoints = endpoints;
    this.counters = counters;
    this.peerRequests = peerRequests;
    this.introductions = introductions;
    this.limits = limits;
    this.sender = sender;
  }

  /** A datagram from {@code from} received on the socket {@code local}. */
  void onDatagram(byte[] data, InetSocketAddress from, Endpoints.Endpoint local) {
    counters.packetsIn.increment();
    try {
      route(data, from, local);
    } catch (RuntimeException e) {
      log.error("Bug while handling a datagram from {}", from, e);
      counters.drop("internal-error");
    }
  }

  private void route(byte[] data, InetSocketAddress from, Endpoints.Endpoint local) {
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
      case REQUEST -> request(m, from, local);
      case INDICATION -> {
        // Binding indications are RFC 8489 keepalives: nothing to do. Nothing else is expected.
        if (m.method() != StunMethods.BINDING) {
          counters.drop("unexpected-indication");
        }
      }
      case SUCCESS_RESPONSE, ERROR_RESPONSE -> {
        if (!local.primary()) {
          counters.drop("not-primary");
        } else if (!introductions.onResponse(m)) {
          counters.drop("unmatched-response");
        }
      }
    }
  }

  private void request(StunMessage m, InetSocketAddress from, Endpoints.Endpoint local) {
    switch (m.method()) {
      case StunMethods.BINDING -> binding(m, from, local);
      case StunMethods.REGISTER, StunMethods.KEEPALIVE, StunMethods.CONNECT, StunMethods.RESULT,
          StunMethods.DEREGISTER, StunMethods.UPDATE, StunMethods.RELAY_REQUEST -> {
        if (local.primary()) {
          peerRequests.handle(m, from);
        } else {
          counters.drop("not-primary"); // the alternate sockets exist for NAT behaviour tests only
        }
      }
      default -> counters.drop("unsupported-method");
    }
  }

  /**
   * Binding: XOR-MAPPED-ADDRESS and MAPPED-ADDRESS of the source, RESPONSE-ORIGIN of the answering socket,
   * OTHER-ADDRESS of the receiving one, SOFTWARE, FINGERPRINT when the request had one. CHANGE-REQUEST picks the
   * answering socket (420 naming it when this node has none such). RESPONSE-PORT redirects the answer, errors
   * included, to that port of the source IP, unless the answer would be more than {@link #MAX_REDIRECT_GROWTH}
   * bytes larger than the request: then a 400 goes to the source instead (no amplification towards a third port).
   */
  private void binding(StunMessage request, InetSocketAddress from, Endpoints.Endpoint local) {
    counters.bindings.increment();
    InetSocketAddress to = from;
    byte[] responsePort = request.get(StunAttributes.RESPONSE_PORT);
    if (responsePort != null) {
      int port = responsePort.length == 4 ? ((responsePort[0] & 0xFF) << 8) | (responsePort[1] & 0xFF) : 0;
      if (port == 0) {
        send(local, error(request, 400, "bad request: RESPONSE-PORT", null), from);
        return;
      }
      to = new InetSocketAddress(from.getAddress(), port);
    }
    List<Integer> unknown = request.unknownComprehensionRequired();
    if (!unknown.isEmpty()) {
      answer(request, error(request, 420, "unknown attribute", unknown), local, local, from, to);
      return;
    }
    Endpoints.Endpoint responder = local;
    byte[] change = request.get(StunAttributes.CHANGE_REQUEST);
    if (change != null) {
      if (change.length != 4) {
        answer(request, error(request, 400, "bad request: CHANGE-REQUEST", null), local, local, from, to);
        return;
      }
      responder = endpoints.changed(local, (change[3] & CHANGE_IP) != 0, (change[3] & CHANGE_PORT) != 0);
      if (responder == null) {
        // RFC 5780 section 6.1: a change this node cannot make is a 420 naming CHANGE-REQUEST.
        answer(request, error(request, 420, "unknown attribute", List.of(StunAttributes.CHANGE_REQUEST)), local,
            local, from, to);
        return;
      }
      if (responder != local) {
        counters.changeRequests.increment();
      }
    }
    StunMessage.Builder response = StunMessage.successFor(request)
        .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, from)
        .addAddress(StunAttributes.MAPPED_ADDRESS, from);
    if (responder.responseOrigin() != null) {
      response.add(StunAttributes.RESPONSE_ORIGIN, responder.responseOrigin());
    }
    if (local.otherAddress() != null) {
      response.add(StunAttributes.OTHER_ADDRESS, local.otherAddress());
    }
    response.addString(StunAttributes.SOFTWARE, config.software());
    if (request.hasFingerprint()) {
      response.fingerprint();
    }
    answer(request, response.encode(), responder, local, from, to);
  }

  /**
   * Sends a Binding answer from {@code responder} to {@code to}; when {@code to} is a RESPONSE-PORT redirect that
   * would amplify, a 400 goes from {@code local} to the request's source instead.
   */
  private void answer(StunMessage request, byte[] answer, Endpoints.Endpoint responder, Endpoints.Endpoint local,
      InetSocketAddress from, InetSocketAddress to) {
    if (to != from) {
      if (answer.length > request.length() + MAX_REDIRECT_GROWTH) {
        send(local, error(request, 400, "bad request: RESPONSE-PORT refused: the response would exceed the request by"
            + " more than " + MAX_REDIRECT_GROWTH + " bytes; pad the request", null), from);
        return;
      }
      counters.responsePortRedirects.increment();
    }
    send(responder, answer, to);
  }

  /** Every Binding answer leaves here, once the source's amplification credit covers it (RateLimits#spend). */
  private void send(Endpoints.Endpoint via, byte[] datagram, InetSocketAddress to) {
    if (limits.spend(to, datagram.length)) {
      sender.send(via, datagram, to);
    }
  }

  /** A Binding error response: SOFTWARE, and FINGERPRINT when the request had one. */
  private byte[] error(StunMessage request, int code, String reason, List<Integer> unknown) {
    StunMessage.Builder b = StunMessage.errorFor(request, code, reason);
    if (unknown != null) {
      b.addUnknownAttributes(unknown);
    }
    b.addString(StunAttributes.SOFTWARE, config.software());
    if (request.hasFingerprint()) {
      b.fingerprint();
    }
    counters.error(code);
    return b.encode();
  }
}
