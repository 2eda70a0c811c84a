package io.introducer.rendezvous;

import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.Outcome;
import io.introducer.protocol.rendezvous.RelayRtt;
import io.introducer.protocol.rendezvous.Strategy;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Lossless JSON forms of {@link Registration} and {@link Session}, for sharing them between cluster nodes
 * (the dashboard's {@link SessionJson} is a display form and drops detail). Decoding throws
 * IllegalArgumentException on anything malformed.
 */
public final class RecordCodec {
  private RecordCodec() {}

  public static JsonObject encode(Registration r) {
    JsonObject o = new JsonObject()
        .put("app", r.appId())
        .put("peer", r.peerId())
        .put("srflx", address(r.serverReflexive()))
        .put("hosts", candidates(r.hostCandidates()))
        .put("registeredAt", r.registeredAt().toEpochMilli())
        .put("expiresAt", r.expiresAt().toEpochMilli())
        .put("nat", Base64.getEncoder().encodeToString(r.natProfile().encode()));
    if (r.owner() != null) {
      o.put("owner", r.owner());
    }
    if (r.tokenExpiry() > 0) {
      o.put("tokenExpiry", r.tokenExpiry());
    }
    if (!r.relayRtts().isEmpty()) {
      // Compact: {"ip:port": micros}, at most 4 entries.
      JsonObject rtts = new JsonObject();
      for (RelayRtt rtt : r.relayRtts()) {
        rtts.put(address(rtt.relay()), rtt.rttMicros());
      }
      o.put("relayRtts", rtts);
    }
    return o;
  }

  public static Registration decodeRegistration(JsonObject o) {
    try {
      return new Registration(o.getString("app"), o.getString("peer"), address(o.getString("srflx")),
          candidates(o.getJsonArray("hosts")), Instant.ofEpochMilli(o.getLong("registeredAt")),
          Instant.ofEpochMilli(o.getLong("expiresAt")), nat(o.getString("nat")),
          o.getString("owner"), o.getLong("tokenExpiry", 0L), relayRtts(o.getJsonObject("relayRtts")));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("malformed registration record: " + e.getMessage(), e);
    }
  }

  public static JsonObject encode(Session s) {
    JsonObject o = new JsonObject()
        .put("id", s.id())
        .put("app", s.appId())
        .put("initiator", s.initiator())
        .put("responder", s.responder())
        .put("initiatorCandidates", candidates(s.initiatorCandidates()))
        .put("responderCandidates", candidates(s.responderCandidates()))
        .put("strategy", s.strategy().code())
        .put("createdAt", s.createdAt().toEpochMilli())
        .put("reportDeadline", s.reportDeadline().toEpochMilli())
        .put("initiatorNat", Base64.getEncoder().encodeToString(s.initiatorNat().encode()))
        .put("responderNat", Base64.getEncoder().encodeToString(s.responderNat().encode()));
    if (s.introducedAt() != null) {
      o.put("introducedAt", s.introducedAt().toEpochMilli());
    }
    if (s.initiatorOutcome() != null) {
      o.put("initiatorOutcome", outcome(s.initiatorOutcome()));
    }
    if (s.responderOutcome() != null) {
      o.put("responderOutcome", outcome(s.responderOutcome()));
    }
    return o;
  }

  public static Session decodeSession(JsonObject o) {
    try {
      Strategy strategy = Strategy.of(o.getInteger("strategy"));
      if (strategy == null) {
        throw new IllegalArgumentException("unknown strategy " + o.getInteger("strategy"));
      }
      Long introduced = o.getLong("introducedAt");
      return new Session(o.getString("id"), o.getString("app"), o.getString("initiator"), o.getString("responder"),
          candidates(o.getJsonArray("initiatorCandidates")), candidates(o.getJsonArray("responderCandidates")),
          strategy, Instant.ofEpochMilli(o.getLong("createdAt")), Instant.ofEpochMilli(o.getLong("reportDeadline")),
          introduced == null ? null : Instant.ofEpochMilli(introduced), outcome(o.getJsonObject("initiatorOutcome")),
          outcome(o.getJsonObject("responderOutcome")), nat(o.getString("initiatorNat")),
          nat(o.getString("responderNat")));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("malformed session record: " + e.getMessage(), e);
    }
  }

  private static JsonObject outcome(PeerOutcome p) {
    JsonObject o = new JsonObject()
        .put("outcome", p.outcome().code())
        .put("strategy", p.strategy().code())
        .put("timeToConnectMillis", p.timeToConnectMillis())
        .put("rttMicros", p.rttMicros())
        .put("reportedAt", p.reportedAt().toEpochMilli());
    if (p.chosenRemote() != null) {
      o.put("chosenRemote", address(p.chosenRemote()));
    }
    if (p.reason() != null) {
      o.put("reason", p.reason());
    }
    return o;
  }

  private static PeerOutcome outcome(JsonObject o) {
    if (o == null) {
      return null;
    }
    String remote = o.getString("chosenRemote");
    return new PeerOutcome(Outcome.of(o.getInteger("outcome")), Strategy.of(o.getInteger("strategy")),
        o.getLong("timeToConnectMillis"), o.getLong("rttMicros"), remote == null ? null : address(remote),
        o.getString("reason"), Instant.ofEpochMilli(o.getLong("reportedAt")));
  }

  private static List<RelayRtt> relayRtts(JsonObject o) {
    List<RelayRtt> out = new ArrayList<>();
    if (o != null) {
      for (String relay : o.fieldNames()) {
        out.add(new RelayRtt(address(relay), o.getLong(relay)));
      }
    }
    return out;
  }

  private static NatProfile nat(String base64) {
    NatProfile p = base64 == null ? null : NatProfile.decode(Base64.getDecoder().decode(base64));
    return p == null ? NatProfile.UNKNOWN : p;
  }

  private static JsonArray candidates(List<Candidate> list) {
    JsonArray a = new JsonArray();
    for (Candidate c : list) {
      a.add(new JsonObject().put("kind", c.kind().code()).put("address", address(c.address())));
    }
    return a;
  }

  private static List<Candidate> candidates(JsonArray a) {
    List<Candidate> out = new ArrayList<>();
    if (a != null) {
      for (int i = 0; i < a.size(); i++) {
        JsonObject c = a.getJsonObject(i);
        Candidate.Kind kind = Candidate.Kind.of(c.getInteger("kind"));
        if (kind == null) {
          throw new IllegalArgumentException("unknown candidate kind " + c.getInteger("kind"));
        }
        out.add(new Candidate(kind, address(c.getString("address"))));
      }
    }
    return out;
  }

  static String address(InetSocketAddress a) {
    String host = a.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }

  static InetSocketAddress address(String s) {
    int colon = s.lastIndexOf(':');
    String host = s.substring(0, colon);
    if (host.startsWith("[")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      // Literal addresses only: getByName does no lookup for them.
      return new InetSocketAddress(InetAddress.getByName(host), Integer.parseInt(s.substring(colon + 1)));
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("bad address " + s, e);
    }
  }
}
