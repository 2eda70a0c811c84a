package io.introducer.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.RelayRtt;
import io.introducer.protocol.rendezvous.Strategy;
import io.introducer.rendezvous.PeerOutcome;
import io.introducer.rendezvous.Registration;
import io.introducer.rendezvous.Session;
import io.introducer.rendezvous.impl.InMemoryRegistry;
import io.introducer.rendezvous.impl.InMemorySessionStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The JSON API over many thousands of sessions: pagination, filtering, and 400s for bad parameters. */
class ApiTest {
  private static final int SESSIONS = 5_000;
  private static final int PEERS = 120;
  private static final Instant T0 = Instant.now().minusSeconds(SESSIONS + 60);
  private static final List<Session> all = new ArrayList<>();
  private static DashboardFixture node;

  /** Session i: app "other" when i % 3 == 0; initiator p(i % 100), responder q(i % 7); state by i % 4. */
  static Session session(int i) {
    Instant created = T0.plusSeconds(i);
    Instant deadline = i % 4 == 3 ? created.plusSeconds(1) : Instant.now().plusSeconds(3_600);
    PeerOutcome report = switch (i % 4) {
      case 0 -> new PeerOutcome(Outcome.CONNECTED_DIRECT, Strategy.SIMULTANEOUS, 10 + i % 50, 900,
          new InetSocketAddress("127.0.0.1", 40_000 + i % 1000), null, created.plusMillis(50));
      case 1 -> new PeerOutcome(Outcome.FAILED, Strategy.SIMULTANEOUS, 10_000, 0, null, "punch window elapsed",
          created.plusSeconds(10));
      default -> null;
    };
    return new Session(String.format("%032x", i), i % 3 == 0 ? "other" : "game", "p" + (i % 100), "q" + (i % 7),
        List.of(), List.of(), Strategy.SIMULTANEOUS, created, deadline, created.plusMillis(5), report, null);
  }

