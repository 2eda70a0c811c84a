package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.Strategy;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionJsonTest {
  private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
  private static final NatProfile STRICT = new NatProfile(NatProfile.Mapping.APDM, NatProfile.Filtering.APDF,
      NatProfile.Allocation.RANDOM, 0, NatProfile.Hairpinning.NO, 30);
  private static final NatProfile MODERATE = new NatProfile(NatProfile.Mapping.EIM, NatProfile.Filtering.APDF,
      NatProfile.Allocation.UNKNOWN, 0, NatProfile.Hairpinning.UNKNOWN, 0);

  private static PeerOutcome report(Outcome o, long ttc, String reason) {
    return new PeerOutcome(o, Strategy.RELAY, ttc, 1500, o == Outcome.FAILED ? null
        : new InetSocketAddress("192.0.2.1", 4000), reason, T0.plusSeconds(1));
  }

  @Test
  void natProfilesAreShownAsSummaryAndBehaviour() {
    assertThat(SessionJson.nat(STRICT)).isEqualTo("strict (APDM/APDF, random)");
    assertThat(SessionJson.nat(MODERATE)).isEqualTo("moderate (EIM/APDF)");
    assertThat(SessionJson.nat(NatProfile.UNKNOWN)).isEqualTo("unknown");
    assertThat(SessionJson.nat(null)).isEqualTo("unknown");
  }

  @Test
  void aRelayedSessionTakesTheFasterDecidingReport() {
    Session s = new Session("ab", "game", "alice", "bob",
        List.of(new Candidate(Candidate.Kind.SERVER_REFLEXIVE, new InetSocketAddress("198.51.100.1", 1000))),
        List.of(), Strategy.RELAY, T0, T0.plusSeconds(40), T0.plusMillis(20),
        report(Outcome.CONNECTED_RELAY, 90, null), report(Outcome.CONNECTED_RELAY, 70, null), STRICT, MODERATE);

    JsonObject j = SessionJson.toJson(s, T0.plusSeconds(2));

    assertThat(j.getString("state")).isEqualTo("connected-relay");
    assertThat(j.getString("path")).isEqualTo("relay");
    assertThat(j.getLong("timeToConnectMillis")).isEqualTo(70);
    assertThat(j.getString("initiatorNat")).isEqualTo("strict (APDM/APDF, random)");
    assertThat(j.getString("responderNat")).isEqualTo("moderate (EIM/APDF)");
    assertThat(j.getJsonArray("initiatorCandidates")).containsExactly("server-reflexive:198.51.100.1:1000");
    assertThat(j.getValue("failureReason")).isNull();
    assertThat(j.getLong("introducedAt")).isEqualTo(T0.plusMillis(20).toEpochMilli());
  }

  @Test
  void aFailedSessionCarriesItsReasonAndNoPath() {
    Session s = new Session("cd", "game", "carol", "dave", List.of(), List.of(), Strategy.SIMULTANEOUS, T0,
        T0.plusSeconds(40), null, report(Outcome.FAILED, 10_000, "punch window elapsed"), null);

    JsonObject j = SessionJson.toJson(s, T0.plusSeconds(12));

    assertThat(j.getString("state")).isEqualTo("failed");
    assertThat(j.getValue("path")).isNull();
    assertThat(j.getValue("timeToConnectMillis")).isNull();
    assertThat(j.getString("failureReason")).isEqualTo("punch window elapsed");
    assertThat(j.getString("initiatorNat")).isEqualTo("unknown");
    assertThat(j.getJsonObject("initiatorReport").getString("outcome")).isEqualTo("failed");
    assertThat(j.getValue("responderReport")).isNull();
  }
}
