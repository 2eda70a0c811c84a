package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** The token buckets and the amplification credit of {@link RateLimits}, on a clock the test moves. */
class RateLimitsTest {
  private static final long SECOND = 1_000_000_000L;
  private static final InetSocketAddress A = new InetSocketAddress("198.51.100.1", 4000);
  private static final InetSocketAddress A_OTHER_PORT = new InetSocketAddress("198.51.100.1", 4001);
  private static final InetSocketAddress B = new InetSocketAddress("198.51.100.2", 4000);

  private final IntroducerCounters counters = new IntroducerCounters();
  private long now = 1_000 * SECOND;

  private RateLimits limits(IntroducerConfig.Limits l) {
    return new RateLimits(l, counters, () -> now);
  }

  /** Per source: 10/s, bursts of 5; no amplification bound unless asked. */
  private static IntroducerConfig.Limits perSource(int maxSources, int factor, boolean exemptLoopback) {
    return new IntroducerConfig.Limits(10, 5, maxSources, 0, 1, 0, 1, factor, exemptLoopback);
  }

  private static int admitted(RateLimits l, InetSocketAddress from, int n) {
    int ok = 0;
    for (int i = 0; i < n; i++) {
      ok += l.admit(from, 20) ? 1 : 0;
    }
    return ok;
  }

  @Test
  void aSourceGetsItsBurstThenItsRate() {
    RateLimits l = limits(perSource(100, 0, true));

    assertThat(admitted(l, A, 8)).isEqualTo(5);
    assertThat(counters.drops("rate-source")).isEqualTo(3);
    now += SECOND / 10;
    assertThat(admitted(l, A, 3)).as("one token a tenth of a second").isEqualTo(1);
    now += 10 * SECOND;
    assertThat(admitted(l, A, 8)).as("refilled to the burst, no more").isEqualTo(5);
  }

  @Test
  void sourcesAreCountedByIpNotByPortAndIndependently() {
    RateLimits l = limits(perSource(100, 0, true));

    assertThat(admitted(l, A, 3) + admitted(l, A_OTHER_PORT, 3)).isEqualTo(5);
    assertThat(admitted(l, B, 5)).isEqualTo(5);
  }

  @Test
  void ipv6SourcesAreCountedByTheirSlash64() {
    RateLimits l = limits(perSource(100, 0, true));
    InetSocketAddress one = new InetSocketAddress("2001:db8:1:2::1", 1);
    InetSocketAddress sameSubnet = new InetSocketAddress("2001:db8:1:2:ffff:ffff:ffff:ffff", 2);
    InetSocketAddress otherSubnet = new InetSocketAddress("2001:db8:1:3::1", 1);

    assertThat(admitted(l, one, 3) + admitted(l, sameSubnet, 3)).isEqualTo(5);
    assertThat(admitted(l, otherSubnet, 5)).isEqualTo(5);
  }

  @Test
  void aFullTableRefusesNewSourcesUntilIdleOnesAreForgotten() {
    RateLimits l = limits(perSource(2, 0, true));
    l.admit(A, 20);
    l.admit(B, 20);
    InetSocketAddress c = new InetSocketAddress("198.51.100.3", 1);

    assertThat(l.admit(c, 20)).isFalse();
    assertThat(counters.drops("table-full")).isEqualTo(1);
    assertThat(l.admit(A, 20)).as("known sources go on").isTrue();

    now += SECOND; // A and B idle for a second: their buckets (5 at 10/s) are full again, nothing to remember
    assertThat(l.admit(c, 20)).isTrue();
    assertThat(l.sources()).isEqualTo(1);
  }

  @Test
  void loopbackIsExemptUnlessConfiguredOtherwise() {
    InetSocketAddress lo = new InetSocketAddress("127.0.0.5", 1);

    assertThat(admitted(limits(perSource(100, 3, true)), lo, 50)).isEqualTo(50);
    assertThat(admitted(limits(perSource(100, 3, false)), lo, 50)).isEqualTo(5);
  }

