package io.introducer.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.config.Config;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class HazelcastSetupTest {

  @Test
  void tcpIpJoinNeverMulticast() {
    Config c = HazelcastSetup.fromJson(new JsonObject().put("name", "t1").put("port", 15701)
        .put("members", new JsonArray().add("127.0.0.1:15701").add("127.0.0.2:15701")));
    assertThat(c.getClusterName()).isEqualTo("t1");
    assertThat(c.getNetworkConfig().getPort()).isEqualTo(15701);
    assertThat(c.getNetworkConfig().getJoin().getMulticastConfig().isEnabled()).isFalse();
    assertThat(c.getNetworkConfig().getJoin().getTcpIpConfig().getMembers())
        .containsExactly("127.0.0.1:15701", "127.0.0.2:15701");
    assertThat(c.getMultiMapConfig("__vertx.subs").getBackupCount()).isEqualTo(1);
  }

  @Test
  void awsJoinUsesTags() {
    Config c = HazelcastSetup.fromJson(new JsonObject().put("join", "aws").put("aws",
        new JsonObject().put("region", "eu-west-1").put("tagKey", "introducer-cluster").put("tagValue", "prod")));
    var aws = c.getNetworkConfig().getJoin().getAwsConfig();
    assertThat(aws.isEnabled()).isTrue();
    assertThat(aws.getProperty("region")).isEqualTo("eu-west-1");
    assertThat(aws.getProperty("tag-value")).isEqualTo("prod");
    assertThat(c.getNetworkConfig().getJoin().getTcpIpConfig().isEnabled()).isFalse();
    assertThat(c.getNetworkConfig().getJoin().getMulticastConfig().isEnabled()).isFalse();
  }

  @Test
  void unknownJoinModeIsRefused() {
    assertThatThrownBy(() -> HazelcastSetup.fromJson(new JsonObject().put("join", "multicast")))
        .hasMessageContaining("cluster.join must be 'tcp-ip' or 'aws'");
  }
}
