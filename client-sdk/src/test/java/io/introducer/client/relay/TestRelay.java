package io.introducer.client.relay;

import io.introducer.relay.AllocationInfo;
import io.introducer.relay.RelayCounters;
import io.introducer.relay.RelayVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/** A real TURN relay verticle on 127.0.0.1 and an ephemeral port, for the SDK's tests. */
public final class TestRelay implements AutoCloseable {
  public static final String REALM = "sdk.test";
  public static final String USER = "alice";
  public static final String PASSWORD = "alice-secret";
  public static final String REST_SECRET = "relay-rest-secret";

  private final Vertx vertx = Vertx.vertx();
  private final RelayVerticle relay;

  /** A relay with the loopback test config, adjusted by {@code tweak}. */
  public TestRelay(UnaryOperator<JsonObject> tweak) throws Exception {
    this(Clock.systemUTC(), tweak);
  }

  /** A relay whose lifetimes, nonces and TURN REST expiry run on {@code clock}, with the config adjusted by {@code tweak}. */
  public TestRelay(Clock clock, UnaryOperator<JsonObject> tweak) throws Exception {
    relay = new RelayVerticle(clock);
    JsonObject config = new JsonObject()
        .put("host", "127.0.0.1")
        .put("port", 0)
        .put("realm", REALM)
        .put("users", new JsonArray().add(new JsonObject().put("username", USER).put("password", PASSWORD)))
        .put("restSecret", REST_SECRET)
        .put("allowPeers", new JsonArray().add("127.0.0.0/8"))
        .put("unauthRatePerSecond", 10_000)
        .put("sweepIntervalMillis", 20);
    await(vertx.deployVerticle(relay, new DeploymentOptions().setConfig(tweak.apply(config))));
  }

  public TestRelay() throws Exception {
    this(c -> c);
  }

  public InetSocketAddress address() {
    return new InetSocketAddress("127.0.0.1", relay.actualPort());
  }

  public RelayCounters counters() {
    return relay.counters();
  }

  public List<AllocationInfo> allocations() throws Exception {
    return await(relay.allocations());
  }

  /** Polls {@code condition} every 20 ms for at most {@code millis}; true once it holds. */
  public static boolean eventually(long millis, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(20);
    }
    return condition.getAsBoolean();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws Exception {
    await(vertx.close());
  }
}
