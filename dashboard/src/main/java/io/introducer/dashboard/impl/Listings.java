package io.introducer.dashboard.impl;

import io.introducer.protocol.rendezvous.RelayRtt;
import io.introducer.rendezvous.Registration;
import io.introducer.rendezvous.Registry;
import io.introducer.rendezvous.Session;
import io.introducer.rendezvous.SessionJson;
import io.introducer.rendezvous.SessionStore;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Filtered, sorted, paginated listings of the API. They read whole stores: run them on a worker thread. */
public final class Listings {
  private static final Comparator<Session> NEWEST_FIRST =
      Comparator.comparing(Session::createdAt).reversed().thenComparing(Session::id);
  private static final Comparator<Registration> BY_APP_AND_PEER =
      Comparator.comparing(Registration::appId).thenComparing(Registration::peerId);
  private static final Comparator<RelayRtt> FASTEST_FIRST = Comparator.comparingLong(RelayRtt::rttMicros);

  private Listings() {}

  /** Sessions newest first: {@code {page, size, total, pages, items}}; an absent store lists nothing. */
  public static JsonObject sessions(SessionStore store, Queries.SessionFilter filter, Queries.Paging paging,
      Instant now) {
    List<Session> matching = new ArrayList<>();
    if (store != null) {
      for (Session s : store.all()) {
        if (filter.matches(s, now)) {
          matching.add(s);
        }
      }
    }
    matching.sort(NEWEST_FIRST);
    JsonArray items = new JsonArray();
    for (Session s : window(matching, paging)) {
      items.add(SessionJson.toJson(s, now));
    }
    return page(paging, matching.size(), items);
  }

  /** Active registrations by app and peer id: {@code {page, size, total, pages, items}}. */
  public static JsonObject peers(Registry registry, Queries.PeerFilter filter, Queries.Paging paging, Instant now) {
    List<Registration> matching = new ArrayList<>();
    if (registry != null) {
      for (Registration r : registry.all()) {
        if (!r.isExpired(now) && filter.matches(r)) {
          matching.add(r);
        }
      }
    }
    matching.sort(BY_APP_AND_PEER);
    JsonArray items = new JsonArray();
    for (Registration r : window(matching, paging)) {
      JsonArray hosts = new JsonArray();
      r.hostCandidates().forEach(c -> hosts.add(SessionJson.address(c.address())));
      items.add(new JsonObject()
          .put("app", r.appId())
          .put("peer", r.peerId())
          .put("public", SessionJson.address(r.serverReflexive()))
          .put("hostCandidates", hosts)
          .put("nat", SessionJson.nat(r.natProfile()))
          .put("relayRtts", relayRtts(r.relayRtts()))
          .put("registeredAt", r.registeredAt().toEpochMilli())
          .put("expiresAt", r.expiresAt().toEpochMilli()));
    }
    return page(paging, matching.size(), items);
  }

  /** The peer's RTTs to relays as it last reported them (RELAY-RTT), fastest first: {@code [{relay, rttMicros}]}. */
  static JsonArray relayRtts(List<RelayRtt> rtts) {
    JsonArray out = new JsonArray();
    rtts.stream().sorted(FASTEST_FIRST).forEach(r -> out.add(new JsonObject()
        .put("relay", SessionJson.address(r.relay()))
        .put("rttMicros", r.rttMicros())));
    return out;
  }

  private static <T> List<T> window(List<T> sorted, Queries.Paging paging) {
    int from = (int) Math.min(sorted.size(), (long) paging.offset());
    int to = (int) Math.min(sorted.size(), (long) from + paging.size());
    return sorted.subList(from, to);
  }

  private static JsonObject page(Queries.Paging paging, int total, JsonArray items) {
    return new JsonObject()
        .put("page", paging.page())
        .put("size", paging.size())
        .put("total", total)
        .put("pages", (total + paging.size() - 1) / paging.size())
        .put("items", items);
  }
}
