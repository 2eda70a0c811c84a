package io.introducer.node.bench;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Failures of the soak's load by reason (the first 90 characters), counted from any thread. */
final class SoakFailures {
  private final Map<String, AtomicLong> byReason = new ConcurrentHashMap<>();

  void add(String why) {
    String key = why.length() > 90 ? why.substring(0, 90) : why;
    byReason.computeIfAbsent(key, k -> new AtomicLong()).incrementAndGet();
  }

  /** A sorted snapshot. */
  Map<String, Long> snapshot() {
    Map<String, Long> out = new TreeMap<>();
    byReason.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }
}