  @BeforeAll
  static void start() throws Exception {
    InMemorySessionStore sessions = new InMemorySessionStore(SESSIONS);
    for (int i = 0; i < SESSIONS; i++) {
      Session s = session(i);
      all.add(s);
      sessions.add(s);
    }
    InMemoryRegistry registry = new InMemoryRegistry();
    Instant now = Instant.now();
    for (int i = 0; i < PEERS; i++) {
      Registration r = new Registration(i % 2 == 0 ? "game" : "other", String.format("peer-%03d", i),
          new InetSocketAddress("127.0.0.1", 20_000 + i),
          List.of(new Candidate(Candidate.Kind.HOST, new InetSocketAddress("10.1.0." + (i % 200 + 1), 5000))),
          now.minusSeconds(5), i % 10 == 9 ? now.minusSeconds(1) : now.plusSeconds(60));
      if (i == 0) {
        // Reported slowest first: the API lists them fastest first.
        r = r.withRelayRtts(List.of(new RelayRtt(new InetSocketAddress("10.9.0.2", 3479), 12_500),
            new RelayRtt(new InetSocketAddress("10.9.0.1", 3479), 850)));
      }
      registry.put(r);
    }
    node = DashboardFixture.start(s -> s.sessions(() -> sessions).registry(() -> registry));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  private static long count(Predicate<Session> p) {
    return all.stream().filter(p).count();
  }

  @Test
  void sessionsComeNewestFirstInPagesOfTheDefaultSize() throws Exception {
    JsonObject first = node.adminJson("/api/sessions");

    assertThat(first.getInteger("page")).isEqualTo(1);
    assertThat(first.getInteger("size")).isEqualTo(50);
    assertThat(first.getInteger("total")).isEqualTo(SESSIONS);
    assertThat(first.getInteger("pages")).isEqualTo(100);
    JsonArray items = first.getJsonArray("items");
    assertThat(items).hasSize(50);
    assertThat(items.getJsonObject(0).getString("id")).isEqualTo(String.format("%032x", SESSIONS - 1));
    assertThat(items.getJsonObject(49).getString("id")).isEqualTo(String.format("%032x", SESSIONS - 50));
  }

  @Test
  void theLargestPageIs500AndPagesPastTheEndAreEmpty() throws Exception {
    JsonObject last = node.adminJson("/api/sessions?size=500&page=10");
    assertThat(last.getJsonArray("items")).hasSize(500);
    assertThat(last.getJsonArray("items").getJsonObject(499).getString("id")).isEqualTo(String.format("%032x", 0));

    JsonObject past = node.adminJson("/api/sessions?size=500&page=11");
    assertThat(past.getJsonArray("items")).isEmpty();
    assertThat(past.getInteger("total")).isEqualTo(SESSIONS);
  }

  @Test
  void sessionsFilterByStateAppAndPeerOnEitherSide() throws Exception {
    JsonObject failed = node.adminJson("/api/sessions?state=failed&size=500");
    assertThat(failed.getInteger("total")).isEqualTo((int) count(s -> s.initiatorOutcome() != null
        && s.initiatorOutcome().outcome() == Outcome.FAILED));
    assertThat(failed.getJsonArray("items")).allSatisfy(o -> {
      JsonObject s = (JsonObject) o;
      assertThat(s.getString("state")).isEqualTo("failed");
      assertThat(s.getString("failureReason")).isEqualTo("punch window elapsed");
    });

    JsonObject expired = node.adminJson("/api/sessions?state=expired");
    assertThat(expired.getInteger("total")).isEqualTo((int) count(s -> Integer.parseInt(s.id(), 16) % 4 == 3));

    JsonObject byInitiator = node.adminJson("/api/sessions?peer=p42&size=500");
    assertThat(byInitiator.getInteger("total")).isEqualTo((int) count(s -> s.initiator().equals("p42")));
    assertThat(byInitiator.getJsonArray("items")).allSatisfy(o -> assertThat(((JsonObject) o).getString("initiator"))
        .isEqualTo("p42"));

    JsonObject byResponder = node.adminJson("/api/sessions?peer=q3");
    assertThat(byResponder.getInteger("total")).isEqualTo((int) count(s -> s.responder().equals("q3")));

    JsonObject combined = node.adminJson("/api/sessions?app=other&state=connected-direct&peer=q1&size=10&page=2");
    long expected = count(s -> s.appId().equals("other") && s.responder().contains("q1")
        && Integer.parseInt(s.id(), 16) % 4 == 0);
    assertThat(combined.getInteger("total")).isEqualTo((int) expected);
    assertThat(combined.getJsonArray("items")).hasSize(10).allSatisfy(o -> {
      JsonObject s = (JsonObject) o;
      assertThat(s.getString("app")).isEqualTo("other");
      assertThat(s.getString("state")).isEqualTo("connected-direct");
      assertThat(s.getString("path")).isEqualTo("direct");
      assertThat(s.getLong("timeToConnectMillis")).isBetween(10L, 59L);
    });
  }

  @Test
  void badParametersAre400WithTheReason() throws Exception {
    Map<String, String> cases = Map.of(
        "/api/sessions?page=0", "page must be an integer from 1 to 1000000; got 0",
        "/api/sessions?page=two", "page must be an integer from 1 to 1000000; got \"two\"",
        "/api/sessions?size=501", "size must be an integer from 1 to 500; got 501",
        "/api/sessions?size=0", "size must be an integer from 1 to 500; got 0",
        "/api/sessions?state=bogus", "state must be one of pending, connected-direct, connected-relay, failed, expired;"
            + " got \"bogus\"",
        "/api/sessions?peer=bad%20id", "peer must be 1-64 characters of A-Z a-z 0-9 . _ @ : -",
        "/api/sessions?sort=asc", "unknown parameter \"sort\"; allowed: app, page, peer, size, state",
        "/api/sessions?page=1&page=2", "page given more than once",
        "/api/peers?state=failed", "unknown parameter \"state\"; allowed: app, page, peer, size",
        "/api/nodes?page=1", "this endpoint takes no parameters; got \"page\"");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      HttpResponse<String> r = node.admin(c.getKey());
      assertThat(r.statusCode()).as("%s: %s", c.getKey(), r.body()).isEqualTo(400);
      assertThat(new JsonObject(r.body()).getString("error")).as(c.getKey()).isEqualTo(c.getValue());
    }
  }

