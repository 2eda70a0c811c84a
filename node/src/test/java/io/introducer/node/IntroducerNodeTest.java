package io.introducer.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Starts a real clustered node in-process (Hazelcast TCP-IP on loopback) and talks STUN to it. */
class IntroducerNodeTest {
  private IntroducerNode node;

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void aClusteredNodeAnswersStunBindingOnItsIntroducerPort() throws Exception {
    int hz = freePort();
    NodeConfig config = NodeConfig.load(null, Map.of(
        "INTRODUCER_CLUSTER_NAME", "test-" + UUID.randomUUID(),
        "INTRODUCER_CLUSTER_PORT", String.valueOf(hz),
        "INTRODUCER_CLUSTER_PORT_AUTO_INCREMENT", "false",
        "INTRODUCER_CLUSTER_MEMBERS", "127.0.0.1:" + hz,
        "INTRODUCER_CLUSTER_EVENT_BUS_PORT", String.valueOf(freePort()),
        "INTRODUCER_INTRODUCER_PORT", "0",
        "INTRODUCER_HTTP_PORT", "0",
        "INTRODUCER_RELAY_PORT", "0"));
    node = new IntroducerNode(config);
    node.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    assertThat(node.vertx().isClustered()).isTrue();
    int port = node.introducer().actualPort();

    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + node.httpPort() + "/readiness")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(ready.body()).getJsonObject("cluster").getInteger("members")).isEqualTo(1);
    HttpResponse<String> health = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + node.httpPort() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(node.relay().actualPort()).isPositive();

    try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      socket.setSoTimeout(5000);
      byte[] req = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).fingerprint().encode();
      socket.send(new DatagramPacket(req, req.length, new InetSocketAddress("127.0.0.1", port)));
      DatagramPacket p = new DatagramPacket(new byte[1500], 1500);
      socket.receive(p);
      StunMessage resp = StunMessage.decode(Arrays.copyOf(p.getData(), p.getLength()));
      assertThat(resp.is(StunMethods.BINDING, StunClass.SUCCESS_RESPONSE)).isTrue();
      assertThat(resp.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(socket.getLocalSocketAddress());
    }
  }
}
