package io.introducer.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class DashboardConfigTest {
  private static JsonObject user(String name, String password) {
    return new JsonObject().put("username", name).put("password", password);
  }

  private static final DashboardConfig DEV = DashboardConfig.fromJson(new JsonObject()
      .put("adminToken", DashboardConfig.DEV_ADMIN_TOKEN)
      .put("users", new JsonArray().add(user("admin", "admin"))));

  @Test
  void theDevelopmentCredentialsAreFineOnLoopbackOnly() {
    for (String host : new String[] {"127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]"}) {
      assertThatCode(() -> DEV.checkExposure(host, true)).as(host).doesNotThrowAnyException();
    }
    for (String host : new String[] {"0.0.0.0", "10.0.0.5", "::", "node1.example.com"}) {
      assertThatThrownBy(() -> DEV.checkExposure(host, true)).as(host)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("refusing to serve HTTP on non-loopback host " + host)
          .hasMessageContaining("INTRODUCER_DASHBOARD_ADMIN_TOKEN");
    }
  }

  @Test
  void anyRemainingDevelopmentCredentialCounts() {
    DashboardConfig ownTokenDevUser = DashboardConfig.fromJson(new JsonObject().put("adminToken", "own-token-123456")
        .put("users", new JsonArray().add(user("admin", "admin"))));
    DashboardConfig devTokenOwnUser = DashboardConfig.fromJson(new JsonObject()
        .put("adminToken", DashboardConfig.DEV_ADMIN_TOKEN).put("users", new JsonArray().add(user("ops", "s3cret!"))));
    DashboardConfig own = DashboardConfig.fromJson(new JsonObject().put("adminToken", "own-token-123456")
        .put("users", new JsonArray().add(user("admin", "a-better-password"))));

    assertThat(ownTokenDevUser.usesDevelopmentCredentials()).isTrue();
    assertThat(devTokenOwnUser.usesDevelopmentCredentials()).isTrue();
    assertThat(own.usesDevelopmentCredentials()).isFalse();
    assertThatCode(() -> own.checkExposure("0.0.0.0", true)).doesNotThrowAnyException();
  }

  @Test
  void aDashboardNeedsSomeoneWhoCanLogIn() {
    DashboardConfig none = DashboardConfig.fromJson(new JsonObject().put("metricsToken", "scrape-only-token"));

    assertThatCode(() -> none.checkExposure("0.0.0.0", false)).as("no dashboard role").doesNotThrowAnyException();
    assertThatThrownBy(() -> none.checkExposure("127.0.0.1", true)).hasMessageContaining("nobody could log in");
  }

  @Test
  void badValuesNameTheirKey() {
    assertThatThrownBy(() -> DashboardConfig.fromJson(new JsonObject().put("adminToken", 5)))
        .hasMessage("dashboard.adminToken must be a string");
    assertThatThrownBy(() -> DashboardConfig.fromJson(new JsonObject().put("users", "admin:admin")))
        .hasMessageStartingWith("dashboard.users must be an array");
    assertThatThrownBy(() -> DashboardConfig.fromJson(new JsonObject()
        .put("users", new JsonArray().add(user("a:b", "pw")))))
        .hasMessageStartingWith("dashboard.users: invalid username \"a:b\"");
    assertThatThrownBy(() -> DashboardConfig.fromJson(new JsonObject()
        .put("users", new JsonArray().add(user("ops", "")))))
        .hasMessage("dashboard.users: password of \"ops\" is empty");
    assertThatThrownBy(() -> DashboardConfig.fromJson(new JsonObject()
        .put("users", new JsonArray().add(user("ops", "x")).add(user("ops", "y")))))
        .hasMessage("dashboard.users: duplicate username \"ops\"");
    assertThatThrownBy(() -> DashboardConfig.fromJson(new JsonObject().put("sessionMinutes", 0)))
        .hasMessage("dashboard.sessionMinutes must be 1-10080, got 0");
  }

  @Test
  void toStringHidesSecrets() {
    assertThat(DEV.toString()).doesNotContain(DashboardConfig.DEV_ADMIN_TOKEN).doesNotContain("admin]=")
        .contains("users=[admin]");
  }
}
