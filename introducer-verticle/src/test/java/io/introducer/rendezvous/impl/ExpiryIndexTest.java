package io.introducer.rendezvous.impl;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.rendezvous.Registration;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ExpiryIndexTest {
  private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");
  private static final InetSocketAddress A = new InetSocketAddress("198.51.100.1", 1000);

  private static Registration reg(String peer, Instant expiresAt) {
    return new Registration("g", peer, A, List.of(), T0, expiresAt);
  }

  /** A map whose lookups are counted: what an expiry pass costs. */
  private static final class CountingRecords implements ExpiryIndex.Records<String> {
    final Map<String, Registration> map = new HashMap<>();
    int lookups;

    @Override
    public Registration get(String key) {
      lookups++;
      return map.get(key);
    }

    @Override
    public boolean remove(String key, Registration expired) {
      return map.remove(key, expired);
    }
  }

  @Test
  void anExpiryPassLooksUpOnlyWhatIsDueNotEveryRegistration() {
    CountingRecords records = new CountingRecords();
    ExpiryIndex<String> index = new ExpiryIndex<>(records);
    for (int i = 0; i < 10_000; i++) {
      Registration r = reg("p" + i, T0.plusSeconds(i < 10 ? 5 : 60 + i % 60));
      records.map.put(r.peerId(), r);
      index.add(r.peerId(), r.expiresAt());
    }

    assertThat(index.expire(T0.plusSeconds(30))).isEqualTo(10);
    assertThat(records.lookups).isEqualTo(10); // a scan of every registration would make 10,000
    assertThat(records.map).hasSize(9_990);

    records.lookups = 0;
    assertThat(index.expire(T0.plusSeconds(59))).isZero();
    assertThat(records.lookups).isZero();
  }

  /** Random puts, keepalives, removals and expiries, against the old scan of every registration. */
  @Test
  void expiryRemovesExactlyWhatAScanOfEveryRegistrationWould() {
    Random random = new Random(42);
    InMemoryRegistry registry = new InMemoryRegistry();
    Map<String, Registration> model = new HashMap<>();
    long nowMillis = 0;
    for (int op = 0; op < 200_000; op++) {
      String peer = "p" + random.nextInt(500);
      Instant now = T0.plusMillis(nowMillis);
      Instant expiry = now.plusMillis(random.nextInt(8_000) - (random.nextInt(50) == 0 ? 3_000 : 0));
      switch (random.nextInt(10)) {
        case 0, 1, 2 -> {
          Registration r = reg(peer, expiry);
          registry.put(r);
          model.put(peer, r);
        }
        case 3, 4, 5 -> {
          boolean touched = registry.touch("g", peer, A, expiry).isPresent();
          assertThat(touched).isEqualTo(model.containsKey(peer));
          model.computeIfPresent(peer, (k, r) -> r.refreshed(A, expiry));
        }
        case 6 -> assertThat(registry.remove("g", peer)).isEqualTo(model.remove(peer) != null);
        case 7 -> {
          int expected = (int) model.values().stream().filter(r -> r.isExpired(now)).count();
          model.values().removeIf(r -> r.isExpired(now));
          if (random.nextBoolean()) {
            assertThat(registry.expire(now)).isEqualTo(expected);
          } else {
            int slices = 0;
            while (!registry.expireSome(now, 1 + random.nextInt(20))) {
              slices++;
              assertThat(slices).isLessThan(10_000);
            }
          }
          assertThat(ids(registry.all())).isEqualTo(model.keySet());
        }
        default -> nowMillis += random.nextInt(700);
      }
    }
    assertThat(registry.expire(T0.plusMillis(nowMillis + 10_000))).isEqualTo(model.size());
    assertThat(registry.size()).isZero();
    assertThat(registry.indexEntries()).isZero();
  }

  private static Set<String> ids(java.util.Collection<Registration> registrations) {
    return registrations.stream().map(Registration::peerId).collect(Collectors.toSet());
  }
}
