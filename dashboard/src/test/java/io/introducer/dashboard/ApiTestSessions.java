package io.introducer.dashboard;

import io.introducer.rendezvous.SessionJson;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** Session JSON as the introducer publishes it, for tests that feed the live path directly. */
final class ApiTestSessions {
  private ApiTestSessions() {}

  static JsonObject json(int i) {
    return SessionJson.toJson(ApiTest.session(i), Instant.now());
  }
}
