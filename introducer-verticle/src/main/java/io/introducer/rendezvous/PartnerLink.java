package io.introducer.rendezvous;

import io.introducer.protocol.StunMessage;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event-bus half of RFC 5780 partnering ({@link DiscoveryPartners}, docs/PROTOCOL.md section 6). A Binding with
 * CHANGE-REQUEST "change IP" received by a node whose second IP is its partner is answered by the partner: the
 * receiving node builds the answer (XOR-MAPPED-ADDRESS of the source as it saw it, RESPONSE-ORIGIN of the partner's
 * socket, its own OTHER-ADDRESS), pays for it from the source's amplification credit, and hands it here
 * ({@link #forward}); the partner sends it, unchanged, from its primary socket or its alternate port to the address
 * the request came from ({@link #onAnswer}). Only Binding responses are sent this way. Runs on the verticle's context.
 */
final class PartnerLink {
  private static final Logger log = LoggerFactory.getLogger(PartnerLink.class);
  /** A forwarded answer not confirmed by then is counted failed (the client has retransmitted by then anyway). */
  static final long FORWARD_TIMEOUT_MILLIS = 1_000;
  private static final int BINDING_SUCCESS = 0x0101;
  private static final int BINDING_ERROR = 0x0111;

  private final Vertx vertx;
  private final String nodeId;
  private final Endpoints endpoints;
  private final IntroducerCounters counters;
  private MessageConsumer<JsonObject> answers;

  PartnerLink(Vertx vertx, String nodeId, Endpoints endpoints, IntroducerCounters counters) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.endpoints = endpoints;
    this.counters = counters;
  }

  /** The event-bus address on which {@code node} takes Binding answers to send for its partners. */
  static String answerAddress(String node) {
    return "introducer.node." + node + ".binding";
  }

  Future<Void> start() {
    answers = vertx.eventBus().consumer(answerAddress(nodeId), this::onAnswer);
    return answers.completion();
  }

  Future<Void> stop() {
    return answers == null ? Future.succeededFuture() : answers.unregister();
  }

  /** Hands {@code datagram} (a Binding answer, already paid for) to {@code partner} to send from one of its sockets. */
  void forward(DiscoveryPartners.Partner partner, boolean alternatePort, byte[] datagram, InetSocketAddress to) {
    counters.changeForwards.increment();
    JsonObject message = new JsonObject()
        .put("datagram", Base64.getEncoder().encodeToString(datagram))
        .put("host", to.getAddress().getHostAddress())
        .put("port", to.getPort())
        .put("alternatePort", alternatePort);
    vertx.eventBus().request(answerAddress(partner.nodeId()), message,
        new DeliveryOptions().setSendTimeout(FORWARD_TIMEOUT_MILLIS)).onFailure(e -> {
          counters.changeForwardsFailed.increment();
          log.debug("partner {} did not send a change answer to {}: {}", partner.nodeId(), to, e.getMessage());
        });
  }

  /** A partner's answer: a Binding response to send from our primary socket or alternate port. */
  private void onAnswer(Message<JsonObject> m) {
    byte[] datagram;
    InetSocketAddress to;
    boolean alternatePort;
    try {
      JsonObject j = m.body();
      datagram = Base64.getDecoder().decode(j.getString("datagram"));
      InetAddress ip = IntroducerConfig.tryLiteral(j.getString("host"));
      int port = j.getInteger("port");
      alternatePort = j.getBoolean("alternatePort");
      if (ip == null || port <= 0 || port > 0xFFFF || !isBindingResponse(datagram)) {
        throw new IllegalArgumentException("not a Binding answer to an address");
      }
      to = new InetSocketAddress(ip, port);
    } catch (RuntimeException e) {
      counters.drop("bad-partner-answer");
      m.fail(400, "bad partner answer: " + e.getMessage());
      return;
    }
    if (!endpoints.sendFromOwn(alternatePort, datagram, to)) {
      m.fail(404, alternatePort ? "no alternate port here" : "not listening");
      return;
    }
    counters.changeAnswersForPartners.increment();
    m.reply("sent");
  }

  static boolean isBindingResponse(byte[] d) {
    if (d.length < StunMessage.HEADER_LENGTH || d.length > UdpChannel.MAX_DATAGRAM) {
      return false;
    }
    int type = (d[0] & 0xFF) << 8 | (d[1] & 0xFF);
    int cookie = (d[4] & 0xFF) << 24 | (d[5] & 0xFF) << 16 | (d[6] & 0xFF) << 8 | (d[7] & 0xFF);
    return (type == BINDING_SUCCESS || type == BINDING_ERROR) && cookie == StunMessage.MAGIC_COOKIE;
  }
}
