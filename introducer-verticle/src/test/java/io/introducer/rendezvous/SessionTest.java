package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.Strategy;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SessionTest {
  static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");

  static Session session(String id, Instant createdAt) {
    return new Session(id, "game", "alice", "bob", List.of(), List.of(), Strategy.SIMULTANEOUS,
        createdAt, createdAt.plusSeconds(40), null, null, null);
  }

  static PeerOutcome report(Outcome outcome) {
    return new PeerOutcome(outcome, Strategy.SIMULTANEOUS, 100, 2000, null, null, T0);
  }

  @Test
  void unreportedSessionIsPendingUntilItsDeadlineThenExpired() {
    Session s = session("s", T0);

    assertThat(s.state(T0.plusSeconds(40))).isEqualTo(SessionState.PENDING);
    assertThat(s.state(T0.plusSeconds(41))).isEqualTo(SessionState.EXPIRED);
  }

  @Test
  void aDirectConnectionReportedByEitherSideWins() {
    Session s = session("s", T0).withOutcome("bob", report(Outcome.FAILED)).withOutcome("alice",
        report(Outcome.CONNECTED_DIRECT));

    assertThat(s.state(T0.plusSeconds(100))).isEqualTo(SessionState.CONNECTED_DIRECT);
  }

  @Test
  void relayBeatsFailureAndFailureBeatsExpiry() {
    Session failed = session("s", T0).withOutcome("alice", report(Outcome.FAILED));

    assertThat(failed.state(T0.plusSeconds(100))).isEqualTo(SessionState.FAILED);
    assertThat(failed.withOutcome("bob", report(Outcome.CONNECTED_RELAY)).state(T0))
        .isEqualTo(SessionState.CONNECTED_RELAY);
  }

  @Test
  void reportsGoToTheRightPeerAndStrangersChangeNothing() {
    Session s = session("s", T0).withOutcome("bob", report(Outcome.FAILED)).withOutcome("carol",
        report(Outcome.CONNECTED_DIRECT));

    assertThat(s.initiatorOutcome()).isNull();
    assertThat(s.responderOutcome().outcome()).isEqualTo(Outcome.FAILED);
    assertThat(s.involves("game", "alice")).isTrue();
    assertThat(s.involves("other", "alice")).isFalse();
    assertThat(s.involves("game", "carol")).isFalse();
  }
}
