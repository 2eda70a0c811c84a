package io.introducer.dashboard.impl;

import io.introducer.protocol.rendezvous.Rendezvous;
import io.introducer.rendezvous.Registration;
import io.introducer.rendezvous.Session;
import io.introducer.rendezvous.SessionState;
import io.vertx.core.MultiMap;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The API's query parameters, validated: {@code page} (from 1), {@code size} (1-500), {@code peer} (matches a peer
 * id containing it), {@code app} (exact app id), {@code state} (a session state's wire name). Unknown or repeated
 * parameters are refused, so a typo is a 400 rather than a silently unfiltered answer.
 */
public final class Queries {
  public static final int MAX_SIZE = 500;
  public static final int DEFAULT_SIZE = 50;
  private static final int MAX_PAGE = 1_000_000;
  private static final String STATES = Arrays.stream(SessionState.values()).map(SessionState::wireName)
      .collect(Collectors.joining(", "));

  private Queries() {}

  /** Which page of a listing: 1-based {@code page} of {@code size} items. */
  public record Paging(int page, int size) {
    public int offset() {
      return (page - 1) * size;
    }
  }

  /** Session filter: null fields match everything. */
  public record SessionFilter(String app, String peer, SessionState state) {
    public boolean matches(Session s, Instant now) {
      return (app == null || app.equals(s.appId()))
          && (peer == null || s.initiator().contains(peer) || s.responder().contains(peer))
          && (state == null || s.state(now) == state);
    }
  }

  /** Peer filter: null fields match everything. */
  public record PeerFilter(String app, String peer) {
    public boolean matches(Registration r) {
      return (app == null || app.equals(r.appId())) && (peer == null || r.peerId().contains(peer));
    }
  }

  /** Live-stream filter, applied to session JSON: app and peer only (a row's state changes, its peers do not). */
  public record LiveFilter(String app, String peer) {
    public boolean matches(io.vertx.core.json.JsonObject session) {
      return (app == null || app.equals(session.getString("app")))
          && (peer == null || session.getString("initiator", "").contains(peer)
              || session.getString("responder", "").contains(peer));
    }
  }

  public static Paging paging(MultiMap params) {
    return new Paging(integer(params, "page", 1, 1, MAX_PAGE), integer(params, "size", DEFAULT_SIZE, 1, MAX_SIZE));
  }

  public static SessionFilter sessionFilter(MultiMap params) {
    allowOnly(params, Set.of("page", "size", "peer", "state", "app"));
    String state = single(params, "state");
    SessionState parsed = null;
    if (state != null) {
      parsed = Arrays.stream(SessionState.values()).filter(s -> s.wireName().equals(state)).findFirst()
          .orElseThrow(() -> new BadRequest("state must be one of " + STATES + "; got \"" + state + "\""));
    }
    return new SessionFilter(id(params, "app"), id(params, "peer"), parsed);
  }

  public static PeerFilter peerFilter(MultiMap params) {
    allowOnly(params, Set.of("page", "size", "peer", "app"));
    return new PeerFilter(id(params, "app"), id(params, "peer"));
  }

  public static LiveFilter liveFilter(MultiMap params, String tokenParameter) {
    allowOnly(params, Set.of("peer", "app", tokenParameter));
    return new LiveFilter(id(params, "app"), id(params, "peer"));
  }

  public static void noParameters(MultiMap params) {
    allowOnly(params, Set.of());
  }

  private static void allowOnly(MultiMap params, Set<String> allowed) {
    for (String name : params.names()) {
      if (!allowed.contains(name)) {
        throw new BadRequest(allowed.isEmpty() ? "this endpoint takes no parameters; got \"" + name + "\""
            : "unknown parameter \"" + name + "\"; allowed: " + String.join(", ", allowed.stream().sorted().toList()));
      }
    }
  }

  private static String single(MultiMap params, String name) {
    List<String> values = params.getAll(name);
    if (values.isEmpty()) {
      return null;
    }
    if (values.size() > 1) {
      throw new BadRequest(name + " given more than once");
    }
    return values.get(0);
  }

  private static String id(MultiMap params, String name) {
    String v = single(params, name);
    if (v == null || v.isEmpty()) {
      return null;
    }
    if (!Rendezvous.isValidId(v)) {
      throw new BadRequest(name + " must be 1-64 characters of A-Z a-z 0-9 . _ @ : -");
    }
    return v;
  }

  private static int integer(MultiMap params, String name, int def, int min, int max) {
    String v = single(params, name);
    if (v == null) {
      return def;
    }
    int n;
    try {
      n = Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new BadRequest(name + " must be an integer from " + min + " to " + max + "; got \"" + v + "\"");
    }
    if (n < min || n > max) {
      throw new BadRequest(name + " must be an integer from " + min + " to " + max + "; got " + n);
    }
    return n;
  }
}
