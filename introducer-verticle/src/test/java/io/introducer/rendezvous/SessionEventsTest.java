package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.Strategy;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every accepted session change is published as JSON on {@link IntroducerVerticle#SESSION_EVENTS}. */
@ExtendWith(VertxExtension.class)
class SessionEventsTest {
  private final BlockingQueue<JsonObject> events = new LinkedBlockingQueue<>();
  private IntroducerVerticle introducer;
  private TestPeer alice;
  private TestPeer bob;

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    vertx.eventBus().<JsonObject>consumer(IntroducerVerticle.SESSION_EVENTS, m -> events.add(m.body()))
        .completion().await(5, TimeUnit.SECONDS);
    introducer = Fixtures.deploy(vertx, Fixtures.config());
    alice = Fixtures.peer(introducer, "alice");
    bob = Fixtures.peer(introducer, "bob");
  }

  @AfterEach
  void close() {
    alice.close();
    bob.close();
  }

  private JsonObject next() throws InterruptedException {
    JsonObject e = events.poll(5, TimeUnit.SECONDS);
    assertThat(e).as("a session event within 5 s").isNotNull();
    return e;
  }

  @Test
  void creationIntroductionAndReportArePublishedWithTheSessionsNewState() throws Exception {
    alice.register();
    bob.register();
    byte[] sessionId = alice.connect("bob").get(StunAttributes.SESSION_ID);
    String id = HexFormat.of().formatHex(sessionId);

    JsonObject created = next();
    assertThat(created.getString("event")).isEqualTo("created");
    JsonObject s = created.getJsonObject("session");
    assertThat(s.getString("id")).isEqualTo(id);
    assertThat(s.getString("app")).isEqualTo(Fixtures.APP);
    assertThat(s.getString("initiator")).isEqualTo("alice");
    assertThat(s.getString("responder")).isEqualTo("bob");
    assertThat(s.getString("initiatorNat")).isEqualTo("unknown");
    assertThat(s.getString("strategy")).isEqualTo("simultaneous");
    assertThat(s.getString("state")).isEqualTo("pending");
    assertThat(s.getValue("path")).isNull();

    StunMessage introduce = bob.receive();
    bob.send(bob.sign(StunMessage.successFor(introduce).add(StunAttributes.SESSION_ID, sessionId)));
    JsonObject introduced = next();
    assertThat(introduced.getString("event")).isEqualTo("introduced");
    assertThat(introduced.getJsonObject("session").getLong("introducedAt")).isNotNull();

    StunMessage.Builder result = alice.request(StunMethods.RESULT)
        .add(StunAttributes.SESSION_ID, sessionId)
        .add(StunAttributes.OUTCOME, ByteBuffer.allocate(12).put((byte) Outcome.CONNECTED_DIRECT.code())
            .put((byte) Strategy.SIMULTANEOUS.code()).putShort((short) 0).putInt(42).putInt(900).array());
    result.add(StunAttributes.CANDIDATE,
        new Candidate(Candidate.Kind.SERVER_REFLEXIVE, bob.address()).encode(result.transactionId()));
    assertThat(alice.call(result).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);

    JsonObject reported = next();
    assertThat(reported.getString("event")).isEqualTo("reported");
    JsonObject r = reported.getJsonObject("session");
    assertThat(r.getString("state")).isEqualTo("connected-direct");
    assertThat(r.getString("path")).isEqualTo("direct");
    assertThat(r.getLong("timeToConnectMillis")).isEqualTo(42);
    assertThat(r.getJsonObject("initiatorReport").getString("remote"))
        .isEqualTo("127.0.0.1:" + bob.address().getPort());
  }

  @Test
  void rejectedRequestsPublishNothing() throws Exception {
    alice.register();

    alice.connect("nobody");
    alice.call(alice.request(StunMethods.RESULT)
        .add(StunAttributes.SESSION_ID, new byte[16])
        .add(StunAttributes.OUTCOME, new byte[12]));

    // Handled in order on one event loop: once a later Binding is answered, any event would already be queued.
    alice.assertNothingReceivedBeforeBindingAnswer();
    assertThat(events.poll(200, TimeUnit.MILLISECONDS)).isNull();
  }
}
