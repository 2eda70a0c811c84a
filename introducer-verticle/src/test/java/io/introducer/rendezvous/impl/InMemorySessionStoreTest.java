package io.introducer.rendezvous.impl;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.Strategy;
import io.introducer.rendezvous.PeerOutcome;
import io.introducer.rendezvous.Session;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class InMemorySessionStoreTest {
  private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");

  private static Session session(String id, Instant createdAt) {
    return new Session(id, "game", "alice", "bob", List.of(), List.of(), Strategy.SIMULTANEOUS,
        createdAt, createdAt.plusSeconds(40), null, null, null);
  }

  @Test
  void beyondCapacityTheOldestSessionsAreEvicted() {
    InMemorySessionStore store = new InMemorySessionStore(2);
    store.add(session("a", T0));
    store.add(session("b", T0.plusSeconds(1)));
    store.add(session("c", T0.plusSeconds(2)));

    assertThat(store.size()).isEqualTo(2);
    assertThat(store.get("a")).isEmpty();
    assertThat(store.all()).extracting(Session::id).containsExactlyInAnyOrder("b", "c");
  }

  @Test
  void expireDropsSessionsCreatedBeforeTheCutoff() {
    InMemorySessionStore store = new InMemorySessionStore(10);
    store.add(session("a", T0));
    store.add(session("b", T0.plusSeconds(10)));

    assertThat(store.expire(T0.plusSeconds(5))).isEqualTo(1);
    assertThat(store.get("a")).isEmpty();
    assertThat(store.get("b")).isPresent();
  }

  @Test
  void outcomesAndIntroductionAreRecordedForParticipantsOnly() {
    InMemorySessionStore store = new InMemorySessionStore(10);
    store.add(session("a", T0));
    PeerOutcome direct = new PeerOutcome(Outcome.CONNECTED_DIRECT, Strategy.SIMULTANEOUS, 1, 2, null, null, T0);

    assertThat(store.recordOutcome("a", "bob", direct)).isTrue();
    assertThat(store.recordOutcome("a", "carol", direct)).isFalse();
    assertThat(store.recordOutcome("zzz", "bob", direct)).isFalse();
    assertThat(store.markIntroduced("a", T0.plusSeconds(1))).isTrue();
    assertThat(store.markIntroduced("zzz", T0)).isFalse();
    Session s = store.get("a").orElseThrow();
    assertThat(s.responderOutcome()).isEqualTo(direct);
    assertThat(s.initiatorOutcome()).isNull();
    assertThat(s.introducedAt()).isEqualTo(T0.plusSeconds(1));
  }
}
