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
  void expireRemovesExpiredRegistrationsOnly() {
    InMemoryRegistry r = new InMemoryRegistry();
    r.put(reg("g", "old", T0.plusSeconds(10)));
    r.put(reg("g", "new", T0.plusSeconds(60)));

    assertThat(r.expire(T0.plusSeconds(10))).isEqualTo(1);
    assertThat(r.all()).extracting(Registration::peerId).containsExactly("new");
  }
}
