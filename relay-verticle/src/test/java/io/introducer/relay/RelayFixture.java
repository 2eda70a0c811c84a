package io.introducer.relay;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/** A relay deployed on loopback for one test, with the users and limits the tests rely on. */
final class RelayFixture implements AutoCloseable {
  static final String REALM = "test.realm";
  static final String ALICE = "alice";
  static final String ALICE_PASSWORD = "alice-secret";
  static final String BOB = "bob";
  static final String BOB_PASSWORD = "bob-secret";
  static final String REST_SECRET = "rest-shared-secret";

  final Vertx vertx;
  final RelayVerticle relay;
  private final String deploymentId;

  private RelayFixture(Vertx vertx, RelayVerticle relay, String deploymentId) {
    this.vertx = vertx;
    this.relay = relay;
    this.deploymentId = deploymentId;
  }

  /** The loopback test config: peers on 127.0.0.0/8 allowed, fast sweeps, generous unauthenticated rate. */
  static JsonObject baseConfig() {
    return new JsonObject()
        .put("host", "127.0.0.1")
        .put("port", 0)
        .put("minPort", 50000)
        .put("maxPort", 59999)
        .put("realm", REALM)
        .put("users", new JsonArray()
            .add(new JsonObject().put("username", ALICE).put("password", ALICE_PASSWORD))
            .add(new JsonObject().put("username", BOB).put("password", BOB_PASSWORD)))
        .put("restSecret", REST_SECRET)
        .put("allowPeers", new JsonArray().add("127.0.0.0/8"))
        .put("unauthRatePerSecond", 10_000)
        .put("sweepIntervalMillis", 20);
  }

  static RelayFixture start(Vertx vertx, JsonObject config) throws Exception {
    return start(vertx, config, Clock.systemUTC());
  }

  static RelayFixture start(Vertx vertx, JsonObject config, Clock clock) throws Exception {
    RelayVerticle relay = new RelayVerticle(clock);
    String id = await(vertx.deployVerticle(relay, new DeploymentOptions().setConfig(config)));
    return new RelayFixture(vertx, relay, id);
  }

  int port() {
    return relay.actualPort();
  }

  TurnClient client() throws Exception {
    return new TurnClient(port());
  }

  List<AllocationInfo> allocations() throws Exception {
    return await(relay.allocations());
  }

  RelayCounters counters() {
    return relay.counters();
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Polls {@code condition} (every 1 ms) for at most {@code timeout}; true once it holds. */
  static boolean eventually(Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(1);
    }
    return condition.getAsBoolean();
  }

  @Override
  public void close() throws ExecutionException, TimeoutException {
    try {
      vertx.undeploy(deploymentId).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while undeploying the relay", e);
    }
  }
}
