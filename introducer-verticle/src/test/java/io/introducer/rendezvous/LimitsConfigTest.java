package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The {@code limits} key and the apps' {@code requireTokens} of {@link IntroducerConfig}. */
class LimitsConfigTest {

  @Test
  void limitsAreOnByDefault() {
    IntroducerConfig.Limits l = IntroducerConfig.fromJson(new JsonObject()).limits();

    assertThat(l).isEqualTo(IntroducerConfig.Limits.DEFAULT);
    assertThat(l.perSourcePerSecond()).isEqualTo(100);
    assertThat(l.perSourceBurst()).isEqualTo(200);
    assertThat(l.maxSources()).isEqualTo(100_000);
    assertThat(l.perAppPerSecond()).isEqualTo(20_000);
    assertThat(l.perAppBurst()).isEqualTo(40_000);
    assertThat(l.introducesPerTargetPerSecond()).isEqualTo(20);
    assertThat(l.introducesPerTargetBurst()).isEqualTo(60);
    assertThat(l.amplificationFactor()).isEqualTo(3);
    assertThat(l.exemptLoopback()).isTrue();
  }

  @Test
  void everyLimitsKeyIsRead() {
    IntroducerConfig c = IntroducerConfig.fromJson(new JsonObject().put("limits", new JsonObject()
        .put("perSourcePerSecond", 1).put("perSourceBurst", 2).put("maxSources", 3).put("perAppPerSecond", 4)
        .put("perAppBurst", 5).put("introducesPerTargetPerSecond", 6).put("introducesPerTargetBurst", 7)
        .put("amplificationFactor", 8).put("exemptLoopback", false)));

    assertThat(c.limits()).isEqualTo(new IntroducerConfig.Limits(1, 2, 3, 4, 5, 6, 7, 8, false));
  }

  @Test
  void aBurstLeftOutFollowsItsRate() {
    IntroducerConfig.Limits l = IntroducerConfig.fromJson(new JsonObject().put("limits", new JsonObject()
        .put("perSourcePerSecond", 7).put("perAppPerSecond", 0).put("introducesPerTargetPerSecond", 2))).limits();

    assertThat(l.perSourceBurst()).isEqualTo(14);
    assertThat(l.perAppBurst()).isEqualTo(1);
    assertThat(l.introducesPerTargetBurst()).isEqualTo(6);
    assertThat(l.amplificationFactor()).isEqualTo(3);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"limits\": 5}                                   | limits must be an object",
      "{\"limits\": {\"perSourcePerSecond\": -1}}        | limits.perSourcePerSecond must be 0 (off)",
      "{\"limits\": {\"perSourceBurst\": 0}}             | limits.perSourceBurst must be at least 1",
      "{\"limits\": {\"perAppPerSecond\": \"many\"}}     | perAppPerSecond must be an integer",
      "{\"limits\": {\"maxSources\": 0}}                 | limits.maxSources must be 1-10000000",
      "{\"limits\": {\"amplificationFactor\": 101}}      | limits.amplificationFactor must be 0 (off) or 1-100",
      "{\"limits\": {\"exemptLoopback\": \"no\"}}        | limits.exemptLoopback must be true or false",
      "{\"limits\": {\"introducesPerTargetBurst\": 0}}   | limits.introducesPerTargetBurst must be at least 1",
      "{\"apps\": [{\"id\": \"a\", \"secret\": \"s\", \"requireTokens\": 1}]} | apps: requireTokens of \"a\" must be true or false",
  })
  void badValuesAreRejectedNamingTheKey(String json, String message) {
    assertThatThrownBy(() -> IntroducerConfig.fromJson(new JsonObject(json)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @Test
  void appsMayRequireTokens() {
    IntroducerConfig c = IntroducerConfig.fromJson(new JsonObject(
        "{\"apps\": [{\"id\": \"a\", \"secret\": \"s\", \"requireTokens\": true}, {\"id\": \"b\", \"secret\": \"t\"},"
            + " {\"id\": \"c\", \"secret\": \"u\", \"requireTokens\": false}]}"));

    assertThat(c.requiresToken("a")).isTrue();
    assertThat(c.requiresToken("b")).isFalse();
    assertThat(c.requiresToken("c")).isFalse();
    assertThat(c.requiresToken("unknown")).isFalse();
    assertThat(c.toString()).contains("tokenApps=[a]").doesNotContain("\"s\"");
  }
}
