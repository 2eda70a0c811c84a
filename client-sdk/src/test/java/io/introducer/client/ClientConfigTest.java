package io.introducer.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.introducer.client.transport.UdpTransportFactory;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientConfigTest {

  private static ClientConfig.Builder valid() {
    return ClientConfig.builder().server("127.0.0.1", 3478).appId("game").appSecret("secret").peerId("peer-1");
  }

  @Test
  void defaultsAreTheDocumentedOnes() {
    ClientConfig c = valid().build();
    assertThat(c.servers()).containsExactly(new InetSocketAddress("127.0.0.1", 3478));
    assertThat(c.bindAddress()).isEqualTo(new InetSocketAddress("0.0.0.0", 0));
    assertThat(c.transportFactory()).isInstanceOf(UdpTransportFactory.class);
    assertThat(c.keepaliveInterval()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.requestTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.connectTimeout()).isEqualTo(Duration.ofSeconds(15));
    assertThat(c.callbackExecutor()).isEmpty();
    assertThat(c.probeInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.probeTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.natDiscovery()).isTrue();
    assertThat(valid().natDiscovery(false).build().natDiscovery()).isFalse();
  }

  @Test
  void theAppSecretIsTurnedIntoThePeerKeyOfSection3() {
    assertThat(valid().build().peerKey()).isEqualTo(Rendezvous.peerKey("secret", "game", "peer-1"));
  }

  @Test
  void serversKeepTheirOrderAndTheFirstIsThePrimary() {
    ClientConfig c = valid().server("127.0.0.2", 3479)
        .servers(List.of(new InetSocketAddress("127.0.0.3", 3480))).build();
    assertThat(c.servers()).extracting(InetSocketAddress::getPort).containsExactly(3478, 3479, 3480);
  }

  @Test
  void missingOrInvalidSettingsAreRefusedWithAClearMessage() {
    assertThatThrownBy(() -> ClientConfig.builder().appId("game").appSecret("s").peerId("p").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("introducer server");
    assertThatThrownBy(() -> valid().peerId("has space").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("peerId");
    assertThatThrownBy(() -> valid().appId("").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("appId");
    assertThatThrownBy(() -> valid().peerKey(new byte[32]).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not both");
    assertThatThrownBy(() -> ClientConfig.builder().server("127.0.0.1", 1).appId("g").peerId("p").build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("appSecret or peerKey");
    assertThatThrownBy(() -> ClientConfig.builder().server("127.0.0.1", 1).appId("g").peerId("p")
        .peerKey(new byte[16]).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32 bytes");
    assertThatThrownBy(() -> valid().requestTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("requestTimeout");
    assertThatThrownBy(() -> valid().server("127.0.0.1", 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port");
    assertThatThrownBy(() -> valid().server("no-such-host.invalid", 3478))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot resolve");
    assertThatThrownBy(() -> valid().listener(null)).isInstanceOf(NullPointerException.class).hasMessage("listener");
  }
}
