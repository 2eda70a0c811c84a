package io.introducer.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class LoginLimitTest {

  @Test
  void tenFailedLoginsFromOneAddressBlockTheNextAttemptsWith429() throws Exception {
    try (DashboardFixture node = DashboardFixture.start()) {
      String wrong = new JsonObject().put("username", DashboardFixture.USER).put("password", "guess").encode();
      for (int i = 0; i < 10; i++) {
        assertThat(node.post("/api/login", wrong).statusCode()).as("attempt %d", i + 1).isEqualTo(401);
      }
      String right = new JsonObject().put("username", DashboardFixture.USER).put("password", DashboardFixture.PASSWORD)
          .encode();
      HttpResponse<String> blocked = node.post("/api/login", right);
      assertThat(blocked.statusCode()).isEqualTo(429);
      assertThat(blocked.headers().firstValue("Retry-After")).hasValueSatisfying(
          v -> assertThat(Integer.parseInt(v)).isBetween(1, 60));
      assertThat(new JsonObject(blocked.body()).getString("error")).isEqualTo("too many failed logins; retry later");
    }
  }
}
