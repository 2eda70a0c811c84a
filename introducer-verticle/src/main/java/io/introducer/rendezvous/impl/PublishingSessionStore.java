package io.introducer.rendezvous.impl;

import io.introducer.rendezvous.PeerOutcome;
import io.introducer.rendezvous.Session;
import io.introducer.rendezvous.RecordCodec;
import io.introducer.rendezvous.SessionJson;
import io.introducer.rendezvous.SessionStore;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.util.Collection;
import java.util.Optional;

/**
 * A {@link SessionStore} that publishes every change it accepts on the event bus (clustered when Vert.x is), so
 * that any node's dashboard can follow any node's sessions. The message is
 * {@code {"event": "created" | "introduced" | "reported", "at": millis, "session": SessionJson}}.
 * Expiry is not published: a session's state becoming "expired" is a matter of time, which readers know.
 */
public final class PublishingSessionStore implements SessionStore {
  private final SessionStore delegate;
  private final EventBus eventBus;
  private final String address;
  private final Clock clock;
  private final String node;

  public PublishingSessionStore(SessionStore delegate, EventBus eventBus, String address, Clock clock) {
    this(delegate, eventBus, address, clock, null);
  }

  /**
   * As above; {@code node} names this node in each message, with the session's lossless form ({@code record}), so
   * other nodes can keep a copy of every session (see {@link #merge}). Null publishes the display form only.
   */
  public PublishingSessionStore(SessionStore delegate, EventBus eventBus, String address, Clock clock, String node) {
    this.delegate = delegate;
    this.eventBus = eventBus;
    this.address = address;
    this.clock = clock;
    this.node = node;
  }

  /** Another node's copy: stored, not published again (its own node published it). */
  @Override
  public void merge(Session session) {
    delegate.merge(session);
  }

  @Override
  public void add(Session session) {
    delegate.add(session);
    publish("created", session);
  }

  @Override
  public Optional<Session> get(String id) {
    return delegate.get(id);
  }

  @Override
  public boolean markIntroduced(String id, Instant at) {
    boolean changed = delegate.markIntroduced(id, at);
    if (changed) {
      delegate.get(id).ifPresent(s -> publish("introduced", s));
    }
    return changed;
  }

  @Override
  public boolean recordOutcome(String id, String peerId, PeerOutcome outcome) {
    boolean changed = delegate.recordOutcome(id, peerId, outcome);
    if (changed) {
      delegate.get(id).ifPresent(s -> publish("reported", s));
    }
    return changed;
  }

  @Override
  public int expire(Instant cutoff) {
    return delegate.expire(cutoff);
  }

  @Override
  public int size() {
    return delegate.size();
  }

  @Override
  public Collection<Session> all() {
    return delegate.all();
  }

  private void publish(String event, Session s) {
    Instant now = clock.instant();
    JsonObject message = new JsonObject()
        .put("event", event)
        .put("at", now.toEpochMilli())
        .put("session", SessionJson.toJson(s, now));
    if (node != null) {
      message.put("node", node).put("record", RecordCodec.encode(s));
    }
    eventBus.publish(address, message);
  }
}
