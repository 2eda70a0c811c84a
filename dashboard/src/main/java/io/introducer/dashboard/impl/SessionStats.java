package io.introducer.dashboard.impl;

import io.introducer.rendezvous.PeerOutcome;
import io.introducer.rendezvous.Session;
import io.introducer.rendezvous.SessionJson;
import io.introducer.rendezvous.SessionState;
import io.introducer.rendezvous.SessionStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the charts show, from one pass over the retained sessions: counts by state, direct vs relayed share, and per
 * NAT pair and strategy the success rate (connected / decided, where decided = connected + failed + expired) and
 * time-to-connect percentiles of connected sessions. NAT types are the labels of {@link SessionJson#nat}; peers that
 * report no NAT profile count as "unknown".
 */
public final class SessionStats {
  private SessionStats() {}

  private static final class Group {
    final String initiatorNat;
    final String responderNat;
    final String strategy;
    final Map<SessionState, Long> byState = new EnumMap<>(SessionState.class);
    long[] ttc = new long[16];
    int ttcCount;

    Group(String initiatorNat, String responderNat, String strategy) {
      this.initiatorNat = initiatorNat;
      this.responderNat = responderNat;
      this.strategy = strategy;
    }

    void add(SessionState state, Long timeToConnect) {
      byState.merge(state, 1L, Long::sum);
      if (timeToConnect != null) {
        if (ttcCount == ttc.length) {
          ttc = Arrays.copyOf(ttc, ttc.length * 2);
        }
        ttc[ttcCount++] = timeToConnect;
      }
    }

    long n(SessionState s) {
      return byState.getOrDefault(s, 0L);
    }

    JsonObject toJson() {
      long connected = n(SessionState.CONNECTED_DIRECT) + n(SessionState.CONNECTED_RELAY);
      long decided = connected + n(SessionState.FAILED) + n(SessionState.EXPIRED);
      JsonObject out = new JsonObject()
          .put("initiatorNat", initiatorNat)
          .put("responderNat", responderNat)
          .put("strategy", strategy)
          .put("sessions", byState.values().stream().mapToLong(Long::longValue).sum())
          .put("decided", decided)
          .put("connected", connected)
          .put("direct", n(SessionState.CONNECTED_DIRECT))
          .put("relay", n(SessionState.CONNECTED_RELAY))
          .put("failed", n(SessionState.FAILED))
          .put("expired", n(SessionState.EXPIRED))
          .put("pending", n(SessionState.PENDING))
          .put("successRate", decided == 0 ? null : (double) connected / decided);
      if (ttcCount == 0) {
        return out.putNull("timeToConnectMillis");
      }
      long[] sorted = Arrays.copyOf(ttc, ttcCount);
      Arrays.sort(sorted);
      return out.put("timeToConnectMillis", new JsonObject()
          .put("p50", percentile(sorted, 0.50))
          .put("p90", percentile(sorted, 0.90))
          .put("max", sorted[sorted.length - 1]));
    }
  }

  /** Nearest-rank percentile of a sorted, non-empty array. */
  static long percentile(long[] sorted, double p) {
    int rank = (int) Math.ceil(p * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  public static JsonObject compute(SessionStore store, Instant now) {
    Map<SessionState, Long> byState = new EnumMap<>(SessionState.class);
    for (SessionState s : SessionState.values()) {
      byState.put(s, 0L);
    }
    Map<String, Group> groups = new TreeMap<>();
    long total = 0;
    if (store != null) {
      for (Session s : store.all()) {
        SessionState state = s.state(now);
        byState.merge(state, 1L, Long::sum);
        total++;
        String natA = SessionJson.nat(s.initiatorNat());
        String natB = SessionJson.nat(s.responderNat());
        String strategy = s.strategy().wireName();
        Group g = groups.computeIfAbsent(natA + "|" + natB + "|" + strategy, k -> new Group(natA, natB, strategy));
        g.add(state, timeToConnect(s, state));
      }
    }
    JsonObject states = new JsonObject();
    byState.forEach((s, n) -> states.put(s.wireName(), n));
    JsonArray groupJson = new JsonArray();
    groups.values().forEach(g -> groupJson.add(g.toJson()));
    long direct = byState.get(SessionState.CONNECTED_DIRECT);
    long relay = byState.get(SessionState.CONNECTED_RELAY);
    return new JsonObject()
        .put("total", total)
        .put("byState", states)
        .put("paths", new JsonObject().put("direct", direct).put("relay", relay)
            .put("directShare", direct + relay == 0 ? null : (double) direct / (direct + relay)))
        .put("groups", groupJson);
  }

  /** The time to connect of a connected session: the faster report of the deciding outcome. */
  private static Long timeToConnect(Session s, SessionState state) {
    PeerOutcome o = SessionJson.decidingReport(s, state);
    return o == null ? null : o.timeToConnectMillis();
  }
}
