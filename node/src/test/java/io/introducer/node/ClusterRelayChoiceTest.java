package io.introducer.node;

import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.RelayRtt;
import io.introducer.rendezvous.RelaySelector;
import io.introducer.rendezvous.Registration;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cluster's relay selector (ClusterState over the replicated relay loads): RTT-aware choice among relays that are
 * not full, least loaded without RTTs, and the relays listed for peers to measure. One Hazelcast member, loopback.
 */
class ClusterRelayChoiceTest {
  static final InetSocketAddress NEAR = new InetSocketAddress("127.0.0.1", 3478);
  static final InetSocketAddress FAR = new InetSocketAddress("127.0.0.1", 3479);
  static final InetSocketAddress FULL = new InetSocketAddress("127.0.0.1", 3480);

  static HazelcastInstance hz;
  static ClusterState state;

  @BeforeAll
  static void start() {
    Config c = new Config().setClusterName("relay-choice-" + UUID.randomUUID());
    c.getNetworkConfig().setPort(16701).setPortAutoIncrement(true);
    c.getNetworkConfig().getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    c.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
    c.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
    c.getNetworkConfig().getJoin().getTcpIpConfig().setEnabled(true).addMember("127.0.0.1");
    c.setProperty("hazelcast.phone.home.enabled", "false");
    hz = Hazelcast.newHazelcastInstance(c);
    state = new ClusterState(hz, Clock.systemUTC());
    long now = System.currentTimeMillis();
    hz.<String, String>getReplicatedMap(ClusterState.RELAYS).put("near", load(NEAR, 80, 100, now));
    hz.<String, String>getReplicatedMap(ClusterState.RELAYS).put("far", load(FAR, 10, 100, now));
    hz.<String, String>getReplicatedMap(ClusterState.RELAYS).put("full", load(FULL, 50, 50, now));
  }

  @AfterAll
  static void stop() {
    if (state != null) {
      state.close();
    }
    if (hz != null) {
      hz.shutdown();
    }
  }

  private static String load(InetSocketAddress a, long allocations, long capacity, long at) {
    return new JsonObject().put("address", "127.0.0.1:" + a.getPort()).put("allocations", allocations)
        .put("capacity", capacity).put("updatedAt", at).encode();
  }

  private static Registration peer(String id, RelayRtt... rtts) {
    Instant now = Instant.now();
    return new Registration("game", id, new InetSocketAddress("198.51.100.1", 40000), List.of(), now,
        now.plusSeconds(60), NatProfile.UNKNOWN, null, 0, List.of(rtts));
  }

  @Test
  void choosesByRttThenLoadAndNeverAFullRelay() {
    RelaySelector selector = state.relaySelector("secret");
    Registration a = peer("a", new RelayRtt(NEAR, 3_000), new RelayRtt(FAR, 40_000), new RelayRtt(FULL, 500));
    Registration b = peer("b", new RelayRtt(NEAR, 9_000), new RelayRtt(FAR, 12_000), new RelayRtt(FULL, 500));

    assertThat(selector.select("game", a, b).orElseThrow().address()).isEqualTo(NEAR);
    assertThat(selector.replacement("game", a, b, Set.of(NEAR)).orElseThrow().address()).isEqualTo(FAR);
    assertThat(selector.select("game", a, peer("c")).orElseThrow().address()).isEqualTo(FAR);
    assertThat(selector.candidates("game")).containsExactly(FAR, NEAR);
    assertThat(state.leastLoaded()).contains(FAR);
  }

  @Test
  void nearEqualRttsGoToTheLessLoadedAndClearlyLowerOnesWinDespiteLoad() {
    RelaySelector selector = state.relaySelector("secret");
    // Worst RTTs 3.5 ms (NEAR, 80 % loaded) and 4 ms (FAR, 10 %): within the 2 ms band, so the load decides.
    Registration a = peer("a", new RelayRtt(NEAR, 3_000), new RelayRtt(FAR, 4_000));
    Registration b = peer("b", new RelayRtt(NEAR, 3_500), new RelayRtt(FAR, 3_000));
    assertThat(selector.select("game", a, b).orElseThrow().address()).isEqualTo(FAR);
    // 3.5 ms against 9 ms: NEAR, loaded as it is.
    Registration c = peer("c", new RelayRtt(NEAR, 3_500), new RelayRtt(FAR, 9_000));
    assertThat(selector.select("game", a, c).orElseThrow().address()).isEqualTo(NEAR);
  }

  @Test
  void keepalivesListTheRelaysOnlyWhenTheyAreNotTheOnesReported() {
    RelaySelector selector = state.relaySelector("secret");
    assertThat(selector.relist("game", List.of(NEAR, FAR))).isEmpty();
    assertThat(selector.relist("game", List.of(FAR, NEAR))).isEmpty();
    // One not measured yet (joined later), or one that is gone or full: the relays to measure, least loaded first.
    assertThat(selector.relist("game", List.of(NEAR))).containsExactly(FAR, NEAR);
    assertThat(selector.relist("game", List.of(NEAR, FAR, FULL))).containsExactly(FAR, NEAR);
    assertThat(selector.relist("game", List.of())).containsExactly(FAR, NEAR);
  }
}
