package io.introducer.dashboard;

import io.introducer.dashboard.impl.BadRequest;
import io.introducer.dashboard.impl.HttpJson;
import io.introducer.dashboard.impl.Listings;
import io.introducer.dashboard.impl.LiveStream;
import io.introducer.dashboard.impl.LoadHistory;
import io.introducer.dashboard.impl.Queries;
import io.introducer.dashboard.impl.SessionStats;
import io.introducer.rendezvous.IntroducerVerticle;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dashboard role: mounts the page and the JSON API on the node's HTTP router (see {@link NodeHttpServer}) and
 * streams live updates. Session changes arrive cluster-wide on {@link IntroducerVerticle#SESSION_EVENTS}; this
 * verticle republishes them on a local address from which each browser's {@link LiveStream} takes what matches its
 * filter. While any browser is connected it computes a stats snapshot every {@link #STATS_PERIOD_MILLIS} and pushes
 * it the same way; it samples relay load every {@link #RELAY_SAMPLE_MILLIS} (periods of the default constructor). Store reads run on worker threads.
 *
 * <p>Routes: {@code GET /} (page), {@code /assets/*}, {@code POST /api/login}, and behind {@link AccessControl}:
 * {@code GET /api/sessions, /api/peers, /api/nodes, /api/relays, /api/stats, /api/events} (see README.md).
 */
public final class DashboardVerticle extends VerticleBase {
  public static final String LIVE_SESSIONS = "introducer.dashboard.live.sessions";
  public static final String LIVE_STATS = "introducer.dashboard.live.stats";
  public static final long STATS_PERIOD_MILLIS = 2_000;
  public static final long RELAY_SAMPLE_MILLIS = 5_000;
  /** Ten minutes of relay samples. */
  public static final int RELAY_HISTORY = 120;
  private static final String WEB_ROOT = "introducer-dashboard";
  private static final Logger log = LoggerFactory.getLogger(DashboardVerticle.class);

  private final Router router;
  private final AccessControl access;
  private final DashboardSources sources;
  private final Clock clock;
  private final long statsPeriodMillis;
  private final long relaySampleMillis;
  private final List<Route> routes = new ArrayList<>();
  private final Set<LiveStream> streams = ConcurrentHashMap.newKeySet();
  private final AtomicInteger streamCount = new AtomicInteger();
  private final LoadHistory relayLoad = new LoadHistory(RELAY_HISTORY);
  private MessageConsumer<JsonObject> sessionEvents;
  private long statsTimer = -1;
  private long relayTimer = -1;
  private boolean statsRunning;

  public DashboardVerticle(Router router, AccessControl access, DashboardSources sources) {
    this(router, access, sources, Clock.systemUTC(), STATS_PERIOD_MILLIS, RELAY_SAMPLE_MILLIS);
  }

  /** With other periods for the pushed stats and the relay samples (tests use short ones). */
  public DashboardVerticle(Router router, AccessControl access, DashboardSources sources, Clock clock,
      long statsPeriodMillis, long relaySampleMillis) {
    this.router = router;
    this.access = access;
    this.sources = sources;
    this.clock = clock;
    this.statsPeriodMillis = statsPeriodMillis;
    this.relaySampleMillis = relaySampleMillis;
  }

  @Override
  public Future<?> start() {
    routes.add(router.route(HttpMethod.GET, "/").handler(ctx -> ctx.response()
        .putHeader("Content-Type", "text/html; charset=utf-8")
        .putHeader("Cache-Control", "no-store")
        .putHeader("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
        .sendFile(WEB_ROOT + "/index.html")));
    routes.add(router.route(HttpMethod.GET, "/assets/*").handler(StaticHandler.create(WEB_ROOT)
        .setCachingEnabled(false).setDirectoryListing(false)));
    routes.add(router.route(HttpMethod.POST, "/api/login").handler(BodyHandler.create().setBodyLimit(4096))
        .handler(access.loginHandler()));
    routes.add(router.route(HttpMethod.GET, "/api/events").handler(access.requireAdmin(true)).handler(this::events));
    routes.add(router.route("/api/*").handler(access.requireAdmin(false)));
    routes.add(router.route(HttpMethod.GET, "/api/sessions").handler(ctx -> blocking(ctx, () -> Listings.sessions(
        sources.sessions(), Queries.sessionFilter(ctx.queryParams()), Queries.paging(ctx.queryParams()),
        clock.instant()))));
    routes.add(router.route(HttpMethod.GET, "/api/peers").handler(ctx -> blocking(ctx, () -> Listings.peers(
        sources.registry(), Queries.peerFilter(ctx.queryParams()), Queries.paging(ctx.queryParams()),
        clock.instant()))));
    routes.add(router.route(HttpMethod.GET, "/api/nodes").handler(ctx -> {
      Queries.noParameters(ctx.queryParams());
      reply(ctx, nodes().map(n -> new JsonObject().put("items", n)));
    }));
    routes.add(router.route(HttpMethod.GET, "/api/relays").handler(ctx -> {
      Queries.noParameters(ctx.queryParams());
      reply(ctx, relays().map(r -> new JsonObject().put("items", r)));
    }));
    routes.add(router.route(HttpMethod.GET, "/api/stats").handler(ctx -> {
      Queries.noParameters(ctx.queryParams());
      reply(ctx, stats());
    }));
    routes.add(router.route("/api/*").handler(ctx -> HttpJson.error(ctx, 404, "not found: " + ctx.request().path())));
    for (Route r : routes) {
      r.failureHandler(DashboardVerticle::failure);
    }

    sessionEvents = vertx.eventBus().consumer(IntroducerVerticle.SESSION_EVENTS,
        m -> vertx.eventBus().publish(LIVE_SESSIONS, m.body(), new DeliveryOptions().setLocalOnly(true)));
    statsTimer = vertx.setPeriodic(statsPeriodMillis, id -> pushStats());
    relayTimer = vertx.setPeriodic(relaySampleMillis, id -> sampleRelays());
    return sessionEvents.completion().onSuccess(v -> log.info("Dashboard on / and /api/* of the node's HTTP port"));
  }

  @Override
  public Future<?> stop() {
    routes.forEach(Route::remove);
    routes.clear();
    vertx.cancelTimer(statsTimer);
    vertx.cancelTimer(relayTimer);
    streams.forEach(LiveStream::endLater);
    return sessionEvents == null ? Future.succeededFuture() : sessionEvents.unregister();
  }

  /** Browsers connected to the live stream now. */
  public int liveStreams() {
    return streamCount.get();
  }

  private void events(RoutingContext ctx) {
    Queries.LiveFilter filter = Queries.liveFilter(ctx.queryParams(), AccessControl.TOKEN_PARAMETER);
    LiveStream stream = new LiveStream(vertx, ctx.response(), filter);
    streams.add(stream);
    streamCount.incrementAndGet();
    stream.start(LIVE_SESSIONS, LIVE_STATS, access.expiryOf(ctx.request()), () -> {
      streams.remove(stream);
      streamCount.decrementAndGet();
    });
  }

  /** Everything the page's summary and charts show, in one object (also pushed as the {@code stats} event). */
  Future<JsonObject> stats() {
    Future<JsonObject> local = vertx.executeBlocking(() -> {
      var registry = sources.registry();
      return new JsonObject()
          .put("sessions", SessionStats.compute(sources.sessions(), clock.instant()))
          .put("peers", new JsonObject().put("total", registry == null ? 0 : registry.size()));
    }, false);
    return Future.all(local, nodes(), relays()).map(all -> all.<JsonObject>resultAt(0)
        .put("at", clock.millis())
        .put("nodes", all.<JsonArray>resultAt(1))
        .put("relays", all.<JsonArray>resultAt(2))
        .put("relayLoad", relayLoad.toJson()));
  }

  private Future<JsonArray> nodes() {
    return sources.nodes().nodes().map(JsonArray::new);
  }

  private Future<JsonArray> relays() {
    List<Future<RelaySnapshot>> snapshots = sources.relays().stream().map(RelaySource::snapshot).toList();
    return Future.join(snapshots).transform(ar -> {
      JsonArray out = new JsonArray();
      for (Future<RelaySnapshot> f : snapshots) {
        if (f.succeeded()) {
          out.add(f.result().toJson());
        } else {
          log.debug("A relay's snapshot failed", f.cause());
        }
      }
      return Future.succeededFuture(out);
    });
  }

  private void pushStats() {
    if (streamCount.get() == 0 || statsRunning) {
      return; // nobody watching, or the previous snapshot is still being computed
    }
    statsRunning = true;
    stats().onComplete(ar -> {
      statsRunning = false;
      if (ar.succeeded()) {
        vertx.eventBus().publish(LIVE_STATS, ar.result(), new DeliveryOptions().setLocalOnly(true));
      } else {
        log.warn("Dashboard stats failed", ar.cause());
      }
    });
  }

  private void sampleRelays() {
    List<RelaySource> relays = sources.relays();
    if (relays.isEmpty()) {
      return;
    }
    List<Future<RelaySnapshot>> snapshots = relays.stream().map(RelaySource::snapshot).toList();
    Future.join(snapshots).onComplete(ar -> relayLoad.add(clock.millis(),
        snapshots.stream().filter(Future::succeeded).map(Future::result).toList()));
  }

  private void blocking(RoutingContext ctx, Supplier<JsonObject> query) {
    // Parameters are validated inside the supplier too, so a BadRequest surfaces as the future's failure.
    reply(ctx, vertx.executeBlocking(query::get, false));
  }

  private static void reply(RoutingContext ctx, Future<JsonObject> result) {
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        HttpJson.ok(ctx, ar.result());
      } else {
        failure(ctx, ar.cause());
      }
    });
  }

  private static void failure(RoutingContext ctx) {
    failure(ctx, ctx.failure());
  }

  private static void failure(RoutingContext ctx, Throwable cause) {
    if (cause instanceof BadRequest) {
      HttpJson.error(ctx, 400, cause.getMessage());
    } else {
      log.warn("Dashboard request {} failed", ctx.request().path(), cause);
      HttpJson.error(ctx, ctx.statusCode() >= 400 && cause == null ? ctx.statusCode() : 500,
          cause == null ? "request failed" : "server error");
    }
  }
}
