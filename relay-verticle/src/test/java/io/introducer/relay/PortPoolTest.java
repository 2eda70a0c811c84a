package io.introducer.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PortPoolTest {

  @Test
  void handsOutEveryPortOfTheRangeOnceThenNone() {
    PortPool pool = new PortPool(50000, 50009, new Random(1));
    Set<Integer> got = new HashSet<>();
    for (int i = 0; i < 10; i++) {
      got.add(pool.acquire(false, Set.of()));
    }
    assertThat(got).hasSize(10).allMatch(p -> p >= 50000 && p <= 50009);
    assertThat(pool.acquire(false, Set.of())).isEqualTo(-1);
    pool.release(50004);
    assertThat(pool.acquire(false, Set.of())).isEqualTo(50004);
  }

  @Test
  void evenPortsAndSkippedPortsAreHonoured() {
    PortPool pool = new PortPool(50000, 50003, new Random(2));
    assertThat(pool.acquire(true, Set.of(50000))).isEqualTo(50002);
    assertThat(pool.acquire(true, Set.of())).isEqualTo(50000);
    assertThat(pool.acquire(true, Set.of())).isEqualTo(-1);
    assertThat(pool.inUse()).isEqualTo(2);
  }
}
