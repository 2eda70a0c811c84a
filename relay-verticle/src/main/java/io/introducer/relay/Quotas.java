package io.introducer.relay;

import java.util.HashMap;
import java.util.Map;

/**
 * Allocation quotas shared by the relay's event loops: per account (a user: {@link Authenticator.Identity#account}) and in total. Taken when an Allocate is
 * admitted, given back when the allocation goes. Thread-safe (allocations are rare, a lock is cheap).
 */
final class Quotas {
  enum Admission { OK, QUOTA, CAPACITY }

  private final int perUser;
  private final int total;
  private final Map<String, Integer> byUser = new HashMap<>();
  private int count;

  Quotas(int perUser, int total) {
    this.perUser = perUser;
    this.total = total;
  }

  /** Takes one allocation of {@code username}'s quota and of the capacity when both allow it. */
  synchronized Admission acquire(String username) {
    int n = byUser.getOrDefault(username, 0);
    if (n >= perUser) {
      return Admission.QUOTA;
    }
    if (count >= total) {
      return Admission.CAPACITY;
    }
    byUser.put(username, n + 1);
    count++;
    return Admission.OK;
  }

  synchronized void release(String username) {
    byUser.computeIfPresent(username, (u, n) -> n > 1 ? n - 1 : null);
    count--;
  }

  synchronized int count() {
    return count;
  }
}
