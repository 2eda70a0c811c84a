package io.introducer.rendezvous;

import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.Outcome;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;

/**
 * The JSON form of a {@link Session}, as published on {@link IntroducerVerticle#SESSION_EVENTS} and served by
 * the dashboard's API. Instants are milliseconds since the Unix epoch; unknown values are JSON null. NAT types
 * are the peers' NAT-PROFILEs as registered ({@link #nat}: "unknown" for a peer that sent none), with the
 * fields in {@code initiatorNatProfile} / {@code responderNatProfile}; relayed bytes and packets are null until
 * a relay reports them.
 */
public final class SessionJson {
  /** What the NAT type fields hold for a peer whose NAT behaviour is not known. */
  public static final String UNKNOWN_NAT = "unknown";

  private SessionJson() {}

  public static JsonObject toJson(Session s, Instant now) {
    SessionState state = s.state(now);
    PeerOutcome success = decidingReport(s, state);
    return new JsonObject()
        .put("id", s.id())
        .put("app", s.appId())
        .put("initiator", s.initiator())
        .put("responder", s.responder())
        .put("initiatorNat", nat(s.initiatorNat()))
        .put("responderNat", nat(s.responderNat()))
        .put("initiatorNatProfile", natProfile(s.initiatorNat()))
        .put("responderNatProfile", natProfile(s.responderNat()))
        .put("strategy", s.strategy().wireName())
        .put("state", state.wireName())
        .put("path", path(state))
        .put("timeToConnectMillis", success == null ? null : success.timeToConnectMillis())
        .put("rttMicros", success == null ? null : success.rttMicros())
        .put("bytesRelayed", null)
        .put("packetsRelayed", null)
        .put("failureReason", state == SessionState.FAILED ? failureReason(s) : null)
        .put("createdAt", s.createdAt().toEpochMilli())
        .put("introducedAt", s.introducedAt() == null ? null : s.introducedAt().toEpochMilli())
        .put("reportDeadline", s.reportDeadline().toEpochMilli())
        .put("initiatorCandidates", candidates(s.initiatorCandidates()))
        .put("responderCandidates", candidates(s.responderCandidates()))
        .put("initiatorReport", report(s.initiatorOutcome()))
        .put("responderReport", report(s.responderOutcome()));
  }

  /** Every field of a NAT profile, enums in lower case; null for null. */
  public static JsonObject natProfile(NatProfile p) {
    if (p == null) {
      return null;
    }
    return new JsonObject()
        .put("summary", p.summary().name().toLowerCase())
        .put("mapping", p.mapping().name().toLowerCase())
        .put("filtering", p.filtering().name().toLowerCase())
        .put("allocation", p.allocation().name().toLowerCase())
        .put("stride", p.stride())
        .put("hairpinning", p.hairpinning().name().toLowerCase())
        .put("lifetimeSeconds", p.lifetimeSeconds());
  }

  /**
   * A NAT profile as the dashboard shows it: the product-facing summary and the RFC 4787 behaviour, e.g.
   * {@code "strict (APDM/APDF, random)"}; {@link #UNKNOWN_NAT} without a measured mapping.
   */
  public static String nat(NatProfile p) {
    if (p == null || p.mapping() == NatProfile.Mapping.UNKNOWN) {
      return UNKNOWN_NAT;
    }
    StringBuilder b = new StringBuilder(p.summary().name().toLowerCase()).append(" (").append(p.mapping());
    if (p.filtering() != NatProfile.Filtering.UNKNOWN) {
      b.append('/').append(p.filtering());
    }
    if (p.allocation() != NatProfile.Allocation.UNKNOWN) {
      b.append(", ").append(p.allocation().name().toLowerCase());
    }
    return b.append(')').toString();
  }

  /** "direct", "relay", or null while the session is not connected. */
  public static String path(SessionState state) {
    return switch (state) {
      case CONNECTED_DIRECT -> "direct";
      case CONNECTED_RELAY -> "relay";
      default -> null;
    };
  }

  /** The report that decided a connected state (the faster one when both sides agree), or null. */
  public static PeerOutcome decidingReport(Session s, SessionState state) {
    Outcome wanted = switch (state) {
      case CONNECTED_DIRECT -> Outcome.CONNECTED_DIRECT;
      case CONNECTED_RELAY -> Outcome.CONNECTED_RELAY;
      default -> null;
    };
    if (wanted == null) {
      return null;
    }
    PeerOutcome best = null;
    for (PeerOutcome o : new PeerOutcome[] {s.initiatorOutcome(), s.responderOutcome()}) {
      if (o != null && o.outcome() == wanted && (best == null || o.timeToConnectMillis() < best.timeToConnectMillis())) {
        best = o;
      }
    }
    return best;
  }

  private static String failureReason(Session s) {
    for (PeerOutcome o : new PeerOutcome[] {s.initiatorOutcome(), s.responderOutcome()}) {
      if (o != null && o.outcome() == Outcome.FAILED && o.reason() != null) {
        return o.reason();
      }
    }
    return null;
  }

  private static JsonObject report(PeerOutcome o) {
    if (o == null) {
      return null;
    }
    return new JsonObject()
        .put("outcome", o.outcome().wireName())
        .put("strategy", o.strategy().wireName())
        .put("timeToConnectMillis", o.timeToConnectMillis())
        .put("rttMicros", o.rttMicros())
        .put("remote", address(o.chosenRemote()))
        .put("reason", o.reason())
        .put("reportedAt", o.reportedAt().toEpochMilli());
  }

  private static JsonArray candidates(List<Candidate> candidates) {
    JsonArray out = new JsonArray();
    for (Candidate c : candidates) {
      out.add(c.kind().name().toLowerCase().replace('_', '-') + ":" + address(c.address()));
    }
    return out;
  }

  /** host:port, IPv6 hosts in brackets; null for null. */
  public static String address(InetSocketAddress a) {
    if (a == null) {
      return null;
    }
    String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }
}
