package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Shared test configuration and helpers. */
final class Fixtures {
  static final String APP = "game";
  static final String SECRET = "game-secret";

  private Fixtures() {}

  /** Loopback, ephemeral port, one app. */
  static JsonObject config() {
    return new JsonObject()
        .put("host", "127.0.0.1")
        .put("port", 0)
        .put("apps", new JsonArray().add(new JsonObject().put("id", APP).put("secret", SECRET)));
  }

  static IntroducerVerticle deploy(Vertx vertx, JsonObject config) throws Exception {
    IntroducerVerticle verticle = new IntroducerVerticle();
    vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config)).await(10, TimeUnit.SECONDS);
    return verticle;
  }

  static TestPeer peer(IntroducerVerticle introducer, String peerId) {
    return new TestPeer(introducer.actualPort(), APP, peerId, SECRET);
  }

  /** Waits, bounded, for state written on the event loop to become visible. */
  static void eventually(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(condition.getAsBoolean()).as(what).isTrue();
  }

  static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
    eventually(what, Duration.ofSeconds(5), condition);
  }
}
