package io.introducer.client;

import static io.introducer.client.RelayFixture.WAIT_MILLIS;
import static io.introducer.client.relay.TestRelay.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.client.RelayFixture.Connected;
import io.introducer.client.RelayFixture.Stream;
import io.introducer.client.relay.TestRelay;
import io.introducer.relay.AllocationInfo;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Renewal of relay credentials (PROTOCOL.md section 8): TURN REST credentials expire, the relay then refuses to refresh
 * the allocation made with them, so the peer holding it gets fresh credentials (RELAY-REQUEST with RENEWAL) and moves
 * its relayed channels to a new allocation before that happens; the same PeerChannel stays open on {@link Path#RELAY}.
 *
 * <p>The introducer's shortest credential lifetime is 60 s; no test waits that long. The relay's clock runs
 * {@link #RELAY_AHEAD_SECONDS} ahead, so the credentials expire there 5 s after they are handed out, and the
 * allocator's clock {@link #PEER_AHEAD_SECONDS} ahead, so that it sees 4 s left and renews after 2 s (and again 2 s
 * after each renewal). Allocations live 3 s (refreshed every 1.5 s): without renewal the first refused Refresh, about
 * 6 s in, loses the channel.
 */
class RelayRenewalTest {
  private static final int CREDENTIAL_TTL_SECONDS = 60;
  private static final long RELAY_AHEAD_SECONDS = 55;
  private static final long PEER_AHEAD_SECONDS = 56;
  /** Long enough for three renewals and, without them, for the credentials to expire and the allocation to go. */
  private static final long RUN_MILLIS = 8_000;

  private final RelayFixture fixture = new RelayFixture(31);
  private final List<TestRelay> relays = fixture.relays;

  /** A wall clock {@code shift} ahead of the system's. */
  static Clock ahead(Duration shift) {
    return new Clock() {
      @Override
      public ZoneId getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(ZoneId zone) {
        return this;
      }

      @Override
      public long millis() {
        return System.currentTimeMillis() + shift.toMillis();
      }

      @Override
      public Instant instant() {
        return Instant.ofEpochMilli(millis());
      }
    };
  }

  private void start(int relayCount) throws Exception {
    start(relayCount, true);
  }

  /** {@code rollover}: whether the relays let an allocation take fresh credentials in place (RelayConfig). */
  private void start(int relayCount, boolean rollover) throws Exception {
    fixture.start(relayCount, () -> new TestRelay(ahead(Duration.ofSeconds(RELAY_AHEAD_SECONDS)),
        c -> c.put("defaultLifetimeSeconds", 3).put("maxLifetimeSeconds", 3).put("credentialRollover", rollover)),
        c -> c.put("relay", new JsonObject().put("address", "127.0.0.1:" + relays.get(0).address().getPort())
            .put("restSecret", TestRelay.REST_SECRET).put("credentialTtlSeconds", CREDENTIAL_TTL_SECONDS)));
  }

  @AfterEach
  void tearDown() throws Exception {
    fixture.close();
  }

  private Connected connect() throws Exception {
    return fixture.connect(a -> a.useClock(ahead(Duration.ofSeconds(PEER_AHEAD_SECONDS))));
  }

  private long allocationsActive() {
    return relays.stream().mapToLong(r -> r.counters().allocationsActive()).sum();
  }

  private long authFailures() {
    return relays.stream().mapToLong(r -> r.counters().authFailures()).sum();
  }

  /** What streaming both ways through {@link #RUN_MILLIS} of renewals on one relay gave. */
  private record Streamed(int aSent, int aLost, int bSent, int bLost, List<Path> pathChanges,
      CompletableFuture<String> baClosed) {}

  /** Streams both ways while the renewals happen, checks it all arrives, prints the losses and gaps. */
  private static Streamed streamThroughRenewals(Connected c, String label) throws Exception {
    List<Path> pathChanges = new CopyOnWriteArrayList<>();
    c.ab().onPathChange(pathChanges::add);
    c.ba().onPathChange(pathChanges::add);
    CompletableFuture<String> abClosed = Peers.closeReason(c.ab());
    CompletableFuture<String> baClosed = Peers.closeReason(c.ba());
    try (Stream aToB = new Stream(c.ab(), c.ba()); Stream bToA = new Stream(c.ba(), c.ab())) {
      Thread.sleep(RUN_MILLIS);
      assertThat(abClosed).as("closed: %s", abClosed.getNow("")).isNotDone();
      int aSent = aToB.sent.get();
      int bSent = bToA.sent.get();
      assertThat(eventually(WAIT_MILLIS, () -> aToB.arrived(aSent) && bToA.arrived(bSent)))
          .as("what is sent after the renewals arrives, both ways").isTrue();
      System.out.printf("[relay renewal, %s] lost %d/%d (a->b) and %d/%d (b->a); longest gaps %d / %d ms%n", label,
          aToB.lostUpTo(aSent), aSent, bToA.lostUpTo(bSent), bSent, aToB.longestGapMillis(), bToA.longestGapMillis());
      return new Streamed(aSent, aToB.lostUpTo(aSent), bSent, bToA.lostUpTo(bSent), pathChanges, baClosed);
    }
  }

  @Test
  void onTheOnlyRelayTheAllocationTakesTheFreshCredentialsInPlaceAndNothingIsLost() throws Exception {
    start(1);
    TestRelay relay = relays.get(0);
    Connected c = connect();
    AllocationInfo first = relay.allocations().get(0);

    Streamed r = streamThroughRenewals(c, "same relay, rollover");
    assertThat(r.aLost()).as("lost a->b").isZero();
    assertThat(r.bLost()).as("lost b->a").isZero();
    assertThat(c.ab().path()).isEqualTo(Path.RELAY);
    assertThat(c.ba().path()).isEqualTo(Path.RELAY);
    assertThat(r.pathChanges()).as("the game saw no path change").isEmpty();
    assertThat(fixture.introducer.verticle().counters().relayRequests()).as("renewals").isGreaterThanOrEqualTo(2);
    assertThat(relay.counters().credentialRollovers()).as("taken in place").isGreaterThanOrEqualTo(2);
    assertThat(authFailures()).as("no request under expired credentials").isZero();
    assertThat(relay.counters().allocationsDeleted()).as("the allocation stayed").isZero();
    assertThat(relay.counters().allocationsExpired()).isZero();
    List<AllocationInfo> now = relay.allocations();
    assertThat(now).hasSize(1);
    assertThat(now.get(0).relayed()).as("same allocation").isEqualTo(first.relayed());
    assertThat(now.get(0).username()).isNotEqualTo(first.username());
  }

  @Test
  void onAStrictRelayTheChannelIsMovedToAFreshAllocationBeforeTheCredentialsExpire() throws Exception {
    start(1, false);
    TestRelay relay = relays.get(0);
    Connected c = connect();
    String firstUser = relay.allocations().get(0).username();

    Streamed r = streamThroughRenewals(c, "same relay, strict");
    // A relay that keeps one USERNAME per allocation, one client address: the old allocation must go before the new
    // one; the gaps are short.
    assertThat(r.aLost()).isLessThan(r.aSent() / 5);
    assertThat(r.bLost()).isLessThan(r.bSent() / 5);
    assertThat(c.ab().isOpen()).isTrue();
    assertThat(c.ba().isOpen()).isTrue();
    assertThat(c.ab().path()).isEqualTo(Path.RELAY);
    assertThat(c.ba().path()).isEqualTo(Path.RELAY);
    assertThat(r.pathChanges()).as("the game saw no path change").isEmpty();
    assertThat(r.baClosed()).isNotDone();
    assertThat(fixture.introducer.verticle().counters().relayRequests()).as("renewals").isGreaterThanOrEqualTo(2);
    assertThat(authFailures()).as("no request under expired credentials").isZero();
    assertThat(relay.counters().allocationsDeleted()).as("each old allocation released").isGreaterThanOrEqualTo(2);
    assertThat(relay.counters().allocationsExpired()).as("none left to expire").isZero();
    List<AllocationInfo> now = relay.allocations();
    assertThat(now).hasSize(1);
    assertThat(now.get(0).username()).isNotEqualTo(firstUser);
    assertThat(c.a().connect(c.b().peerId()).get(WAIT_MILLIS, TimeUnit.MILLISECONDS)).isSameAs(c.ab());
  }

  @Test
  void withAnotherRelayTheNewAllocationIsMadeBeforeTheOldOneIsReleased() throws Exception {
    start(2);
    Connected c = connect();
    List<Path> pathChanges = new CopyOnWriteArrayList<>();
    c.ab().onPathChange(pathChanges::add);
    c.ba().onPathChange(pathChanges::add);
    CompletableFuture<String> abClosed = Peers.closeReason(c.ab());

    try (Stream aToB = new Stream(c.ab(), c.ba()); Stream bToA = new Stream(c.ba(), c.ab())) {
      assertThat(eventually(WAIT_MILLIS, () -> relays.get(1).counters().allocationsCreated() == 1))
          .as("renewed on the other relay").isTrue();
      assertThat(eventually(WAIT_MILLIS, () -> relays.get(0).counters().allocationsDeleted() == 1))
          .as("the old allocation released after the move").isTrue();
      Thread.sleep(RUN_MILLIS - 2_000);
      assertThat(abClosed).as("closed: %s", abClosed.getNow("")).isNotDone();
      int aSent = aToB.sent.get() - 5; // the last few may still be on their way
      int bSent = bToA.sent.get() - 5;
      Thread.sleep(200);
      System.out.printf("[relay renewal, other relay] lost %d/%d (a->b) and %d/%d (b->a); longest gaps %d / %d ms%n",
          aToB.lostUpTo(aSent), aSent, bToA.lostUpTo(bSent), bSent, aToB.longestGapMillis(), bToA.longestGapMillis());
      // Make-before-break: the old allocation carries the channel until the peer answered through the new one.
      assertThat(aToB.lostUpTo(aSent)).as("a->b lost").isLessThanOrEqualTo(2);
      assertThat(bToA.lostUpTo(bSent)).as("b->a lost").isLessThanOrEqualTo(2);
      assertThat(aToB.longestGapMillis()).isLessThan(500);
      assertThat(bToA.longestGapMillis()).isLessThan(500);
    }
    assertThat(c.ab().isOpen()).isTrue();
    assertThat(c.ba().isOpen()).isTrue();
    assertThat(pathChanges).as("the game saw no path change").isEmpty();
    assertThat(fixture.introducer.verticle().counters().relayRequests()).as("renewals").isGreaterThanOrEqualTo(2);
    assertThat(authFailures()).as("no request under expired credentials").isZero();
    assertThat(eventually(WAIT_MILLIS, () -> allocationsActive() == 1)).as("one allocation left").isTrue();

    c.a().close();
    assertThat(eventually(WAIT_MILLIS, () -> allocationsActive() == 0)).as("closing releases it").isTrue();
  }

  @Test
  void renewalIsDueAtEightyPercentOfTheLifetimeLeftAndNeverLateBecauseOfClockSkew() {
    long now = 1_000_000_000_000L;
    long hour = now / 1000 + 3600;
    assertThat(Relaying.renewalDelayMillis(hour, now)).isEqualTo(2_880_000);
    assertThat(Relaying.renewalDelayMillis(now / 1000 + 60, now)).as("at least 30 s lead").isEqualTo(30_000);
    assertThat(Relaying.renewalDelayMillis(now / 1000 + 4, now)).as("half of a short lifetime").isEqualTo(2_000);
    assertThat(Relaying.renewalDelayMillis(now / 1000 - 10, now)).as("already expired by our clock")
        .isEqualTo(Relaying.MIN_RENEWAL_DELAY_MILLIS);
    assertThat(Relaying.expiryOf("1700000000:peer-1")).isEqualTo(1_700_000_000L);
    assertThat(Relaying.expiryOf("alice")).isEqualTo(-1);
    assertThat(Relaying.expiryOf("soon:peer")).isEqualTo(-1);
  }
}
