package io.introducer.client;

import io.introducer.client.transport.DatagramTransportFactory;
import io.introducer.rendezvous.IntroducerVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** A real introducer verticle on 127.0.0.1 and an ephemeral port, for the SDK's end-to-end tests. */
final class TestIntroducer {
  static final String APP = "game";
  static final String SECRET = "s3cret-for-tests";

  private final Vertx vertx = Vertx.vertx();
  private final IntroducerVerticle verticle = new IntroducerVerticle();

  TestIntroducer() throws Exception {
    JsonObject config = new JsonObject()
        .put("host", "127.0.0.1")
        .put("port", 0)
        .put("registrationLifetimeSeconds", 60)
        .put("punchWindowMillis", 10_000)
        .put("apps", new JsonArray().add(new JsonObject().put("id", APP).put("secret", SECRET)));
    vertx.deployVerticle(verticle, new DeploymentOptions().setConfig(config))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  InetSocketAddress address() {
    return new InetSocketAddress("127.0.0.1", verticle.actualPort());
  }

  /** A client config for {@code peerId} with test-friendly timeouts. */
  ClientConfig.Builder client(String peerId, DatagramTransportFactory transports) {
    return ClientConfig.builder()
        .server("127.0.0.1", verticle.actualPort())
        .appId(APP)
        .appSecret(SECRET)
        .peerId(peerId)
        .transportFactory(transports)
        .requestTimeout(Duration.ofSeconds(3))
        .connectTimeout(Duration.ofSeconds(10));
  }

  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
