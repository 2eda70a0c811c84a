package io.introducer.node;

import com.hazelcast.config.AwsConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** Builds the Hazelcast configuration from the node config's {@code cluster} section. Never multicast. */
final class HazelcastSetup {
  private HazelcastSetup() {}

  static Config fromJson(JsonObject cluster) {
    Config config = new Config();
    String name = cluster.getString("name", "introducer");
    if (name.isBlank()) {
      throw new IllegalArgumentException("cluster.name must not be blank");
    }
    config.setClusterName(name);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    // The node's own shutdown hook leaves the Vert.x cluster first; Hazelcast's would race it.
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    // Fail fast when a TCP-IP member list names nodes that are down (default waits far longer).
    config.setProperty("hazelcast.tcp.join.port.try.count", "3");
    // A dead node must be noticed in seconds, not Hazelcast's default minute: its peers re-register elsewhere.
    config.setProperty("hazelcast.heartbeat.interval.seconds", String.valueOf(cluster.getInteger("heartbeatSeconds", 1)));
    config.setProperty("hazelcast.max.no.heartbeat.seconds", String.valueOf(cluster.getInteger("maxNoHeartbeatSeconds", 5)));

    NetworkConfig network = config.getNetworkConfig();
    network.setPort(cluster.getInteger("port", 5701));
    network.setPortAutoIncrement(cluster.getBoolean("portAutoIncrement", true));
    String host = cluster.getString("host", "127.0.0.1");
    if (!host.isBlank()) {
      network.getInterfaces().setEnabled(true).addInterface(host);
      config.setProperty("hazelcast.local.localAddress", host);
      // Hazelcast binds the wildcard address by default; several nodes on one machine need their own addresses.
      config.setProperty("hazelcast.socket.bind.any", "false");
    }

    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    String mode = cluster.getString("join", "tcp-ip");
    switch (mode) {
      case "tcp-ip" -> {
        List<String> members = strings(cluster.getJsonArray("members", new JsonArray()));
        join.getTcpIpConfig().setEnabled(true).setMembers(members.isEmpty() ? List.of(host) : members);
      }
      case "aws" -> {
        JsonObject aws = cluster.getJsonObject("aws", new JsonObject());
        AwsConfig awsConfig = join.getAwsConfig().setEnabled(true);
        putIfSet(awsConfig, "region", aws.getString("region", ""));
        putIfSet(awsConfig, "tag-key", aws.getString("tagKey", ""));
        putIfSet(awsConfig, "tag-value", aws.getString("tagValue", ""));
        putIfSet(awsConfig, "iam-role", aws.getString("iamRole", ""));
        putIfSet(awsConfig, "hz-port", String.valueOf(cluster.getInteger("port", 5701)));
        join.getTcpIpConfig().setEnabled(false);
      }
      default -> throw new IllegalArgumentException("cluster.join must be 'tcp-ip' or 'aws', not '" + mode + "'");
    }

    // What Vert.x's default-cluster.xml sets: its subscription and node maps need a backup to survive a node loss.
    config.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    config.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    config.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    return config;
  }

  private static void putIfSet(AwsConfig aws, String key, String value) {
    if (value != null && !value.isBlank()) {
      aws.setProperty(key, value);
    }
  }

  private static List<String> strings(JsonArray arr) {
    return arr.stream().map(String::valueOf).filter(s -> !s.isBlank()).toList();
  }
}
