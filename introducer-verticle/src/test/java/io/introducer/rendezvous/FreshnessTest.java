package io.introducer.rendezvous;

import static io.introducer.rendezvous.RegistrationTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.rendezvous.impl.InMemoryRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Replay and staleness (docs/PROTOCOL.md section 3, freshness) at the exact boundaries, on a clock the test sets:
 * {@link PeerRequests} without sockets, its answers collected.
 */
class FreshnessTest {
  private static final long T0 = 1_800_000_000_000L;
  private static final InetSocketAddress ALICE = new InetSocketAddress("198.51.100.7", 40000);
  private static final InetSocketAddress MALLORY = new InetSocketAddress("203.0.113.66", 50000);

  /** A clock the test sets. */
  private static final class SetClock extends Clock {
    long millis = T0;

    @Override
    public long millis() {
      return millis;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException("fixed zone");
    }
  }

  private record Sent(byte[] datagram, InetSocketAddress to) {
    StunMessage message() {
      try {
        return StunMessage.decode(datagram);
      } catch (StunParseException e) {
        throw new AssertionError(e);
      }
    }
  }

  private final SetClock clock = new SetClock();
  private final List<Sent> sent = new ArrayList<>();
  private final IntroducerCounters counters = new IntroducerCounters();
  private final InMemoryRegistry registry = new InMemoryRegistry();
  private final byte[] key = Rendezvous.peerKey(Fixtures.SECRET, Fixtures.APP, "alice");
  private PeerRequests requests;

  @BeforeEach
  void wire() {
    IntroducerConfig cfg = IntroducerConfig.fromJson(Fixtures.config());
    Replies replies = new Replies(counters);
    requests = new PeerRequests(cfg, (d, to) -> sent.add(new Sent(d, to)), counters, replies, clock,
        new RateLimits(IntroducerConfig.Limits.NONE, counters),
        new RegistrationHandler(cfg, registry, counters, replies), null, null, null, null);
  }

  private StunMessage signed(int method, long timestamp) {
    byte[] datagram = StunMessage.builder(method, StunClass.REQUEST)
        .addString(StunAttributes.APP_ID, Fixtures.APP)
        .addString(StunAttributes.PEER_ID, "alice")
        .addU64(StunAttributes.TIMESTAMP, timestamp)
        .integritySha256(key).fingerprint().encode();
    try {
      return StunMessage.decode(datagram);
    } catch (StunParseException e) {
      throw new AssertionError(e);
    }
  }

  /** Handles {@code request} from {@code from} at {@code atMillis}; the answer, or null when there was none. */
  private StunMessage handle(StunMessage request, InetSocketAddress from, long atMillis) {
    clock.millis = atMillis;
    requests.expire(atMillis); // as the sweeper would
    int before = sent.size();
    requests.handle(request, from);
    assertThat(sent.size() - before).as("answers").isLessThanOrEqualTo(1);
    if (sent.size() == before) {
      return null;
    }
    Sent s = sent.get(sent.size() - 1);
    assertThat(s.to()).as("answers go to the request's source").isEqualTo(from);
    return s.message();
  }

  @Test
  void theReplayWindowCoversEveryTimestampThatCanBeFresh() {
    assertThat(PeerRequests.TRANSACTION_TTL_MILLIS).isGreaterThan(2 * Rendezvous.MAX_CLOCK_SKEW_MS);
  }

  @ParameterizedTest(name = "timestamp {0} ms from the clock")
  @ValueSource(longs = {-30_000, -1, 0, 1, 30_000})
  void aTimestampWithinThirtySecondsIsFresh(long skew) {
    StunMessage answer = handle(signed(StunMethods.REGISTER, T0 + skew), ALICE, T0);

    assertThat(answer.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
  }

  @ParameterizedTest(name = "timestamp {0} ms from the clock")
  @ValueSource(longs = {-30_001, 30_001, -3_600_000, 3_600_000, Long.MIN_VALUE / 2, Long.MIN_VALUE, Long.MAX_VALUE})
  void aTimestampFurtherThanThirtySecondsIsStaleSigned(long skew) {
    StunMessage answer = handle(signed(StunMethods.REGISTER, T0 + skew), ALICE, T0);

    assertError(answer, 401, "stale timestamp");
    assertThat(answer.verifyIntegritySha256(key)).isTrue();
    assertThat(registry.size()).isZero();
  }

  @Test
  void aRequestWithoutTimestampIs400() {
    byte[] datagram = StunMessage.builder(StunMethods.REGISTER, StunClass.REQUEST)
        .addString(StunAttributes.APP_ID, Fixtures.APP).addString(StunAttributes.PEER_ID, "alice")
        .integritySha256(key).fingerprint().encode();
    StunMessage answer;
    try {
      answer = handle(StunMessage.decode(datagram), ALICE, T0);
    } catch (StunParseException e) {
      throw new AssertionError(e);
    }

    assertError(answer, 400, "bad request: TIMESTAMP");
  }

  /**
   * The worst case for replays: a request whose TIMESTAMP is as far ahead as is still fresh, replayed from another
   * source at every instant until it is stale. It is never accepted again: remembered (dropped), then stale (401).
   */
  @ParameterizedTest(name = "replayed {0} ms later")
  @ValueSource(longs = {1, 30_000, 59_999, 60_000, 60_999, 61_000, 61_001, 120_000})
  void aReplayFromAnotherSourceIsDroppedWhileRememberedAndStaleAfter(long later) {
    StunMessage original = signed(StunMethods.KEEPALIVE, T0 + Rendezvous.MAX_CLOCK_SKEW_MS);
    handle(signed(StunMethods.REGISTER, T0), ALICE, T0);
    assertThat(handle(original, ALICE, T0).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);

    StunMessage replayed = handle(original, MALLORY, T0 + later);

    if (replayed == null) {
      assertThat(counters.drops("replay")).isEqualTo(1);
    } else {
      assertError(replayed, 401, "stale timestamp");
    }
    assertThat(registry.get(Fixtures.APP, "alice").orElseThrow().serverReflexive())
        .as("the registration did not follow the replay").isEqualTo(ALICE);
  }

  @Test
  void aRetransmissionFromTheSameSourceGetsTheSameAnswerAndIsNotHandledTwice() {
    StunMessage register = signed(StunMethods.REGISTER, T0);
    StunMessage first = handle(register, ALICE, T0);
    StunMessage again = handle(register, ALICE, T0 + 5_000);

    assertThat(again.transactionId()).isEqualTo(first.transactionId());
    assertThat(sent.get(1).datagram()).isEqualTo(sent.get(0).datagram());
    assertThat(counters.registrations()).isEqualTo(1);
    assertThat(counters.retransmissionsAnswered()).isEqualTo(1);
  }
}
