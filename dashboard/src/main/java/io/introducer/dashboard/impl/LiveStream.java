package io.introducer.dashboard.impl;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One browser's server-sent-event stream ({@code GET /api/events}). Session changes matching the stream's filter
 * are coalesced per session and flushed every {@link #FLUSH_MILLIS} as one {@code sessions} event (a JSON array);
 * when more than {@link #MAX_PENDING} sessions change within a flush, or the connection cannot keep up, the stream
 * sends {@code resync} instead and the page reloads its current page. Every stats snapshot is forwarded as a
 * {@code stats} event. A comment line every {@link #PING_MILLIS} keeps proxies from closing an idle stream. Everything
 * runs on the HTTP connection's event loop.
 */
public final class LiveStream {
  public static final long FLUSH_MILLIS = 500;
  public static final int MAX_PENDING = 200;
  public static final long PING_MILLIS = 15_000;

  private final Vertx vertx;
  private final HttpServerResponse response;
  private final Queries.LiveFilter filter;
  private final Map<String, JsonObject> pending = new LinkedHashMap<>();
  private boolean overflow;
  private boolean closed;
  private MessageConsumer<JsonObject> sessionConsumer;
  private MessageConsumer<JsonObject> statsConsumer;
  private long flushTimer = -1;
  private long pingTimer = -1;
  private long expiryTimer = -1;
  private Runnable onClose = () -> {};
  private Context context;

  public LiveStream(Vertx vertx, HttpServerResponse response, Queries.LiveFilter filter) {
    this.vertx = vertx;
    this.response = response;
    this.filter = filter;
  }

  /**
   * Starts streaming from the local addresses {@code sessionsAddress} (session events) and {@code statsAddress};
   * ends the stream at {@code expiresAt} (epoch millis, 0 for never), when the login token it was opened with expires.
   */
  public void start(String sessionsAddress, String statsAddress, long expiresAt, Runnable onClose) {
    this.onClose = onClose;
    this.context = vertx.getOrCreateContext();
    response.setChunked(true)
        .putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-store")
        .putHeader("X-Accel-Buffering", "no");
    response.closeHandler(v -> close());
    response.exceptionHandler(e -> close());
    response.write("retry: 3000\n\n: connected\n\n");
    sessionConsumer = vertx.eventBus().localConsumer(sessionsAddress, m -> onSession(m.body()));
    statsConsumer = vertx.eventBus().localConsumer(statsAddress, m -> send("stats", m.body().encode()));
    flushTimer = vertx.setPeriodic(FLUSH_MILLIS, id -> flush());
    pingTimer = vertx.setPeriodic(PING_MILLIS, id -> {
      if (!response.writeQueueFull()) {
        response.write(": ping\n\n");
      }
    });
    if (expiresAt > 0) {
      expiryTimer = vertx.setTimer(Math.max(1, expiresAt - System.currentTimeMillis()), id -> end());
    }
  }

  /** A message of {@code IntroducerVerticle.SESSION_EVENTS}: {@code {event, at, session}}. */
  void onSession(JsonObject event) {
    JsonObject session = event.getJsonObject("session");
    if (closed || overflow || session == null || !filter.matches(session)) {
      return;
    }
    String id = session.getString("id");
    pending.remove(id); // re-insert: the latest change goes last
    pending.put(id, session);
    if (pending.size() > MAX_PENDING) {
      overflow = true;
      pending.clear();
    }
  }

  void flush() {
    if (closed) {
      return;
    }
    if (response.writeQueueFull()) {
      // The browser is not keeping up: drop what is pending and have it reload once it drains.
      overflow = true;
      pending.clear();
      return;
    }
    if (overflow) {
      overflow = false;
      send("resync", "{}");
      return;
    }
    if (!pending.isEmpty()) {
      JsonArray batch = new JsonArray();
      pending.values().forEach(batch::add);
      pending.clear();
      send("sessions", batch.encode());
    }
  }

  private void send(String event, String data) {
    if (!closed && !response.writeQueueFull()) {
      response.write("event: " + event + "\ndata: " + data + "\n\n");
    }
  }

  /** Ends the response (the browser reconnects, and is asked to log in again if its token expired). */
  public void end() {
    if (!closed) {
      close();
      response.end();
    }
  }

  /** {@link #end()} from any thread: runs on the stream's event loop. */
  public void endLater() {
    context.runOnContext(v -> end());
  }

  private void close() {
    if (closed) {
      return;
    }
    closed = true;
    vertx.cancelTimer(flushTimer);
    vertx.cancelTimer(pingTimer);
    vertx.cancelTimer(expiryTimer);
    if (sessionConsumer != null) {
      sessionConsumer.unregister();
    }
    if (statsConsumer != null) {
      statsConsumer.unregister();
    }
    onClose.run();
  }
}
