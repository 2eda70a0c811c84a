package io.introducer.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class RelayConfigTest {
  private static JsonObject minimal() {
    return new JsonObject().put("host", "127.0.0.1")
        .put("users", new JsonArray().add(new JsonObject().put("username", "u").put("password", "p")));
  }

  @Test
  void defaultsFollowTheRfcAndTheDesign() {
    RelayConfig c = RelayConfig.fromJson(minimal());
    assertThat(c.port()).isEqualTo(3479);
    assertThat(c.relayHost()).isEqualTo("127.0.0.1");
    assertThat(c.publicHost()).isEqualTo("127.0.0.1");
    assertThat(c.minPort()).isEqualTo(49152);
    assertThat(c.maxPort()).isEqualTo(65535);
    assertThat(c.realm()).isEqualTo("introducer");
    assertThat(c.nonceLifetimeSeconds()).isEqualTo(600);
    assertThat(c.defaultLifetimeSeconds()).isEqualTo(600);
    assertThat(c.maxLifetimeSeconds()).isEqualTo(3600);
    assertThat(c.permissionLifetimeSeconds()).isEqualTo(300);
    assertThat(c.channelLifetimeSeconds()).isEqualTo(600);
    assertThat(c.maxAllocationsPerUser()).isEqualTo(10);
    assertThat(c.maxAllocations()).isEqualTo(10_000);
    assertThat(c.bandwidthBytesPerSecond()).isZero();
    assertThat(c.allowPeers()).isEmpty();
    assertThat(c.unauthRatePerSecond()).isEqualTo(20);
    assertThat(c.restSecret()).isNull();
    assertThat(c.maxChannel()).isEqualTo(0x4FFF);
  }

  @Test
  void wildcardRelayHostAdvertisesAConcreteAddress() {
    RelayConfig c = RelayConfig.fromJson(minimal().put("host", "0.0.0.0").put("publicHost", "203.0.113.5"));
    assertThat(c.relayHost()).isEqualTo("0.0.0.0");
    assertThat(c.publicHost()).isEqualTo("203.0.113.5");
  }

  @Test
  void wildcardPublicHostIsRefused() {
    assertThatThrownBy(() -> RelayConfig.fromJson(minimal().put("publicHost", "0.0.0.0")))
        .hasMessageContaining("publicHost must be a concrete address");
  }

  @Test
  void badValuesAreReportedByKey() {
    assertThatThrownBy(() -> RelayConfig.fromJson(minimal().put("port", 70000))).hasMessageContaining("port must be 0-65535");
    assertThatThrownBy(() -> RelayConfig.fromJson(minimal().put("minPort", 60000).put("maxPort", 50000)))
        .hasMessageContaining("minPort 60000 must not exceed maxPort 50000");
    assertThatThrownBy(() -> RelayConfig.fromJson(minimal().put("host", "relay.example.com")))
        .hasMessageContaining("host must be an IP address literal");
    assertThatThrownBy(() -> RelayConfig.fromJson(minimal().put("defaultLifetimeSeconds", 4000)))
        .hasMessageContaining("defaultLifetimeSeconds");
    assertThatThrownBy(() -> RelayConfig.fromJson(minimal().put("allowPeers", new JsonArray().add("10.0.0.0/40"))))
        .hasMessageContaining("allowPeers");
    assertThatThrownBy(() -> RelayConfig.fromJson(minimal().put("port", "3479"))).hasMessageContaining("port must be an integer");
    assertThatThrownBy(() -> RelayConfig.fromJson(minimal().put("legacyChannelRange", "yes")))
        .hasMessageContaining("legacyChannelRange must be true or false");
    assertThatThrownBy(() -> RelayConfig.fromJson(minimal().put("users", new JsonArray()
        .add(new JsonObject().put("username", "u").put("password", "p"))
        .add(new JsonObject().put("username", "u").put("password", "q")))))
        .hasMessageContaining("duplicate username");
  }

  @Test
  void aRelayWithoutAnyCredentialsIsRefused() {
    assertThatThrownBy(() -> RelayConfig.fromJson(new JsonObject().put("host", "127.0.0.1")))
        .hasMessageContaining("users or restSecret must be configured");
    assertThat(RelayConfig.fromJson(new JsonObject().put("host", "127.0.0.1").put("restSecret", "s")).restSecret())
        .isEqualTo("s");
  }

  @Test
  void secretsAreNotPrinted() {
    RelayConfig c = RelayConfig.fromJson(minimal().put("restSecret", "top-secret"));
    assertThat(c.toString()).doesNotContain("top-secret").doesNotContain("=p,").contains("users=[u]");
  }
}
