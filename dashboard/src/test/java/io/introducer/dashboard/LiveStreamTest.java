package io.introducer.dashboard;

import static io.introducer.dashboard.DashboardFixture.ADMIN_TOKEN;
import static io.introducer.dashboard.DashboardFixture.PASSWORD;
import static io.introducer.dashboard.DashboardFixture.USER;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.rendezvous.IntroducerVerticle;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** /api/events: session changes and stats pushed as server-sent events, filtered per stream. */
class LiveStreamTest {
  private DashboardFixture node;
  private final List<InputStream> streams = new ArrayList<>();

  record Event(String name, String data) {}

  @BeforeEach
  void start() throws Exception {
    node = DashboardFixture.start();
  }

  @AfterEach
  void stop() throws Exception {
    for (InputStream s : streams) {
      s.close();
    }
    node.close();
  }

  private String loginToken() throws Exception {
    return new JsonObject(node.post("/api/login", new JsonObject().put("username", USER).put("password", PASSWORD)
        .encode()).body()).getString("token");
  }

  /** Opens a stream and parses its events into a queue on a reader thread. */
  private BlockingQueue<Event> open(String query) throws Exception {
    HttpResponse<InputStream> r = node.http.send(HttpRequest.newBuilder(node.uri("/api/events?" + query))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("text/event-stream; charset=utf-8");
    streams.add(r.body());
    BlockingQueue<Event> events = new ArrayBlockingQueue<>(10_000);
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
        String name = null;
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          if (line.startsWith("event: ")) {
            name = line.substring(7);
          } else if (line.startsWith("data: ") && name != null) {
            events.add(new Event(name, line.substring(6)));
            name = null;
          }
        }
      } catch (java.io.IOException e) {
        // closed by the test
      }
    }, "sse-reader");
    reader.setDaemon(true);
    reader.start();
    return events;
  }

  /** The next event called {@code name} within 10 s, skipping others. */
  private static Event next(BlockingQueue<Event> events, String name) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      Event e = events.poll(100, TimeUnit.MILLISECONDS);
      if (e != null && e.name().equals(name)) {
        return e;
      }
    }
    throw new AssertionError("no '" + name + "' event within 10 s");
  }

  /** Collects sessions from 'sessions' events until one with {@code id} in state {@code state} arrives. */
  private static List<JsonObject> until(BlockingQueue<Event> events, String id, String state) throws Exception {
    List<JsonObject> seen = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      JsonArray batch = new JsonArray(next(events, "sessions").data());
      for (Object o : batch) {
        JsonObject s = (JsonObject) o;
        seen.add(s);
        if (s.getString("id").equals(id) && s.getString("state").equals(state)) {
          return seen;
        }
      }
    }
    throw new AssertionError("session " + id + " never reached " + state + "; saw " + seen);
  }

  @Test
  void aSessionsProgressArrivesLiveAndOnlyOnStreamsWhoseFilterItMatches() throws Exception {
    String token = loginToken();
    BlockingQueue<Event> aliceStream = open("peer=alice&access_token=" + token);
    BlockingQueue<Event> carolStream = open("peer=carol&access_token=" + token);

    try (UdpPeer alice = node.peer("alice"); UdpPeer bob = node.peer("bob"); UdpPeer carol = node.peer("carol");
        UdpPeer dave = node.peer("dave")) {
      for (UdpPeer p : List.of(alice, bob, carol, dave)) {
        p.register();
      }
      String ab = alice.connect("bob");
      bob.acceptIntroduce();
      alice.report(ab, Outcome.CONNECTED_DIRECT, 25, bob.address(), null);
      String cd = carol.connect("dave");
      dave.acceptIntroduce();
      carol.report(cd, Outcome.FAILED, 10_000, null, "punch window elapsed");

      List<JsonObject> aliceSaw = until(aliceStream, ab, "connected-direct");
      assertThat(aliceSaw).allSatisfy(s -> assertThat(s.getString("id")).isEqualTo(ab));
      JsonObject connected = aliceSaw.get(aliceSaw.size() - 1);
      assertThat(connected.getString("path")).isEqualTo("direct");
      assertThat(connected.getLong("timeToConnectMillis")).isEqualTo(25);

      List<JsonObject> carolSaw = until(carolStream, cd, "failed");
      assertThat(carolSaw).allSatisfy(s -> assertThat(s.getString("id")).isEqualTo(cd));
      assertThat(carolSaw.get(carolSaw.size() - 1).getString("failureReason")).isEqualTo("punch window elapsed");
    }
  }

  @Test
  void statsArePushedWhileABrowserIsConnected() throws Exception {
    BlockingQueue<Event> events = open("access_token=" + loginToken());
    try (UdpPeer alice = node.peer("alice")) {
      alice.register();
      for (int i = 0; i < 50; i++) {
        JsonObject stats = new JsonObject(next(events, "stats").data());
        if (stats.getJsonObject("peers").getLong("total") == 1) {
          assertThat(stats.getJsonArray("nodes")).hasSize(1);
          assertThat(stats.getJsonObject("sessions").getLong("total")).isZero();
          assertThat(node.dashboard.liveStreams()).isEqualTo(1);
          return;
        }
      }
    }
    throw new AssertionError("no stats event counted the registered peer");
  }

  @Test
  void aBurstLargerThanOneFlushCanCarryBecomesResync() throws Exception {
    BlockingQueue<Event> events = open("access_token=" + loginToken());
    next(events, "stats"); // the stream is registered
    // Far more than one flush may carry (LiveStream.MAX_PENDING), published at once.
    node.vertx.runOnContext(v -> {
      for (int i = 0; i < 1_000; i++) {
        JsonObject s = ApiTestSessions.json(i);
        node.vertx.eventBus().publish(IntroducerVerticle.SESSION_EVENTS,
            new JsonObject().put("event", "created").put("at", 0L).put("session", s));
      }
    });
    assertThat(next(events, "resync").data()).isEqualTo("{}");
  }

  @Test
  void theStreamRefusesAdminTokensInTheUrlAndBadFilters() throws Exception {
    assertThat(node.get("/api/events?access_token=" + ADMIN_TOKEN, null).statusCode()).isEqualTo(401);
    HttpResponse<String> bad = node.get("/api/events?state=failed&access_token=" + loginToken(), null);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(bad.body()).getString("error")).startsWith("unknown parameter \"state\"");
  }
}
