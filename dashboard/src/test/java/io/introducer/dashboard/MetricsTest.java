package io.introducer.dashboard;

import static io.introducer.dashboard.DashboardFixture.METRICS_TOKEN;
import static io.introducer.dashboard.DashboardFixture.bearer;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.rendezvous.Outcome;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** /metrics: Vert.x's meters and the introducer's own, in Prometheus text, without per-peer labels. */
class MetricsTest {
  private DashboardFixture node;

  @BeforeEach
  void start() throws Exception {
    node = DashboardFixture.start();
  }

  @AfterEach
  void stop() throws Exception {
    node.close();
  }

  private String scrape() throws Exception {
    HttpResponse<String> r = node.get("/metrics", bearer(METRICS_TOKEN));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    return r.body();
  }

  /** The value of the sample named exactly {@code series} (name and labels), or fails. */
  private static double value(String text, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(text);
    assertThat(m.find()).as("series %s in%n%s", series, text).isTrue();
    return Double.parseDouble(m.group(1));
  }

  @Test
  void theIntroducersMetersCountWhatHappened() throws Exception {
    try (UdpPeer alice = node.peer("alice"); UdpPeer bob = node.peer("bob")) {
      alice.register();
      bob.register();
      String session = alice.connect("bob");
      bob.acceptIntroduce();
      alice.report(session, Outcome.CONNECTED_DIRECT, 30, bob.address(), null);
      alice.send(new byte[] {(byte) 0xFF, 1, 2, 3}); // not STUN: dropped
      alice.send(new byte[] {0, 1, 0}); // too short for STUN: dropped as malformed
    }
    // The last datagrams are handled asynchronously: scrape until the drop is counted (bounded).
    String text = scrape();
    for (int i = 0; i < 50 && !text.contains("introducer_drops_total{reason=\"not-stun\"}"); i++) {
      Thread.sleep(50);
      text = scrape();
    }

    assertThat(value(text, "introducer_registrations_total")).isEqualTo(2);
    assertThat(value(text, "introducer_connects_total")).isEqualTo(1);
    assertThat(value(text, "introducer_results_total")).isEqualTo(1);
    assertThat(value(text, "introducer_packets_total{direction=\"in\"}")).isGreaterThanOrEqualTo(6);
    assertThat(value(text, "introducer_packets_total{direction=\"out\"}")).isGreaterThanOrEqualTo(4);
    assertThat(value(text, "introducer_drops_total{reason=\"not-stun\"}")).isEqualTo(1);
    assertThat(value(text, "introducer_registered_peers")).isEqualTo(2);
    assertThat(value(text, "introducer_change_requests_total{outcome=\"forwarded\"}")).isZero(); // single node
    assertThat(value(text, "introducer_sessions{state=\"connected-direct\",strategy=\"simultaneous\"}")).isEqualTo(1);
    assertThat(value(text, "introducer_sessions{state=\"pending\",strategy=\"simultaneous\"}")).isZero();
    // Vert.x's own meters come through the same registry. (The UDP sockets are raw Netty channels for speed, so
    // datagram traffic is metered by the introducer_* and relay_* meters rather than vertx_datagram_*.)
    assertThat(text).contains("vertx_http_server_active_connections").contains("jvm_memory_used_bytes");
    // No per-peer or per-app labels.
    assertThat(text).doesNotContain("alice").doesNotContain("bob").doesNotContain("game");
  }

  @Test
  void errorResponsesAreCountedByCode() throws Exception {
    try (UdpPeer alice = node.peer("alice")) {
      alice.register();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> alice.connect("nobody"))
          .hasMessageContaining("ERROR_RESPONSE");
    }
    assertThat(value(scrape(), "introducer_errors_total{code=\"404\"}")).isEqualTo(1);
  }
}
