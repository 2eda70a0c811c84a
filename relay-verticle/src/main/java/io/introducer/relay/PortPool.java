package io.introducer.relay;

import java.util.BitSet;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * The relay port range and which of its ports our allocations hold. Ports are picked at a random
 * point of the range (RFC 8656 7.2 asks for unpredictable relayed ports) and then scanned upward; the
 * bind itself may still fail when another process holds the port, and the caller then tries another.
 * Shared by the relay's event loops, hence synchronized (used once per Allocate, never per packet).
 */
final class PortPool {
  private final int min;
  private final int size;
  private final BitSet used;
  private final RandomGenerator random;

  PortPool(int minPort, int maxPort, RandomGenerator random) {
    this.min = minPort;
    this.size = maxPort - minPort + 1;
    this.used = new BitSet(size);
    this.random = random;
  }

  /**
   * Marks and returns a free port (even when {@code even}) not in {@code skip}, or -1 when none is left.
   * Bounded by the size of the range.
   */
  synchronized int acquire(boolean even, Set<Integer> skip) {
    int start = random.nextInt(size);
    for (int i = 0; i < size; i++) {
      int idx = (start + i) % size;
      int port = min + idx;
      if (used.get(idx) || (even && (port & 1) != 0) || skip.contains(port)) {
        continue;
      }
      used.set(idx);
      return port;
    }
    return -1;
  }

  synchronized void release(int port) {
    int idx = port - min;
    if (idx >= 0 && idx < size) {
      used.clear(idx);
    }
  }

  synchronized int inUse() {
    return used.cardinality();
  }
}
