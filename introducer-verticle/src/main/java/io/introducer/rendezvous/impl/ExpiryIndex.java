package io.introducer.rendezvous.impl;

import io.introducer.rendezvous.Registration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * The keys of a registry's map by the second in which their registration expires, so that expiring visits what is
 * due instead of every registration.
 *
 * <p>Lazy, to keep it small and keep keepalives free: a key is indexed once, when its registration is added, in
 * the bucket of its expiry second; a keepalive or re-registration that pushes the expiry later does not touch the
 * index. When a bucket comes due, each key in it is looked up again: gone (removed, left) is dropped, expired is
 * removed, and living later (refreshed or re-registered since) is moved to the bucket of its current expiry, the
 * same key object. The invariant: every registration in the map has its key in a bucket no later than the one of
 * its current expiry. Only a change that makes an expiry earlier (which keepalives never do; a clock stepped back
 * could) adds the key again, in the earlier bucket; the later copy is then dropped or moved like any other.
 *
 * <p>Cost: one reference (4 bytes with compressed oops, plus up to half again of spare array capacity) per
 * registration; an expiry pass visits the due buckets, i.e. the registrations that expired plus those that lived
 * past the expiry they were indexed with (about once per lifetime each, however many keepalives they sent), and
 * the registrations expiring within the current second (its bucket is only partly due, and is checked one by one).
 *
 * <p>Written by the registry's writer (the event loop); synchronized anyway, as the registry's other methods may be
 * called from other threads.
 *
 * @param <K> the key of the registry's map; the index keeps the very instances it is given
 */
final class ExpiryIndex<K> {

  /** The registry's map, as the index sees it. */
  interface Records<K> {
    /** The key's registration now, or null. */
    Registration get(K key);

    /** Removes the key's registration if it is still {@code expired}; returns whether it did. */
    boolean remove(K key, Registration expired);
  }

  /** An array of keys; entries [0, checked) of the bucket of the current second were found alive in this pass. */
  private static final class Bucket {
    Object[] keys = new Object[8];
    int size;
    int checked;

    void add(Object key) {
      if (size == keys.length) {
        keys = Arrays.copyOf(keys, size + (size >> 1));
      }
      keys[size++] = key;
    }

    /** Removes entry i by moving the last one into its place. */
    void removeAt(int i) {
      keys[i] = keys[--size];
      keys[size] = null;
    }
  }

  private final Records<K> records;
  private final TreeMap<Long, Bucket> buckets = new TreeMap<>();
  /** The bucket added to last: registrations made together expire together. */
  private long lastSecond = Long.MIN_VALUE;
  private Bucket last;
  private int size;
  private boolean backlog;

  ExpiryIndex(Records<K> records) {
    this.records = records;
  }

  static long second(Instant expiresAt) {
    return expiresAt.getEpochSecond();
  }

  /** Indexes {@code key}, whose registration expires at {@code expiresAt}: call when the map gained the key. */
  synchronized void add(K key, Instant expiresAt) {
    addAt(key, second(expiresAt));
  }

  /** Call when {@code key}'s registration {@code before} became {@code after}: re-indexes it only if it expires earlier. */
  void replaced(K key, Registration before, Registration after) {
    if (before == null) {
      add(key, after.expiresAt());
    } else if (second(after.expiresAt()) < second(before.expiresAt())) {
      add(key, after.expiresAt());
    }
  }

  /** Removes every registration expired at {@code now} (exactly those); returns how many. */
  synchronized int expire(Instant now) {
    return run(now, Integer.MAX_VALUE, false);
  }

  /**
   * As {@link #expire}, but stops after {@code maxSteps} index entries; returns false when it stopped before it got
   * through all that was due, and the next call goes on where this one stopped.
   */
  synchronized boolean expireSome(Instant now, int maxSteps) {
    run(now, Math.max(1, maxSteps), true);
    return !backlog;
  }

  /** Index entries, including those of keys refreshed or removed since (for tests and the benchmark). */
  synchronized int entries() {
    return size;
  }

  private void addAt(Object key, long second) {
    if (second != lastSecond || last == null) {
      last = buckets.computeIfAbsent(second, s -> new Bucket());
      lastSecond = second;
    }
    last.add(key);
    size++;
  }

  private void drop(long second) {
    buckets.remove(second);
    if (second == lastSecond) {
      last = null;
    }
  }

  @SuppressWarnings("unchecked")
  private int run(Instant now, int maxSteps, boolean resume) {
    long nowSecond = second(now);
    int steps = 0;
    int removed = 0;
    backlog = false;
    Map.Entry<Long, Bucket> first;
    while ((first = buckets.firstEntry()) != null && first.getKey() < nowSecond) {
      // A past second: every registration still in it expired, unless it lives later now.
      long second = first.getKey();
      Bucket b = first.getValue();
      while (b.size > 0) {
        if (steps++ == maxSteps) {
          backlog = true;
          return removed;
        }
        K key = (K) b.keys[b.size - 1];
        b.removeAt(b.size - 1);
        size--;
        Registration r = records.get(key);
        if (r == null) {
          continue; // removed since
        }
        if (r.isExpired(now)) {
          removed += records.remove(key, r) ? 1 : 0;
        } else {
          addAt(key, second(r.expiresAt())); // lives later: refreshed or re-registered since
        }
      }
      drop(second);
    }
    Bucket current = first == null || first.getKey() != nowSecond ? null : first.getValue();
    if (current != null) {
      // The current second: expired up to now only. Entries [0, checked) were found alive in this pass, so that a
      // pass split over several bounded calls checks each entry once, and ends.
      if (!resume) {
        current.checked = 0;
      }
      while (current.checked < current.size) {
        if (steps++ == maxSteps) {
          backlog = true;
          return removed;
        }
        int i = current.checked;
        K key = (K) current.keys[i];
        Registration r = records.get(key);
        if (r != null && !r.isExpired(now) && second(r.expiresAt()) == nowSecond) {
          current.checked++;
          continue;
        }
        current.removeAt(i); // the last unchecked entry takes its place
        size--;
        if (r == null) {
          continue;
        }
        if (r.isExpired(now)) {
          removed += records.remove(key, r) ? 1 : 0;
        } else {
          addAt(key, second(r.expiresAt())); // a later second
        }
      }
      current.checked = 0;
      if (current.size == 0) {
        drop(nowSecond);
      }
    }
    return removed;
  }
}
