package io.introducer.client;

import io.introducer.client.transport.DatagramTransportFactory;
import io.introducer.rendezvous.IntroducerVerticle;
import io.introducer.rendezvous.RelaySelector;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** A real introducer verticle on 127.0.0.1 and an ephemeral port, for the SDK's end-to-end tests. */
final class TestIntroducer {
  static final String APP = "game";
  static final String SECRET = "s3cret-for-tests";

  private final Vertx vertx = Vertx.vertx();
  private final IntroducerVerticle verticle;
  private final String host;

  TestIntroducer() throws Exception {
    this(config -> config);
  }

  /** With the test config adjusted by {@code tweak} (a relay, another punch window, ...). */
  TestIntroducer(UnaryOperator<JsonObject> tweak) throws Exception {
    this(null, tweak);
  }

  /** With relays from {@code relays} (null: the {@code relay} config key, if any) and the config adjusted by {@code tweak}. */
  TestIntroducer(RelaySelector relays, UnaryOperator<JsonObject> tweak) throws Exception {
    verticle = new IntroducerVerticle(relays);
    JsonObject config = new JsonObject()
        .put("host", "127.0.0.1")
        .put("port", 0)
        .put("registrationLifetimeSeconds", 60)
        .put("punchWindowMillis", 10_000)
        .put("apps", new JsonArray().add(new JsonObject().put("id", APP).put("secret", SECRET)));
    JsonObject tweaked = tweak.apply(config);
    host = tweaked.getString("host");
    vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(tweaked))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  InetSocketAddress address() {
    return new InetSocketAddress(host, verticle.actualPort());
  }

  /** The verticle itself (its registry and session store, for assertions). */
  IntroducerVerticle verticle() {
    return verticle;
  }

  /** A client config for {@code peerId} with test-friendly timeouts. */
  ClientConfig.Builder client(String peerId, DatagramTransportFactory transports) {
    return ClientConfig.builder()
        .server(host, verticle.actualPort())
        .appId(APP)
        .appSecret(SECRET)
        .peerId(peerId)
        .transportFactory(transports)
        .requestTimeout(Duration.ofSeconds(3))
        // Only an upper bound (discovery takes a quarter second here): generous, so that a loaded machine
        // does not turn a slow answer into an unknown NAT.
        .natDiscoveryTimeout(Duration.ofSeconds(10))
        .connectTimeout(Duration.ofSeconds(10));
  }

  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
