package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.introducer.protocol.rendezvous.PunchParams;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.net.InetSocketAddress;
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
    assertThat(c.threads()).isEqualTo(IntroducerConfig.DEFAULT_THREADS).isEqualTo(2);
  }

  @Test
  void threadsIsReadAndBounded() {
    assertThat(IntroducerConfig.fromJson(new JsonObject().put("threads", 1)).threads()).isEqualTo(1);
    assertThat(IntroducerConfig.fromJson(new JsonObject().put("threads", 64)).threads()).isEqualTo(64);
    for (Object bad : new Object[] {0, -1, 65, 2.5, "2"}) {
      assertThatThrownBy(() -> IntroducerConfig.fromJson(new JsonObject().put("threads", bad)))
          .as("threads %s", bad).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("threads");
    }
    assertThat(IntroducerConfig.fromJson(new JsonObject().put("threads", 4)).toString()).contains("threads=4");
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

  @Test
  void traversalKeysTakeTheirDefaults() {
    IntroducerConfig c = IntroducerConfig.fromJson(new JsonObject());

    assertThat(c.alternatePort()).as("3479 is the relay's").isEqualTo(3480);
    assertThat(c.alternatePortOptional()).isTrue();
    assertThat(c.alternateHost()).isNull();
    assertThat(c.publicHost()).isNull();
    assertThat(c.host6()).isNull();
    assertThat(c.punchParams()).isEqualTo(new PunchParams(256, 2048, 1000));
    assertThat(c.predictionWindow()).isEqualTo(16);
    assertThat(c.relay()).isNull();
    assertThat(c.relayCredentialTtlSeconds()).isEqualTo(3600);
    assertThat(IntroducerConfig.fromJson(new JsonObject().put("port", 0)).alternatePort()).as("ephemeral").isZero();
    assertThat(IntroducerConfig.fromJson(new JsonObject().put("port", 65535)).alternatePort()).isEqualTo(65533);
  }

  @Test
  void everyTraversalKeyIsRead() {
    IntroducerConfig c = IntroducerConfig.fromJson(new JsonObject()
        .put("host", "127.0.0.1").put("port", 4000).put("alternatePort", 4001).put("alternateHost", "127.0.0.2")
        .put("publicHost", "198.51.100.1").put("host6", "::1")
        .put("punchParams", new JsonObject().put("socketCount", 32).put("probeCount", 300).put("probesPerSecond", 50))
        .put("predictionWindow", 8)
        .put("relay", new JsonObject().put("address", "[::1]:3479").put("restSecret", "rs").put("credentialTtlSeconds", 90)));

    assertThat(c.alternatePort()).isEqualTo(4001);
    assertThat(c.alternatePortOptional()).isFalse();
    assertThat(c.alternateHost()).isEqualTo("127.0.0.2");
    assertThat(c.advertisedHost().getHostAddress()).isEqualTo("198.51.100.1");
    assertThat(c.host6()).isEqualTo("::1");
    assertThat(c.punchParams()).isEqualTo(new PunchParams(32, 300, 50));
    assertThat(c.predictionWindow()).isEqualTo(8);
    assertThat(c.relay().address()).isEqualTo(new InetSocketAddress("::1", 3479));
    assertThat(c.relay().restSecret()).isEqualTo("rs");
    assertThat(c.relayCredentialTtlSeconds()).isEqualTo(90);
    assertThat(c.toString()).doesNotContain("rs,").contains("restSecret=***");
  }

  @Test
  void aWildcardHostIsNotAdvertised() {
    assertThat(IntroducerConfig.fromJson(new JsonObject()).advertisedHost()).isNull();
    assertThat(IntroducerConfig.fromJson(new JsonObject().put("host", "localhost")).advertisedHost()).isNull();
    assertThat(IntroducerConfig.fromJson(new JsonObject().put("publicHost", "203.0.113.4")).advertisedHost()
        .getHostAddress()).isEqualTo("203.0.113.4");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "{\"alternatePort\": -2}                           | alternatePort must be -1 (disabled), 0 (ephemeral) or a port",
      "{\"alternatePort\": 70000}                        | alternatePort must be -1",
      "{\"port\": 4000, \"alternatePort\": 4000}         | alternatePort must differ from port",
      "{\"host\": \"127.0.0.1\", \"alternateHost\": \"example.org\"} | alternateHost must be an IP literal",
      "{\"alternateHost\": \"127.0.0.2\"}                | alternateHost needs host and alternateHost to be concrete",
      "{\"host\": \"127.0.0.1\", \"alternateHost\": \"127.0.0.1\"}   | alternateHost must differ from host",
      "{\"host\": \"127.0.0.1\", \"alternateHost\": \"::2\"}         | alternateHost must be of the same address family",
      "{\"host\": \"127.0.0.1\", \"alternateHost\": \"300.0.0.2\"}   | alternateHost must be an IP literal",
      "{\"publicHost\": \"0.0.0.0\"}                     | publicHost must be a concrete address",
      "{\"publicHost\": \"2001:db8::1\"}                 | publicHost must be of the same address family",
      "{\"host6\": \"127.0.0.1\"}                        | host6 must be an IPv6 literal",
      "{\"host\": \"::1\", \"host6\": \"::1\"}           | host6 is a second, IPv6 socket next to an IPv4 host",
      "{\"predictionWindow\": 0}                        | predictionWindow must be 1-32",
      "{\"predictionWindow\": 33}                       | predictionWindow must be 1-32",
      "{\"punchParams\": 5}                             | punchParams must be an object",
      "{\"punchParams\": {\"socketCount\": 0}}          | punchParams.socketCount must be 1-65535",
      "{\"punchParams\": {\"probeCount\": 65536}}       | punchParams.probeCount must be 1-65535",
      "{\"punchParams\": {\"probesPerSecond\": 0}}      | punchParams.probesPerSecond must be 1-65535",
      "{\"relay\": \"127.0.0.1:3479\"}                  | relay must be an object",
      "{\"relay\": {\"restSecret\": \"s\"}}             | relay.address must be",
      "{\"relay\": {\"address\": \"127.0.0.1:3479\"}}   | relay.restSecret must be a non-empty string",
      "{\"relay\": {\"address\": \"127.0.0.1\", \"restSecret\": \"s\"}}         | relay.address must be",
      "{\"relay\": {\"address\": \"relay.example.org:3479\", \"restSecret\": \"s\"}} | relay.address must be an IP literal",
      "{\"relay\": {\"address\": \"127.0.0.1:0\", \"restSecret\": \"s\"}}       | relay.address: port must be 1-65535",
      "{\"relay\": {\"address\": \"0.0.0.0:3479\", \"restSecret\": \"s\"}}      | relay.address must be a concrete IP literal",
      "{\"relay\": {\"address\": \"::1:3479\", \"restSecret\": \"s\"}}          | an IPv6 address goes in brackets",
      "{\"relay\": {\"address\": \"127.0.0.1:3479\", \"restSecret\": \"\"}}     | relay.restSecret must be a non-empty string",
      "{\"relay\": {\"address\": \"127.0.0.1:3479\", \"restSecret\": \"s\", \"credentialTtlSeconds\": 10}} | relay.credentialTtlSeconds must be 60-604800",
  })
  void badTraversalValuesAreRejectedNamingTheKey(String json, String message) {
    assertThatThrownBy(() -> IntroducerConfig.fromJson(new JsonObject(json)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  private static JsonObject app(String id, String secret) {
    return new JsonObject().put("id", id).put("secret", secret);
  }
}
