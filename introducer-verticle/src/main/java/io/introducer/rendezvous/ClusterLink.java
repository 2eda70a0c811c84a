package io.introducer.rendezvous;

import io.introducer.protocol.TransactionId;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one introducer node exchanges with the others over the (clustered) event bus:
 * <ul>
 *   <li>deliveries: an INTRODUCE or UPDATE, built and signed by the node that handled the request, is sent by the
 *       node that owns the target's registration, the only one whose packets the target's NAT lets in;</li>
 *   <li>session copies: every node keeps every session (merged from the session events all nodes publish), so the
 *       history survives the loss of the node that created it.</li>
 * </ul>
 * Event-loop confined, like the rest of the verticle.
 */
final class ClusterLink implements Introductions.Forwarder {
  private static final Logger log = LoggerFactory.getLogger(ClusterLink.class);
  static final long DELIVERY_TIMEOUT_MILLIS = 2_000;

  private final Vertx vertx;
  private final String nodeId;
  private final IntroducerConfig config;
  private final Registry registry;
  private final SessionStore sessions;
  private final IntroducerCounters counters;
  private final Clock clock;
  private Introductions introductions;
  private MessageConsumer<JsonObject> deliveries;
  private MessageConsumer<JsonObject> sessionCopies;

  ClusterLink(Vertx vertx, String nodeId, IntroducerConfig config, Registry registry, SessionStore sessions,
      IntroducerCounters counters, Clock clock) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.config = config;
    this.registry = registry;
    this.sessions = sessions;
    this.counters = counters;
    this.clock = clock;
  }

  /** The event-bus address on which {@code node} takes deliveries. */
  static String deliveryAddress(String node) {
    return "introducer.node." + node + ".deliver";
  }

  Future<Void> start(Introductions introductions) {
    this.introductions = introductions;
    deliveries = vertx.eventBus().consumer(deliveryAddress(nodeId), this::onDelivery);
    sessionCopies = vertx.eventBus().consumer(IntroducerVerticle.SESSION_EVENTS, this::onSessionEvent);
    return deliveries.completion().compose(v -> sessionCopies.completion());
  }

  Future<Void> stop() {
    Future<Void> a = deliveries == null ? Future.succeededFuture() : deliveries.unregister();
    Future<Void> b = sessionCopies == null ? Future.succeededFuture() : sessionCopies.unregister();
    return Future.all(a, b).mapEmpty();
  }

  @Override
  public void forward(String owner, Introductions.Request r) {
    JsonObject message = new JsonObject()
        .put("method", r.method())
        .put("tx", HexFormat.of().formatHex(r.transactionId().bytes()))
        .put("app", r.appId())
        .put("target", r.targetPeerId())
        .put("sessionId", HexFormat.of().formatHex(r.sessionId()))
        .put("session", r.sessionHex())
        .put("datagram", Base64.getEncoder().encodeToString(r.datagram()));
    vertx.eventBus().<String>request(deliveryAddress(owner), message,
        new DeliveryOptions().setSendTimeout(DELIVERY_TIMEOUT_MILLIS)).onFailure(e -> {
          counters.deliveriesFailed.increment();
          log.debug("node {} could not deliver session {} to {}: {}", owner, r.sessionHex(), r.targetPeerId(),
              e.getMessage());
        });
  }

  private void onDelivery(Message<JsonObject> m) {
    JsonObject j = m.body();
    Introductions.Request request;
    try {
      String app = j.getString("app");
      String target = j.getString("target");
      Optional<Registration> reg = registry.get(app, target)
          .filter(r -> r.isOwnedBy(nodeId) && !r.isExpired(clock.instant()));
      String secret = config.secret(app);
      if (reg.isEmpty() || secret == null) {
        m.fail(404, "not registered here");
        return;
      }
      request = new Introductions.Request(j.getInteger("method"),
          new TransactionId(HexFormat.of().parseHex(j.getString("tx"))), app, target,
          Rendezvous.peerKey(secret, app, target), HexFormat.of().parseHex(j.getString("sessionId")),
          j.getString("session"), Base64.getDecoder().decode(j.getString("datagram")), reg.get().serverReflexive());
    } catch (RuntimeException e) {
      counters.drop("bad-delivery");
      m.fail(400, "bad delivery: " + e.getMessage());
      return;
    }
    counters.deliveriesReceived.increment();
    introductions.startHere(request);
    m.reply("sent");
  }

  private void onSessionEvent(Message<JsonObject> m) {
    JsonObject j = m.body();
    String from = j.getString("node");
    JsonObject record = j.getJsonObject("record");
    if (from == null || record == null || from.equals(nodeId)) {
      return; // our own event, or one from a node that does not share records
    }
    try {
      sessions.merge(RecordCodec.decodeSession(record));
    } catch (IllegalArgumentException e) {
      counters.drop("bad-session-record");
      log.debug("session record from {} refused: {}", from, e.getMessage());
    }
  }
}