  @Test
  void peersListActiveRegistrationsByAppAndPeerWithFilters() throws Exception {
    int active = (int) java.util.stream.IntStream.range(0, PEERS).filter(i -> i % 10 != 9).count();
    JsonObject first = node.adminJson("/api/peers?size=20");
    assertThat(first.getInteger("total")).isEqualTo(active);
    assertThat(first.getJsonArray("items")).hasSize(20);
    JsonObject p0 = first.getJsonArray("items").getJsonObject(0);
    assertThat(p0.getString("app")).isEqualTo("game");
    assertThat(p0.getString("peer")).isEqualTo("peer-000");
    assertThat(p0.getString("public")).isEqualTo("127.0.0.1:20000");
    assertThat(p0.getJsonArray("hostCandidates")).containsExactly("10.1.0.1:5000");
    assertThat(p0.getString("nat")).isEqualTo("unknown");
    assertThat(p0.getJsonArray("relayRtts")).isEqualTo(new JsonArray()
        .add(new JsonObject().put("relay", "10.9.0.1:3479").put("rttMicros", 850L))
        .add(new JsonObject().put("relay", "10.9.0.2:3479").put("rttMicros", 12_500L)));
    JsonObject p1 = first.getJsonArray("items").getJsonObject(1);
    assertThat(p1.getString("peer")).isEqualTo("peer-002");
    assertThat(p1.getJsonArray("relayRtts")).as("a peer that reported no relay RTTs").isEmpty();

    JsonObject other = node.adminJson("/api/peers?app=other&size=500");
    assertThat(other.getJsonArray("items")).allSatisfy(o -> assertThat(((JsonObject) o).getString("app"))
        .isEqualTo("other"));
    assertThat(other.getInteger("total")).isEqualTo((int) java.util.stream.IntStream.range(0, PEERS)
        .filter(i -> i % 2 == 1 && i % 10 != 9).count());

    // Ordered by app, then peer; peer-019 has expired.
    JsonObject some = node.adminJson("/api/peers?peer=peer-01");
    assertThat(some.getJsonArray("items")).extracting(o -> ((JsonObject) o).getString("peer"))
        .containsExactly("peer-010", "peer-012", "peer-014", "peer-016", "peer-018",
            "peer-011", "peer-013", "peer-015", "peer-017");
  }

  @Test
  void nodesListTheDirectoryAndRelaysAreEmptyWithoutARelayRole() throws Exception {
    JsonArray nodes = node.adminJson("/api/nodes").getJsonArray("items");
    assertThat(nodes).hasSize(1);
    assertThat(nodes.getJsonObject(0).getString("health")).isEqualTo("ready");
    assertThat(node.adminJson("/api/relays").getJsonArray("items")).isEmpty();
  }

  @Test
  void statsSummariseTheRetainedSessions() throws Exception {
    JsonObject stats = node.adminJson("/api/stats");
    JsonObject sessions = stats.getJsonObject("sessions");
    assertThat(sessions.getLong("total")).isEqualTo(SESSIONS);
    JsonObject byState = sessions.getJsonObject("byState");
    assertThat(byState.getLong("connected-direct")).isEqualTo(1250);
    assertThat(byState.getLong("failed")).isEqualTo(1250);
    assertThat(byState.getLong("pending")).isEqualTo(1250);
    assertThat(byState.getLong("expired")).isEqualTo(1250);
    assertThat(sessions.getJsonObject("paths").getDouble("directShare")).isEqualTo(1.0);
    JsonObject group = sessions.getJsonArray("groups").getJsonObject(0);
    assertThat(group.getString("strategy")).isEqualTo("simultaneous");
    assertThat(group.getString("initiatorNat")).isEqualTo("unknown");
    assertThat(group.getLong("decided")).isEqualTo(3750);
    assertThat(group.getDouble("successRate")).isCloseTo(1.0 / 3, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(group.getJsonObject("timeToConnectMillis").getLong("max")).isEqualTo(58);
    assertThat(stats.getJsonObject("peers").getLong("total")).isEqualTo(PEERS);
    assertThat(stats.getJsonArray("relayLoad")).isEmpty();
  }
}
