package io.introducer.node;

import static io.introducer.node.IntroducerNodeTest.freePort;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * A node with all its roles starts, and serves a few HTTP requests, without the metrics setup logging a warning.
 *
 * <p>Micrometer reports a gauge registered twice once per JVM as a WARN and at DEBUG after that, so a WARN-only check
 * would pass whenever an earlier test in the same JVM had used up that one WARN: the Micrometer logger is set to DEBUG
 * here and any re-registration report, at any level, fails the test.
 */
class MetricsStartupLogTest {
  private static final String TOKEN = "metrics-log-test-token-0123456789";
  private static final List<String> METRICS_LOGGERS = List.of("io.micrometer", "io.vertx.micrometer",
      "io.introducer.dashboard.metrics");

  private final ListAppender<ILoggingEvent> events = new ListAppender<>();
  private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  private final Logger micrometer = (Logger) LoggerFactory.getLogger("io.micrometer");
  private Level micrometerLevel;
  private IntroducerNode node;

  @BeforeEach
  void capture() {
    micrometerLevel = micrometer.getLevel();
    micrometer.setLevel(Level.DEBUG);
    events.start();
    root.addAppender(events);
  }

  @AfterEach
  void release() throws Exception {
    try {
      if (node != null) {
        node.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
    } finally {
      root.detachAppender(events);
      events.stop();
      micrometer.setLevel(micrometerLevel);
    }
  }

  @Test
  void aNodeStartsAndServesWithoutMetricsWarnings() throws Exception {
    int hz = freePort();
    node = new IntroducerNode(NodeConfig.load(null, Map.of(
        "INTRODUCER_CLUSTER_NAME", "test-" + UUID.randomUUID(),
        "INTRODUCER_CLUSTER_PORT", String.valueOf(hz),
        "INTRODUCER_CLUSTER_PORT_AUTO_INCREMENT", "false",
        "INTRODUCER_CLUSTER_MEMBERS", "127.0.0.1:" + hz,
        "INTRODUCER_CLUSTER_EVENT_BUS_PORT", String.valueOf(freePort()),
        "INTRODUCER_INTRODUCER_PORT", "0",
        "INTRODUCER_RELAY_PORT", "0",
        "INTRODUCER_HTTP_PORT", "0",
        "INTRODUCER_NODE_ROLES", "introducer,relay,dashboard",
        "INTRODUCER_DASHBOARD_ADMIN_TOKEN", TOKEN)));
    node.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);

    // What made vertx-micrometer-metrics register its gauges again: a second event-bus consumer (the roles
    // register several while starting), then every HTTP request and every event-bus message received.
    HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).build();
    for (String path : List.of("/health", "/health", "/readiness", "/api/nodes", "/metrics")) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + node.httpPort() + path))
          .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(path).isEqualTo(200);
    }
    String address = "introducer.metrics-log-test";
    CountDownLatch received = new CountDownLatch(6);
    node.vertx().eventBus().consumer(address, m -> received.countDown()).completion()
        .compose(v -> node.vertx().eventBus().consumer(address, m -> received.countDown()).completion())
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    for (int i = 0; i < 3; i++) {
      node.vertx().eventBus().publish(address, "ping");
    }
    assertThat(received.await(10, TimeUnit.SECONDS)).isTrue();
    String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/metrics"))
        .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString()).body();
    // Vert.x's gauges are all still served.
    assertThat(metrics).contains("vertx_http_server_active_connections").contains("vertx_http_server_active_requests");
    // ... and still count: the node's own consumers and the two above, on the gauge registered once.
    Matcher handlers = Pattern.compile("(?m)^vertx_eventbus_handlers ([0-9.]+)$").matcher(metrics);
    assertThat(handlers.find()).as("vertx_eventbus_handlers in\n%s", metrics).isTrue();
    assertThat(Double.parseDouble(handlers.group(1))).isGreaterThanOrEqualTo(4);

    List<String> problems = events.list.stream()
        .filter(e -> (e.getLevel().isGreaterOrEqual(Level.WARN) && fromMetrics(e.getLoggerName()))
            || e.getFormattedMessage().contains("already registered"))
        .map(e -> e.getLevel() + " " + e.getLoggerName() + " - " + e.getFormattedMessage())
        .toList();
    assertThat(problems).isEmpty();
  }

  private static boolean fromMetrics(String logger) {
    return METRICS_LOGGERS.stream().anyMatch(logger::startsWith);
  }
}
