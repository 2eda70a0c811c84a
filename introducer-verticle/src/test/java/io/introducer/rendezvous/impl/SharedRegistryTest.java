package io.introducer.rendezvous.impl;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.rendezvous.RecordCodec;
import io.introducer.rendezvous.Registration;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class SharedRegistryTest {
  private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
  private static final Duration LIFETIME = Duration.ofSeconds(60);
  private static final InetSocketAddress A = new InetSocketAddress("198.51.100.1", 1000);
  private static final InetSocketAddress B = new InetSocketAddress("198.51.100.2", 2000);

  /** A shared store as a ReplicatedMap would be, without time-to-live; counts removals. */
  private static final class MapStore implements SharedRegistry.Store {
    final Map<String, String> map = new ConcurrentHashMap<>();
    int removals;

    @Override
    public String get(String key) {
      return map.get(key);
    }

    @Override
    public void put(String key, String value, Duration timeToLive) {
      map.put(key, value);
    }

    @Override
    public void remove(String key) {
      removals++;
      map.remove(key);
    }

    @Override
    public Collection<String> values() {
      return List.copyOf(map.values());
    }
  }

  private final MapStore store = new MapStore();
  private final SharedRegistry registry =
      new SharedRegistry(store, "n1", LIFETIME, Clock.fixed(T0, ZoneOffset.UTC));

  private static Registration reg(String peer, Instant expiresAt) {
    return new Registration("g", peer, A, List.of(), T0, expiresAt);
  }

  @Test
  void expiryRemovesAndUnpublishesExactlyTheExpiredOwnRegistrations() {
    registry.put(reg("a", T0.plusSeconds(10)));
    registry.put(reg("b", T0.plusMillis(10_500)));
    registry.put(reg("c", T0.plusSeconds(60)));

    assertThat(registry.expire(T0.plusSeconds(9))).isZero();
    assertThat(registry.expire(T0.plusMillis(10_200))).isEqualTo(1);
    assertThat(store.map).doesNotContainKey(SharedRegistry.key("g", "a")).containsKey(SharedRegistry.key("g", "b"));
    assertThat(registry.expire(T0.plusSeconds(11))).isEqualTo(1);
    assertThat(registry.get("g", "b")).isEmpty();
    assertThat(registry.size()).isEqualTo(1);
    assertThat(store.map).containsOnlyKeys(SharedRegistry.key("g", "c"));
    assertThat(store.removals).isEqualTo(2);
  }

  @Test
  void touchedAndReRegisteredPeersOutliveTheExpiryTheyWereIndexedWith() {
    registry.put(reg("touched", T0.plusSeconds(10)));
    registry.put(reg("again", T0.plusSeconds(10)));
    registry.put(reg("gone", T0.plusSeconds(10)));
    registry.touch("g", "touched", B, T0.plusSeconds(40));
    registry.put(reg("again", T0.plusSeconds(50)));

    assertThat(registry.expire(T0.plusSeconds(30))).isEqualTo(1);
    assertThat(registry.all()).extracting(Registration::peerId).containsExactlyInAnyOrder("touched", "again");
    assertThat(registry.indexEntries()).isEqualTo(2);
    assertThat(registry.expire(T0.plusSeconds(40))).isEqualTo(1);
    assertThat(registry.expire(T0.plusSeconds(50))).isEqualTo(1);
    assertThat(store.map).isEmpty();
    assertThat(registry.indexEntries()).isZero();
  }

  @Test
  void aPeerThatMovedToAnotherNodeIsNeitherCountedNorUnpublishedByExpiry() {
    registry.put(reg("p", T0.plusSeconds(10)));
    Registration elsewhere = reg("p", T0.plusSeconds(70)).ownedBy("n2");
    store.map.put(SharedRegistry.key("g", "p"), RecordCodec.encode(
        new Registration("g", "p", B, List.of(), T0.plusSeconds(5), T0.plusSeconds(70), null, "n2")).encode());
    assertThat(registry.get("g", "p")).map(Registration::owner).contains(elsewhere.owner()); // dropped from own

    assertThat(registry.expire(T0.plusSeconds(20))).isZero();
    assertThat(store.map).containsKey(SharedRegistry.key("g", "p"));
    assertThat(registry.size()).isZero();
  }

  @Test
  void leftPeersAreNotCountedByExpiry() {
    registry.put(reg("p", T0.plusSeconds(10)));
    assertThat(registry.remove("g", "p")).isTrue();

    assertThat(registry.expire(T0.plusSeconds(20))).isZero();
    assertThat(store.removals).isEqualTo(1);
    assertThat(registry.indexEntries()).isZero();
  }
}
