package io.introducer.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.TransactionId;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.Test;

class TransactionCacheTest {
  private final SocketAddress client = SocketAddress.inetSocketAddress(40000, "192.0.2.1");
  private final TransactionId tx = new TransactionId(new byte[12]);

  @Test
  void returnsTheResponseForTheSameClientAndTransactionUntilItExpires() {
    TransactionCache cache = new TransactionCache();
    Buffer response = Buffer.buffer("response");
    cache.put(client, tx, response, 0);

    assertThat(cache.get(client, tx, TransactionCache.TTL_MILLIS - 1)).isSameAs(response);
    assertThat(cache.get(SocketAddress.inetSocketAddress(40001, "192.0.2.1"), tx, 0)).isNull();
    assertThat(cache.get(client, tx, TransactionCache.TTL_MILLIS)).isNull();
    cache.sweep(TransactionCache.TTL_MILLIS);
    assertThat(cache.size()).isZero();
  }

  @Test
  void evictsTheOldestEntryWhenFull() {
    TransactionCache cache = new TransactionCache(2);
    TransactionId a = new TransactionId(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    TransactionId b = new TransactionId(new byte[] {2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    TransactionId c = new TransactionId(new byte[] {3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    cache.put(client, a, Buffer.buffer("a"), 0);
    cache.put(client, b, Buffer.buffer("b"), 0);
    cache.put(client, c, Buffer.buffer("c"), 0);

    assertThat(cache.size()).isEqualTo(2);
    assertThat(cache.get(client, a, 0)).isNull();
    assertThat(cache.get(client, c, 0)).isNotNull();
  }
}
