package io.introducer.natlab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.introducer.natlab.NatLab.Host;
import io.introducer.natlab.NatLab.NatType;
import io.introducer.natlab.NatLab.Proc;
import io.introducer.natlab.NatLab.Router;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Peers behind real Linux NAT (iptables in network namespaces) connect through a node on the "internet". */
class KernelNatIT {
  private NatLab lab;

  @BeforeAll
  static void requireLab() {
    String reason = NatLab.unavailableReason();
    if (reason != null && "true".equals(System.getenv("CI"))) {
      fail("natlab must run in CI: " + reason);
    }
    Assumptions.assumeTrue(reason == null, () -> "skipping kernel NAT tests: " + reason);
  }

  @BeforeEach
  void createLab() throws Exception {
    lab = NatLab.create();
    lab.startNode(Map.of());
  }

  @AfterEach
  void destroyLab() {
    if (lab != null) {
      lab.close();
    }
  }

  private static void assertConnectsDirectly(NatLab lab, Host listener, Host connector) throws Exception {
    Proc bob = lab.peer(listener, "--id", "bob", "listen");
    bob.await("\"event\":\"registered\"", 30);
    Proc alice = lab.peer(connector, "--id", "alice", "connect", "bob", "--send", "through-the-nat", "--timeout", "20");
    String connected = alice.await("\"event\":\"connected\"", 30);
    assertThat(connected).contains("\"path\":\"direct\"");
    assertThat(alice.await("\"event\":\"message\"", 20)).contains("through-the-nat");
    assertThat(alice.waitFor(20)).as("alice's exit status").isZero();
    assertThat(bob.await("\"event\":\"message\"", 10)).contains("through-the-nat");
  }

  @Test
  void easyToEasyConnectsDirectly() throws Exception {
    Host a = lab.addHost(lab.addRouter(NatType.EASY));
    Host b = lab.addHost(lab.addRouter(NatType.EASY));
    assertConnectsDirectly(lab, b, a);
  }

  @Test
  void registeredPublicAddressIsTheRoutersWanAddress() throws Exception {
    Router r = lab.addRouter(NatType.EASY);
    Proc p = lab.peer(lab.addHost(r), "--id", "solo", "listen");
    assertThat(p.await("\"event\":\"registered\"", 30)).contains("\"public\":\"" + r.wanIp() + ":");
  }

  @Test
  void twoPeersOnOneLanWithoutHairpinningConnectOverTheLan() throws Exception {
    Router r = lab.addRouter(NatType.EASY);
    Host a = lab.addHost(r);
    Host b = lab.addHost(r);
    Proc bob = lab.peer(b, "--id", "bob", "listen");
    bob.await("\"event\":\"registered\"", 30);
    Proc alice = lab.peer(a, "--id", "alice", "connect", "bob", "--send", "lan", "--timeout", "20");
    String connected = alice.await("\"event\":\"connected\"", 30);
    assertThat(connected).contains("\"path\":\"direct\"").contains("\"remote\":\"" + b.ip() + ":");
    assertThat(alice.waitFor(20)).isZero();
  }

  @Test
  void easyToEasyConnectsDespiteTenPercentLossOnBothRouters() throws Exception {
    Router ra = lab.addRouter(NatType.EASY);
    Router rb = lab.addRouter(NatType.EASY);
    lab.addLoss(ra, 10);
    lab.addLoss(rb, 10);
    Proc bob = lab.peer(lab.addHost(rb), "--id", "bob", "listen");
    bob.await("\"event\":\"registered\"", 30);
    // Data is unreliable by design (UDP), so only the connection, which retransmits, is asserted here.
    Proc alice = lab.peer(lab.addHost(ra), "--id", "alice", "connect", "bob", "--timeout", "20");
    assertThat(alice.await("\"event\":\"connected\"", 30)).contains("\"path\":\"direct\"");
    assertThat(alice.waitFor(20)).isZero();
  }

  @Test
  void hardToHardConnectsThroughTheRelay() throws Exception {
    Host a = lab.addHost(lab.addRouter(NatType.HARD));
    Host b = lab.addHost(lab.addRouter(NatType.HARD));
    Proc bob = lab.peer(b, "--id", "bob", "listen");
    bob.await("\"event\":\"registered\"", 30);
    Proc alice = lab.peer(a, "--id", "alice", "connect", "bob", "--send", "via-relay", "--timeout", "40");
    assertThat(alice.await("\"event\":\"connected\"", 45)).contains("\"path\":\"relay\"");
    assertThat(alice.await("\"event\":\"message\"", 20)).contains("via-relay");
    assertThat(alice.waitFor(20)).isZero();
  }

  @Test
  void easyToHardConnectsDirectlyByTheBirthdayTechnique() throws Exception {
    Host easy = lab.addHost(lab.addRouter(NatType.EASY));
    Host hard = lab.addHost(lab.addRouter(NatType.HARD));
    Proc bob = lab.peer(hard, "--id", "bob", "listen");
    bob.await("\"event\":\"registered\"", 30);
    Proc alice = lab.peer(easy, "--id", "alice", "connect", "bob", "--send", "birthday", "--timeout", "30");
    String connected = alice.await("\"event\":\"connected\"", 35);
    assertThat(connected).contains("\"path\":\"direct\"").contains("\"strategy\":\"birthday\"");
    assertThat(alice.await("\"event\":\"message\"", 20)).contains("birthday");
    assertThat(alice.waitFor(20)).isZero();
  }

  @Test
  void netcheckClassifiesMasqueradeAsModerateAndRandomFullyAsStrict() throws Exception {
    Proc easy = lab.peer(lab.addHost(lab.addRouter(NatType.EASY)), "netcheck");
    String e = easy.await("\"summary\"", 30);
    assertThat(e).contains("\"mapping\":\"EIM\"").contains("\"filtering\":\"APDF\"")
        .contains("\"summary\":\"moderate\"");
    Proc hard = lab.peer(lab.addHost(lab.addRouter(NatType.HARD)), "netcheck");
    String h = hard.await("\"summary\"", 30);
    assertThat(h).contains("\"mapping\":\"APDM\"").contains("\"allocation\":\"random\"")
        .contains("\"summary\":\"strict\"");
  }
}
