package io.introducer.rendezvous;

import io.introducer.protocol.TransactionId;
import java.net.InetSocketAddress;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Responses to authenticated requests by transaction id (docs/PROTOCOL.md section 3, freshness): a
 * retransmission from the same source gets the same bytes again, the same id from elsewhere is a replay.
 * Bounded: beyond {@code capacity} the oldest entries go first. Event-loop confined, not thread-safe.
 */
final class TransactionCache {
  record Entry(InetSocketAddress source, byte[] response, long expiresAtMillis) {}

  private final int capacity;
  private final long ttlMillis;
  private final LinkedHashMap<TransactionId, Entry> entries;

  TransactionCache(int capacity, long ttlMillis) {
    this.capacity = capacity;
    this.ttlMillis = ttlMillis;
    this.entries = new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<TransactionId, Entry> eldest) {
        return size() > TransactionCache.this.capacity;
      }
    };
  }

  /** The live entry for {@code id}, or null. */
  Entry find(TransactionId id, long nowMillis) {
    Entry e = entries.get(id);
    return e == null || e.expiresAtMillis() <= nowMillis ? null : e;
  }

  void put(TransactionId id, InetSocketAddress source, byte[] response, long nowMillis) {
    entries.remove(id); // re-inserted at the tail so that insertion order stays expiry order
    entries.put(id, new Entry(source, response, nowMillis + ttlMillis));
  }

  /** Removes expired entries; insertion order is expiry order, so it stops at the first live one. */
  int expire(long nowMillis) {
    int removed = 0;
    Iterator<Entry> it = entries.values().iterator();
    while (it.hasNext() && it.next().expiresAtMillis() <= nowMillis) {
      it.remove();
      removed++;
    }
    return removed;
  }

  int size() {
    return entries.size();
  }
}
