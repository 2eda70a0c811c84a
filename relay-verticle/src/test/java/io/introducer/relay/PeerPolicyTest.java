package io.introducer.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which peers a client may reach through the relay (no open relay into private space). */
class PeerPolicyTest {
  private final PeerPolicy defaults = new PeerPolicy(List.of(), Set.of());

  @ParameterizedTest(name = "{0} is refused")
  @ValueSource(strings = {
      "127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1",
      "100.64.0.1", "100.127.255.255", "169.254.169.254", "169.254.0.1", "224.0.0.1", "239.255.255.250",
      "0.0.0.0", "255.255.255.255", "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1",
      "::ffff:10.0.0.1", "::ffff:127.0.0.1"})
  void refusesNonGlobalAddressesByDefault(String ip) throws Exception {
    assertThat(defaults.isAllowed(InetAddress.getByName(ip))).isFalse();
  }

  @ParameterizedTest(name = "{0} is allowed")
  @ValueSource(strings = {"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "192.169.0.1", "2001:4860:4860::8888"})
  void allowsGlobalAddresses(String ip) throws Exception {
    assertThat(defaults.isAllowed(InetAddress.getByName(ip))).isTrue();
  }

  @Test
  void allowPeersOverridesTheDefaultRefusal() throws Exception {
    PeerPolicy p = new PeerPolicy(List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("10.1.0.0/16")), Set.of());
    assertThat(p.isAllowed(InetAddress.getByName("127.0.0.1"))).isTrue();
    assertThat(p.isAllowed(InetAddress.getByName("10.1.2.3"))).isTrue();
    assertThat(p.isAllowed(InetAddress.getByName("10.2.0.1"))).isFalse();
  }

  @Test
  void refusesTheRelaysOwnAddresses() throws Exception {
    InetAddress own = InetAddress.getByName("203.0.113.7");
    PeerPolicy p = new PeerPolicy(List.of(), Set.of(own));
    assertThat(p.isAllowed(own)).isFalse();
    assertThat(p.isAllowed(InetAddress.getByName("203.0.113.8"))).isTrue();
  }
}
