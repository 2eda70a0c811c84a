package io.introducer.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigTest {

  @Test
  void envNamesAreUpperSnakeOfTheKeyPath() {
    assertThat(NodeConfig.envName("introducer.port")).isEqualTo("INTRODUCER_INTRODUCER_PORT");
    assertThat(NodeConfig.envName("cluster.eventBusPort")).isEqualTo("INTRODUCER_CLUSTER_EVENT_BUS_PORT");
    assertThat(NodeConfig.envName("node.bindHost")).isEqualTo("INTRODUCER_NODE_BIND_HOST");
    assertThat(NodeConfig.envName("apps")).isEqualTo("INTRODUCER_APPS");
  }

  @Test
  void embeddedDefaultsRunOnLoopbackWithTheDemoApp() throws Exception {
    NodeConfig c = NodeConfig.load(null, Map.of());
    assertThat(c.bindHost()).isEqualTo("127.0.0.1");
    assertThat(c.section("introducer").getInteger("port")).isEqualTo(3478);
    assertThat(c.section("cluster").getString("join")).isEqualTo("tcp-ip");
    assertThat(c.apps().getJsonObject(0).getString("id")).isEqualTo("demo");
    assertThat(c.roles()).containsExactly(Role.INTRODUCER, Role.RELAY, Role.DASHBOARD);
    assertThat(c.appliedOverrides()).isEmpty();
  }

  @Test
  void everyLeafKeyCanBeOverriddenFromTheEnvironment() throws Exception {
    NodeConfig c = NodeConfig.load(null, Map.of(
        "INTRODUCER_INTRODUCER_PORT", "4478",
        "INTRODUCER_CLUSTER_EVENT_BUS_PORT", "18001",
        "INTRODUCER_CLUSTER_ENABLED", "false",
        "INTRODUCER_NODE_BIND_HOST", "127.0.0.2",
        "INTRODUCER_CLUSTER_AWS_TAG_VALUE", "prod",
        "INTRODUCER_CLUSTER_MEMBERS", "127.0.0.1:5701, 127.0.0.2:5701"));
    assertThat(c.section("introducer").getInteger("port")).isEqualTo(4478);
    assertThat(c.section("cluster").getInteger("eventBusPort")).isEqualTo(18001);
    assertThat(c.section("cluster").getBoolean("enabled")).isFalse();
    assertThat(c.bindHost()).isEqualTo("127.0.0.2");
    assertThat(c.section("cluster").getJsonObject("aws").getString("tagValue")).isEqualTo("prod");
    assertThat(c.section("cluster").getJsonArray("members"))
        .isEqualTo(new JsonArray().add("127.0.0.1:5701").add("127.0.0.2:5701"));
    assertThat(c.appliedOverrides()).hasSize(6);
  }

  @Test
  void wholeSectionsAndArraysTakeJson() throws Exception {
    NodeConfig c = NodeConfig.load(null, Map.of("INTRODUCER_APPS", "[{\"id\":\"game\",\"secret\":\"s3cret\"}]"));
    assertThat(c.apps().getJsonObject(0).getString("id")).isEqualTo("game");
  }

  @Test
  void aNonNumberForANumericKeyIsAClearError() {
    assertThatThrownBy(() -> NodeConfig.load(null, Map.of("INTRODUCER_INTRODUCER_PORT", "eighty")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("INTRODUCER_INTRODUCER_PORT")
        .hasMessageContaining("introducer.port");
  }

  @Test
  void aFileIsDeepMergedOverTheDefaultsAndEnvWinsOverTheFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("node.json");
    Files.writeString(f, "{\"introducer\": {\"port\": 5000}, \"cluster\": {\"name\": \"from-file\"}}");
    NodeConfig c = NodeConfig.load(f, Map.of("INTRODUCER_CLUSTER_NAME", "from-env"));
    assertThat(c.section("introducer").getInteger("port")).isEqualTo(5000);
    assertThat(c.section("introducer").getInteger("registrationLifetimeSeconds")).isEqualTo(60);
    assertThat(c.section("cluster").getString("name")).isEqualTo("from-env");
  }

  @Test
  void aBrokenFileIsAClearError(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("bad.json");
    Files.writeString(f, "{ not json");
    assertThatThrownBy(() -> NodeConfig.load(f, Map.of()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not valid JSON");
  }

  @Test
  void unknownRolesAndEmptyRolesAreRefused() throws Exception {
    assertThatThrownBy(() -> NodeConfig.load(null, Map.of("INTRODUCER_NODE_ROLES", "teleporter")).roles())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown role 'teleporter'");
    assertThatThrownBy(() -> NodeConfig.load(null, Map.of("INTRODUCER_NODE_ROLES", "[]")).roles())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
  }

  @Test
  void commandLineTakesAFileOrHelp(@TempDir Path dir) throws Exception {
    Path f = Files.writeString(dir.resolve("n.json"), "{}");
    assertThat(IntroducerNode.parseArgs(new String[] {}).confFile()).isNull();
    assertThat(IntroducerNode.parseArgs(new String[] {f.toString()}).confFile()).isEqualTo(f);
    assertThat(IntroducerNode.parseArgs(new String[] {"--conf", f.toString()}).confFile()).isEqualTo(f);
    assertThat(IntroducerNode.parseArgs(new String[] {"--help"}).help()).isTrue();
    assertThatThrownBy(() -> IntroducerNode.parseArgs(new String[] {"--bogus"}))
        .hasMessageContaining("unknown option --bogus");
    assertThatThrownBy(() -> IntroducerNode.parseArgs(new String[] {dir.resolve("missing.json").toString()}))
        .hasMessageContaining("cannot read config file");
    assertThat(IntroducerNode.usage()).contains("INTRODUCER_INTRODUCER_PORT");
  }
}
