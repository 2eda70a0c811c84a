package io.introducer.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class CidrTest {

  @Test
  void matchesAddressesInsideThePrefixOnly() throws Exception {
    Cidr c = Cidr.parse("100.64.0.0/10");
    assertThat(c.contains(InetAddress.getByName("100.64.0.0"))).isTrue();
    assertThat(c.contains(InetAddress.getByName("100.127.255.255"))).isTrue();
    assertThat(c.contains(InetAddress.getByName("100.128.0.0"))).isFalse();
    assertThat(c.contains(InetAddress.getByName("100.63.255.255"))).isFalse();
  }

  @Test
  void masksHostBitsOfTheNetwork() throws Exception {
    assertThat(Cidr.parse("10.1.2.3/8").network()).isEqualTo(InetAddress.getByName("10.0.0.0"));
  }

  @Test
  void bareAddressIsASingleHostAndZeroPrefixMatchesEverything() throws Exception {
    assertThat(Cidr.parse("192.0.2.1").contains(InetAddress.getByName("192.0.2.1"))).isTrue();
    assertThat(Cidr.parse("192.0.2.1").contains(InetAddress.getByName("192.0.2.2"))).isFalse();
    assertThat(Cidr.parse("0.0.0.0/0").contains(InetAddress.getByName("198.51.100.1"))).isTrue();
  }

  @Test
  void ipv6PrefixesNeverMatchIpv4Addresses() throws Exception {
    Cidr c = Cidr.parse("fe80::/10");
    assertThat(c.contains(InetAddress.getByName("febf::1"))).isTrue();
    assertThat(c.contains(InetAddress.getByName("fec0::1"))).isFalse();
    assertThat(c.contains(InetAddress.getByName("10.0.0.1"))).isFalse();
  }

  @Test
  void refusesNamesAndBadPrefixesWithoutResolvingAnything() {
    assertThatThrownBy(() -> Cidr.parse("example.com/8")).hasMessageContaining("not an IP address literal");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).hasMessageContaining("prefix length must be 0-32");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/x")).hasMessageContaining("bad prefix length");
    assertThatThrownBy(() -> Cidr.parse("")).hasMessageContaining("non-empty");
  }
}
