package io.introducer.rendezvous.impl;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.rendezvous.Registration;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class InMemoryRegistryTest {
  private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
  private static final InetSocketAddress A = new InetSocketAddress("198.51.100.1", 1000);
  private static final InetSocketAddress B = new InetSocketAddress("198.51.100.2", 2000);

  private static Registration reg(String app, String peer, Instant expiresAt) {
    return new Registration(app, peer, A, List.of(), T0, expiresAt);
  }

  @Test
  void peersAreKeyedByAppAndPeerId() {
    InMemoryRegistry r = new InMemoryRegistry();
    r.put(reg("g1", "p", T0.plusSeconds(60)));
    r.put(reg("g2", "p", T0.plusSeconds(60)));

    assertThat(r.size()).isEqualTo(2);
    assertThat(r.get("g1", "p")).isPresent();
    assertThat(r.remove("g1", "p")).isTrue();
    assertThat(r.remove("g1", "p")).isFalse();
    assertThat(r.get("g1", "p")).isEmpty();
    assertThat(r.get("g2", "p")).isPresent();
  }

  @Test
  void touchMovesAndExtendsOnlyExistingRegistrations() {
    InMemoryRegistry r = new InMemoryRegistry();
    r.put(reg("g", "p", T0.plusSeconds(60)));

    Registration touched = r.touch("g", "p", B, T0.plusSeconds(90)).orElseThrow();

    assertThat(touched.serverReflexive()).isEqualTo(B);
    assertThat(touched.expiresAt()).isEqualTo(T0.plusSeconds(90));
    assertThat(touched.registeredAt()).isEqualTo(T0);
    assertThat(r.touch("g", "nobody", B, T0)).isEmpty();
    assertThat(r.size()).isEqualTo(1);
  }

  @Test
  void expireReturnsHowManyItRemovedAndTheyAreGone() {
    InMemoryRegistry r = new InMemoryRegistry();
    r.put(reg("g", "a", T0.plusMillis(10_100)));
    r.put(reg("g", "b", T0.plusMillis(10_900)));
    r.put(reg("g", "c", T0.plusMillis(11_000)));
    r.put(reg("g", "d", T0.plusSeconds(30)));

    assertThat(r.expire(T0.plusSeconds(10))).isZero();
    assertThat(r.expire(T0.plusMillis(10_500))).isEqualTo(1); // within a second: exactly those expired by now
    assertThat(r.get("g", "a")).isEmpty();
    assertThat(r.get("g", "b")).isPresent();
    assertThat(r.expire(T0.plusMillis(11_000))).isEqualTo(2);
    assertThat(r.all()).extracting(Registration::peerId).containsExactly("d");
    assertThat(r.expire(T0.plusMillis(11_000))).isZero();
  }

  @Test
  void aTouchedRegistrationOutlivesTheExpiryItWasIndexedWith() {
    InMemoryRegistry r = new InMemoryRegistry();
    r.put(reg("g", "kept", T0.plusSeconds(10)));
    r.put(reg("g", "gone", T0.plusSeconds(10)));
    r.touch("g", "kept", B, T0.plusSeconds(40));

    assertThat(r.expire(T0.plusSeconds(20))).isEqualTo(1);
    assertThat(r.all()).extracting(Registration::peerId).containsExactly("kept");
    assertThat(r.expire(T0.plusSeconds(39))).isZero();
    assertThat(r.expire(T0.plusSeconds(40))).isEqualTo(1);
    assertThat(r.size()).isZero();
    assertThat(r.indexEntries()).isZero();
  }

  @Test
  void aReRegistrationIsNotExpiredByTheBucketOfTheRegistrationItReplaced() {
    InMemoryRegistry r = new InMemoryRegistry();
    r.put(reg("g", "p", T0.plusSeconds(10)));
    r.put(reg("g", "p", T0.plusSeconds(70)));

    assertThat(r.expire(T0.plusSeconds(30))).isZero();
    assertThat(r.get("g", "p")).map(Registration::expiresAt).contains(T0.plusSeconds(70));
    assertThat(r.indexEntries()).isEqualTo(1); // moved to the second it expires in now, not copied
    assertThat(r.expire(T0.plusSeconds(70))).isEqualTo(1);
  }

  @Test
  void anExpiryMadeEarlierIsStillMet() {
    InMemoryRegistry r = new InMemoryRegistry();
    r.put(reg("g", "p", T0.plusSeconds(60)));
    r.put(reg("g", "q", T0.plusSeconds(60)));
    r.put(reg("g", "p", T0.plusSeconds(10))); // a clock stepped back, say
    r.touch("g", "q", B, T0.plusSeconds(20));

    assertThat(r.expire(T0.plusSeconds(10))).isEqualTo(1);
    assertThat(r.expire(T0.plusSeconds(20))).isEqualTo(1);
    assertThat(r.size()).isZero();
    assertThat(r.expire(T0.plusSeconds(60))).isZero(); // the later copies are dropped
    assertThat(r.indexEntries()).isZero();
  }

  @Test
  void removedPeersAreNotCountedAndLeaveTheIndexWhenTheirSecondComes() {
    InMemoryRegistry r = new InMemoryRegistry();
    r.put(reg("g", "left", T0.plusSeconds(10)));
    r.put(reg("g", "stays", T0.plusSeconds(30)));
    r.remove("g", "left");

    assertThat(r.expire(T0.plusSeconds(15))).isZero();
    assertThat(r.indexEntries()).isEqualTo(1);
    assertThat(r.size()).isEqualTo(1);
  }

  @Test
  void expireSomeWorksInSlicesThatEnd() {
    InMemoryRegistry r = new InMemoryRegistry();
    for (int i = 0; i < 10; i++) {
      r.put(reg("g", "due" + i, T0.plusSeconds(10 + i % 3)));
    }
    for (int i = 0; i < 10; i++) { // in the current second at T0 + 20.5 s: now0-now5 expired by then
      r.put(reg("g", "now" + i, T0.plusMillis(20_000 + 100 * i)));
    }
    r.put(reg("g", "later", T0.plusSeconds(60)));

    int slices = 0;
    boolean done = false;
    while (!done) {
      done = r.expireSome(T0.plusMillis(20_500), 3);
      slices++;
      assertThat(slices).isLessThan(100);
    }

    assertThat(slices).isEqualTo(7); // 20 index entries due, 3 per slice
    assertThat(r.all()).extracting(Registration::peerId)
        .containsExactlyInAnyOrder("now6", "now7", "now8", "now9", "later");
    assertThat(r.expireSome(T0.plusMillis(20_500), 4)).isTrue(); // the 4 alive ones, checked once more
    assertThat(r.expire(T0.plusSeconds(21))).isEqualTo(4);
  }

  @Test
  void expireRemovesExpiredRegistrationsOnly() {
    InMemoryRegistry r = new InMemoryRegistry();
    r.put(reg("g", "old", T0.plusSeconds(10)));
    r.put(reg("g", "new", T0.plusSeconds(60)));

    assertThat(r.expire(T0.plusSeconds(10))).isEqualTo(1);
    assertThat(r.all()).extracting(Registration::peerId).containsExactly("new");
  }
}
