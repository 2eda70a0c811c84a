package io.introducer.relay;

import static io.introducer.relay.RelayFixture.ALICE;
import static io.introducer.relay.RelayFixture.ALICE_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.ChannelData;
import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.net.DatagramPacket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relay on several event loops ({@code threads}), on Vert.x's native transport where the platform has it (epoll:
 * SO_REUSEPORT listening sockets, recvmmsg): clients spread over the loops, each keeps its allocation, and what is
 * shared (quotas, counters, the allocation list) holds across loops.
 */
class MultiLoopRelayTest {
  private static final Duration WAIT = Duration.ofSeconds(3);
  private static final int CLIENTS = 12;
  private static Vertx vertx;
  private RelayFixture relay;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeAll
  static void vertx() {
    vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(4));
  }

  @AfterAll
  static void closeVertx() throws Exception {
    RelayFixture.await(vertx.close());
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    if (relay != null) {
      relay.close();
    }
  }

  @Test
  void everyClientOfEveryLoopRelaysBothWays() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("threads", 2).put("maxAllocationsPerUser", 100));
    TurnClient.Peer peer = new TurnClient.Peer();
    closeables.add(peer);
    List<TurnClient> clients = new ArrayList<>();
    for (int i = 0; i < CLIENTS; i++) {
      TurnClient c = relay.client();
      closeables.add(c);
      clients.add(c.allocated(ALICE, ALICE_PASSWORD));
      assertThat(c.channelBind(0x4001, peer.address()).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    }
    Set<Integer> relayedPorts = new HashSet<>();
    for (int i = 0; i < CLIENTS; i++) {
      TurnClient c = clients.get(i);
      byte[] out = ("to peer " + i).getBytes(StandardCharsets.UTF_8);
      c.sendChannelData(0x4001, out);
      DatagramPacket got = peer.receive(WAIT);
      assertThat(got).isNotNull();
      assertThat(TurnClient.Peer.payload(got)).isEqualTo(out);
      assertThat(got.getSocketAddress()).isEqualTo(c.relayed);
      relayedPorts.add(c.relayed.getPort());

      byte[] back = ("to client " + i).getBytes(StandardCharsets.UTF_8);
      peer.send(back, c.relayed);
      byte[] frame = c.receive(WAIT);
      assertThat(frame).isNotNull();
      assertThat(ChannelData.decode(frame, 0, frame.length)).isEqualTo(new ChannelData(0x4001, back));
    }
    assertThat(relayedPorts).hasSize(CLIENTS);
    assertThat(relay.allocations()).hasSize(CLIENTS);
    assertThat(relay.counters().packetsToPeer()).isEqualTo(CLIENTS);
    assertThat(relay.counters().packetsToClient()).isEqualTo(CLIENTS);
  }

  @Test
  void theQuotaOfAUserHoldsAcrossLoops() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("threads", 2).put("maxAllocationsPerUser", 3));
    int granted = 0;
    int refused = 0;
    for (int i = 0; i < 8; i++) {
      TurnClient c = relay.client();
      closeables.add(c);
      StunMessage r = c.allocate(ALICE, ALICE_PASSWORD);
      if (r.messageClass() == StunClass.SUCCESS_RESPONSE) {
        granted++;
      } else {
        assertThat(r.errorCode().code()).isEqualTo(ErrorCode.ALLOCATION_QUOTA_REACHED);
        refused++;
      }
    }
    assertThat(granted).isEqualTo(3);
    assertThat(refused).isEqualTo(5);
    assertThat(relay.counters().allocationsActive()).isEqualTo(3);
  }

  @Test
  void moreThreadsThanEventLoopsRunsOnEveryLoop() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("threads", 64));
    TurnClient c = relay.client();
    closeables.add(c);
    assertThat(c.allocate(ALICE, ALICE_PASSWORD).messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
  }
}
