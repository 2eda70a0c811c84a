package io.introducer.relay;

import io.introducer.protocol.TransactionId;
import io.vertx.core.buffer.Buffer;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Responses to authenticated requests, by client address and transaction id, kept for the RFC 8489
 * 6.3.4 window (~40 s) so a retransmitted request gets the same answer instead of being run twice.
 * Entries expire in insertion order (one TTL for all), so a sweep stops at the first live entry.
 * Bounded: when full, the oldest entry goes first.
 */
final class TransactionCache {
  static final long TTL_MILLIS = 40_000;
  static final int MAX_ENTRIES = 100_000;

  /** {@code client} is any address value with equals/hashCode (the relay uses InetSocketAddress). */
  private record Key(Object client, TransactionId txid) {}

  private record Entry(Buffer response, long expiresAt) {}

  private final int maxEntries;
  private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>();

  TransactionCache() {
    this(MAX_ENTRIES);
  }

  TransactionCache(int maxEntries) {
    this.maxEntries = maxEntries;
  }

  /** The cached response, or null. */
  Buffer get(Object client, TransactionId txid, long nowMillis) {
    Entry e = entries.get(new Key(client, txid));
    return e == null || e.expiresAt <= nowMillis ? null : e.response;
  }

  void put(Object client, TransactionId txid, Buffer response, long nowMillis) {
    Key key = new Key(client, txid);
    entries.remove(key); // re-inserted at the tail so expiry order stays insertion order
    if (entries.size() >= maxEntries) {
      Iterator<Map.Entry<Key, Entry>> it = entries.entrySet().iterator();
      it.next();
      it.remove();
    }
    entries.put(key, new Entry(response, nowMillis + TTL_MILLIS));
  }

  void sweep(long nowMillis) {
    for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
      if (it.next().expiresAt > nowMillis) {
        return;
      }
      it.remove();
    }
  }

  int size() {
    return entries.size();
  }
}
