package io.introducer.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.client.NatDiscovery;
import io.introducer.node.NodeProcesses.Node;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.NatProfile;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * RFC 5780 across a cluster (docs/PROTOCOL.md section 6): two node JVMs on 127.0.0.11 and 127.0.0.12, the same
 * introducer ports on both, neither with a second IP of its own. NAT discovery given ONE of them uses the other as
 * the second IP: OTHER-ADDRESS names it and it answers "change IP" for its partner, so mapping and filtering are
 * fully determined; when it leaves, the survivor falls back to its alternate port and answers change-IP with 420.
 */
class ClusterDiscoveryIT {
  private static final String[] IPS = {"127.0.0.11", "127.0.0.12"};
  private final NodeProcesses cluster = new NodeProcesses("cluster-discovery-it-", "it-");
  private List<Node> nodes = List.of();

  @AfterEach
  void stopAll() throws Exception {
    cluster.close();
  }

  /** A UDP port free on every node IP just now. */
  private static int freeUdpOnAll() throws IOException {
    for (int attempt = 0; ; attempt++) {
      try (DatagramSocket a = new DatagramSocket(new InetSocketAddress(IPS[0], 0));
          DatagramSocket b = new DatagramSocket(new InetSocketAddress(IPS[1], a.getLocalPort()))) {
        return b.getLocalPort();
      } catch (IOException e) {
        if (attempt == 20) {
          throw e;
        }
      }
    }
  }

  private void await(String what, int seconds, java.util.function.BooleanSupplier ok) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!ok.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + " not within " + seconds + " s" + NodeProcesses.logTails(nodes));
      }
      Thread.sleep(100);
    }
  }

  /** One Binding request (with CHANGE-REQUEST flags when non-zero) and its answer with its source; null: none. */
  private static Object[] binding(InetSocketAddress to, int changeFlags) throws IOException {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      s.setSoTimeout(1_000);
      StunMessage.Builder b = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST);
      if (changeFlags != 0) {
        b.add(StunAttributes.CHANGE_REQUEST, new byte[] {0, 0, 0, (byte) changeFlags});
      }
      byte[] request = b.encode();
      s.send(new DatagramPacket(request, request.length, to));
      byte[] buf = new byte[2048];
      DatagramPacket p = new DatagramPacket(buf, buf.length);
      try {
        s.receive(p);
      } catch (SocketTimeoutException e) {
        return null;
      }
      return new Object[] {StunMessage.decode(Arrays.copyOf(buf, p.getLength())), p.getSocketAddress()};
    } catch (io.introducer.protocol.StunParseException e) {
      throw new AssertionError(e);
    }
  }

  private static InetSocketAddress otherAddress(InetSocketAddress server) throws IOException {
    Object[] r = binding(server, 0);
    return r == null ? null : ((StunMessage) r[0]).getAddress(StunAttributes.OTHER_ADDRESS);
  }

  @Test
  void oneServerAddressIsEnoughForEveryRfc5780TestWhenAnotherNodeServesAsTheSecondIp() throws Exception {
    long t0 = System.nanoTime();
    int port = freeUdpOnAll();
    int alternatePort = freeUdpOnAll();
    nodes = cluster.nodeEnv((ip, env) -> {
      env.put("INTRODUCER_NODE_ROLES", "introducer");
      env.put("INTRODUCER_INTRODUCER_PORT", String.valueOf(port));
      env.put("INTRODUCER_INTRODUCER_ALTERNATE_PORT", String.valueOf(alternatePort));
    }).create(IPS.length);
    cluster.startAll();
    cluster.awaitReady(nodes, 2, 40);
    long readyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

    InetSocketAddress node1 = new InetSocketAddress(IPS[0], port);
    InetSocketAddress node2Alternate = new InetSocketAddress(IPS[1], alternatePort);
    await("node 1 names node 2 in OTHER-ADDRESS", 10, () -> {
      try {
        return node2Alternate.equals(otherAddress(node1));
      } catch (IOException e) {
        return false;
      }
    });
    long partneredMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

    // What `introducer-peer --server 127.0.0.11:PORT netcheck` runs: discovery against ONE server.
    NatDiscovery.Result r = NatDiscovery.builder().server(node1).bindAddress(new InetSocketAddress("127.0.0.1", 0))
        .timeout(Duration.ofSeconds(3)).build().run();
    System.out.println("[cluster-discovery] nodes ready after " + readyMs + " ms, partnered after " + partneredMs
        + " ms; netcheck against " + IPS[0] + ":" + port + " only: " + r);

    assertThat(r.otherAddress()).as("the other node is the alternate").isEqualTo(node2Alternate);
    assertThat(r.rfc5780()).isTrue();
    assertThat(r.profile().mapping()).as("loopback: no NAT").isEqualTo(NatProfile.Mapping.EIM);
    assertThat(r.profile().filtering()).as("answered from node 2's IP: determined, not unknown")
        .isEqualTo(NatProfile.Filtering.EIF);
    assertThat(r.summary()).isEqualTo(NatProfile.Summary.OPEN);
    assertThat(r.notes()).as("nothing left undetermined").isEmpty();

    // Node 2 leaves: node 1 has no second IP any more.
    nodes.get(1).process().destroy();
    assertThat(nodes.get(1).process().waitFor(20, TimeUnit.SECONDS)).isTrue();
    InetSocketAddress node1Alternate = new InetSocketAddress(IPS[0], alternatePort);
    await("node 1 falls back to its alternate port", 15, () -> {
      try {
        return node1Alternate.equals(otherAddress(node1));
      } catch (IOException e) {
        return false;
      }
    });
    Object[] refused = binding(node1, 0x6);
    assertThat(refused).as("an answer to change IP and port").isNotNull();
    assertThat(((StunMessage) refused[0]).errorCode().code()).isEqualTo(420);
    assertThat(refused[1]).isEqualTo(node1);
    System.out.println("[cluster-discovery] whole test " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)
        + " ms");
  }
}
