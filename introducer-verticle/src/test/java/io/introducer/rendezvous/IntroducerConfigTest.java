package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

@ExtendWith(VertxExtension.class)
class IntroducerConfigTest {

  @Test
  void absentKeysTakeTheDocumentedDefaults() {
    IntroducerConfig c = IntroducerConfig.fromJson(new JsonObject());

    assertThat(c.host()).isEqualTo("0.0.0.0");
    assertThat(c.port()).isEqualTo(3478);
    assertThat(c.registrationLifetimeSeconds()).isEqualTo(60);
    assertThat(c.punchWindowMillis()).isEqualTo(10_000);
    assertThat(c.maxRegistrations()).isEqualTo(1_000_000);
    assertThat(c.maxSessions()).isEqualTo(100_000);
    assertThat(c.sessionRetentionSeconds()).isEqualTo(3600);
    assertThat(c.software()).isEqualTo("Introducer");
    assertThat(c.apps()).isEmpty();
  }

  @Test
  void everyKeyIsRead() {
    IntroducerConfig c = IntroducerConfig.fromJson(new JsonObject()
        .put("host", "127.0.0.2").put("port", 0).put("registrationLifetimeSeconds", 5).put("punchWindowMillis", 700)
        .put("maxRegistrations", 10).put("maxSessions", 20).put("sessionRetentionSeconds", 30).put("software", "X/1")
        .put("apps", new JsonArray().add(app("a", "s1")).add(app("b", "s2"))));

    assertThat(c).isEqualTo(new IntroducerConfig("127.0.0.2", 0, 5, 700, 10, 20, 30, "X/1",
        java.util.Map.of("a", "s1", "b", "s2")));
    assertThat(c.secret("b")).isEqualTo("s2");
    assertThat(c.secret("c")).isNull();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"port\": 70000}                       | port must be 0-65535",
      "{\"port\": -1}                          | port must be 0-65535",
      "{\"port\": \"3478\"}                    | port must be an integer",
      "{\"port\": 34.5}                        | port must be an integer",
      "{\"host\": \"\"}                        | host must be a non-empty string",
      "{\"host\": 7}                           | host must be a string",
      "{\"registrationLifetimeSeconds\": 0}    | registrationLifetimeSeconds must be 1-86400",
      "{\"punchWindowMillis\": 0}              | punchWindowMillis must be 1-600000",
      "{\"maxRegistrations\": 0}               | maxRegistrations must be at least 1",
      "{\"maxSessions\": -5}                   | maxSessions must be at least 1",
      "{\"sessionRetentionSeconds\": 0}        | sessionRetentionSeconds must be at least 1",
      "{\"maxSessions\": 9999999999}           | maxSessions is out of range",
      "{\"software\": \"\"}                    | software must be 1-127 characters",
      "{\"apps\": {}}                          | apps must be an array",
      "{\"apps\": [\"x\"]}                     | apps: each entry must be an object",
      "{\"apps\": [{\"id\": \"a b\", \"secret\": \"s\"}]} | apps: invalid id \"a b\"",
      "{\"apps\": [{\"secret\": \"s\"}]}                  | apps: id must be a string",
      "{\"apps\": [{\"id\": \"a\", \"secret\": \"\"}]}    | apps: secret of \"a\" is empty",
      "{\"apps\": [{\"id\": \"a\"}]}                      | apps: secret of \"a\" must be a string",
      "{\"apps\": [{\"id\": \"a\", \"secret\": \"s\"}, {\"id\": \"a\", \"secret\": \"t\"}]} | apps: duplicate id \"a\"",
  })
  void badValuesAreRejectedNamingTheKey(String json, String message) {
    assertThatThrownBy(() -> IntroducerConfig.fromJson(new JsonObject(json)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @Test
  void startFailsWithTheValidationError(Vertx vertx, VertxTestContext ctx) {
    vertx.deployVerticle(new IntroducerVerticle(), new DeploymentOptions().setConfig(new JsonObject().put("port", -1)))
        .onComplete(ctx.failing(e -> ctx.verify(() -> {
          assertThat(e).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port");
          ctx.completeNow();
        })));
  }

  @Test
  void toStringDoesNotRevealSecrets() {
    IntroducerConfig c = IntroducerConfig.fromJson(new JsonObject().put("apps", new JsonArray().add(app("g", "hush"))));

    assertThat(c.toString()).contains("g").doesNotContain("hush");
  }

  @ParameterizedTest
  @CsvSource({
      "0.0.0.0,     true",
      "203.0.113.5, true",
      "::,          true",
      "example.org, true",
      "127.0.0.1,   false",
      "127.1.2.3,   false",
      "localhost,   false",
      "::1,         false",
      "[::1],       false",
  })
  void demoSecretIsFlaggedOnlyOffLoopback(String host, boolean exposed) {
    IntroducerConfig c = IntroducerConfig.fromJson(new JsonObject().put("host", host)
        .put("apps", new JsonArray().add(app("demo", "demo-secret"))));

    assertThat(c.exposesDemoSecret()).isEqualTo(exposed);
  }

  @Test
  void demoAppWithItsOwnSecretIsNotFlagged() {
    IntroducerConfig c = IntroducerConfig.fromJson(new JsonObject().put("host", "0.0.0.0")
        .put("apps", new JsonArray().add(app("demo", "a-real-secret"))));

    assertThat(c.exposesDemoSecret()).isFalse();
  }

  private static JsonObject app(String id, String secret) {
    return new JsonObject().put("id", id).put("secret", secret);
  }
}