  @Test
  void answersArePaidFromThreeTimesTheBytesReceivedPlusTheAllowance() {
    RateLimits l = limits(new IntroducerConfig.Limits(0, 1, 100, 0, 1, 0, 1, 3, true));
    long in = 0;
    long out = 0;
    for (int i = 0; i < 1000; i++) {
      assertThat(l.admit(A, 20)).isTrue();
      in += 20;
      if (l.spend(A, 84)) { // a bare Binding's answer is 4.2 times its size
        out += 84;
      }
    }

    assertThat(out).isLessThanOrEqualTo(3 * in + RateLimits.ALLOWANCE_BYTES).isGreaterThan(3 * in - 84);
    assertThat(counters.drops("amplification")).isPositive();
  }

  @Test
  void theCreditIsPerIpSoRedirectedAnswersShareIt() {
    RateLimits l = limits(new IntroducerConfig.Limits(0, 1, 100, 0, 1, 0, 1, 3, true));
    l.admit(A, 100);

    assertThat(l.spend(A_OTHER_PORT, RateLimits.ALLOWANCE_BYTES + 300)).isTrue();
    assertThat(l.spend(A, 1)).isFalse();
  }

  @Test
  void nothingIsSentToASourceThatSentNothing() {
    RateLimits l = limits(new IntroducerConfig.Limits(0, 1, 100, 0, 1, 0, 1, 3, true));

    assertThat(l.spend(B, 1)).isFalse();
    assertThat(counters.drops("amplification")).isEqualTo(1);
  }

  @Test
  void aQuietSourceGetsTheAllowanceBackButAFloodingOneDoesNot() {
    RateLimits l = limits(new IntroducerConfig.Limits(0, 1, 100, 0, 1, 0, 1, 3, true));
    l.admit(A, 20);
    assertThat(l.spend(A, RateLimits.ALLOWANCE_BYTES + 60)).isTrue();

    now += SECOND / 2;
    l.admit(A, 20);
    assertThat(l.spend(A, 61)).as("still flooding: only 3 x 20 earned").isFalse();

    now += SECOND;
    l.admit(A, 20);
    assertThat(l.spend(A, RateLimits.ALLOWANCE_BYTES)).isTrue();
  }

  @Test
  void theBankedCreditIsCapped() {
    RateLimits l = limits(new IntroducerConfig.Limits(0, 1, 100, 0, 1, 0, 1, 3, true));
    for (int i = 0; i < 100; i++) {
      l.admit(A, 1400);
    }

    assertThat(l.spend(A, RateLimits.MAX_CREDIT_BYTES)).isTrue();
    assertThat(l.spend(A, 1)).isFalse();
  }

  @Test
  void eachAppHasItsOwnBucket() {
    RateLimits l = limits(new IntroducerConfig.Limits(0, 1, 100, 2, 4, 0, 1, 0, true));
    int a = 0;
    for (int i = 0; i < 10; i++) {
      a += l.admitApp("a") ? 1 : 0;
    }

    assertThat(a).isEqualTo(4);
    assertThat(l.admitApp("b")).isTrue();
    assertThat(counters.drops("rate-app")).isEqualTo(6);
    now += SECOND;
    assertThat(l.admitApp("a") && l.admitApp("a") && !l.admitApp("a")).isTrue();
  }

  @Test
  void deliveriesAreCappedPerTargetPeer() {
    RateLimits l = limits(new IntroducerConfig.Limits(0, 1, 100, 0, 1, 1, 3, 0, true));
    int bob = 0;
    for (int i = 0; i < 10; i++) {
      bob += l.admitDelivery("game", "bob") ? 1 : 0;
    }

    assertThat(bob).isEqualTo(3);
    assertThat(l.admitDelivery("game", "carol")).isTrue();
    assertThat(l.admitDelivery("other-game", "bob")).isTrue();
    assertThat(counters.drops("rate-target")).isEqualTo(7);
    now += SECOND;
    assertThat(l.admitDelivery("game", "bob")).isTrue();
    assertThat(l.admitDelivery("game", "bob")).isFalse();
  }

  @Test
  void aRateOfZeroTurnsThatLimitOff() {
    RateLimits l = limits(IntroducerConfig.Limits.NONE);
    for (int i = 0; i < 10_000; i++) {
      assertThat(l.admit(A, 20) && l.spend(A, 1000) && l.admitApp("a") && l.admitDelivery("a", "b")).isTrue();
    }
    assertThat(counters.drops()).isEmpty();
  }
}
