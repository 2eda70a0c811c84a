package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunMessage;
import io.introducer.protocol.TransactionId;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class TransactionCacheTest {
  private static final InetSocketAddress SOURCE = new InetSocketAddress("127.0.0.1", 4000);

  private static TransactionId tx() {
    return new TransactionId(StunMessage.newTransactionId());
  }

  @Test
  void entriesLiveForTheirTtl() {
    TransactionCache cache = new TransactionCache(10, 60_000);
    TransactionId id = tx();
    cache.put(id, SOURCE, new byte[] {1}, 1_000);

    assertThat(cache.find(id, 60_999)).isNotNull();
    assertThat(cache.find(id, 61_000)).isNull();
    assertThat(cache.find(tx(), 1_000)).isNull();
  }

  @Test
  void expireRemovesOnlyExpiredEntries() {
    TransactionCache cache = new TransactionCache(10, 100);
    TransactionId old = tx();
    TransactionId young = tx();
    cache.put(old, SOURCE, new byte[0], 0);
    cache.put(young, SOURCE, new byte[0], 50);

    assertThat(cache.expire(100)).isEqualTo(1);
    assertThat(cache.size()).isEqualTo(1);
    assertThat(cache.find(young, 100)).isNotNull();
  }

  @Test
  void aFullCacheForgetsItsOldestEntry() {
    TransactionCache cache = new TransactionCache(2, 60_000);
    TransactionId a = tx();
    TransactionId b = tx();
    TransactionId c = tx();
    cache.put(a, SOURCE, new byte[0], 0);
    cache.put(b, SOURCE, new byte[0], 1);
    cache.put(c, SOURCE, new byte[0], 2);

    assertThat(cache.size()).isEqualTo(2);
    assertThat(cache.find(a, 3)).isNull();
    assertThat(cache.find(c, 3)).isNotNull();
  }
}
