package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.introducer.rendezvous.DiscoveryPartners.Partner;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The choice of a node's RFC 5780 partner: deterministic, from the member order and what the nodes published. */
class DiscoveryPartnersTest {
  private static Partner node(String id, String ip, int alternatePort) {
    return new Partner(id, new InetSocketAddress(ip, 3478), alternatePort);
  }

  private static final Partner A = node("a", "192.0.2.1", 3480);
  private static final Partner B = node("b", "192.0.2.2", 3480);
  private static final Partner C = node("c", "192.0.2.3", 3480);

  @Test
  void theNextMemberInOrderWrappingAround() {
    Map<String, Partner> all = Map.of("a", A, "b", B, "c", C);
    List<String> order = List.of("a", "b", "c");

    assertThat(DiscoveryPartners.pick(order, A, all)).isEqualTo(B);
    assertThat(DiscoveryPartners.pick(order, B, all)).isEqualTo(C);
    assertThat(DiscoveryPartners.pick(order, C, all)).isEqualTo(A);
  }

  @Test
  void membersThatCannotServeAreSkipped() {
    Partner sameIp = node("b", "192.0.2.1", 3480);
    Partner noAlternate = node("c", "192.0.2.3", -1);
    Partner v6 = new Partner("d", new InetSocketAddress("2001:db8::4", 3478), 3480);
    Partner e = node("e", "192.0.2.5", 3480);
    Map<String, Partner> all = Map.of("a", A, "b", sameIp, "c", noAlternate, "d", v6, "e", e);

    assertThat(DiscoveryPartners.pick(List.of("a", "b", "c", "d", "e"), A, all)).isEqualTo(e);
    assertThat(DiscoveryPartners.pick(List.of("a", "x", "e"), A, Map.of("a", A, "e", e)))
        .as("a member that published nothing (no introducer role) is skipped").isEqualTo(e);
    assertThat(DiscoveryPartners.pick(List.of("a", "c"), A, Map.of("a", A, "c", C)))
        .isEqualTo(C);
    assertThat(DiscoveryPartners.pick(List.of("a", "e"), A, Map.of("a", A, "c", C, "e", e)))
        .as("a published introducer whose member left is not picked").isEqualTo(e);
  }

  @Test
  void aloneThereIsNoPartner() {
    assertThat(DiscoveryPartners.pick(List.of("a"), A, Map.of("a", A))).isNull();
    assertThat(DiscoveryPartners.pick(List.of("a", "b"), A, Map.of("a", A))).isNull();
  }

  @Test
  void theRecordRoundTripsAndRefusesNames() {
    assertThat(Partner.fromJson("a", A.toJson())).isEqualTo(A);
    assertThat(A.toJson().encode()).isEqualTo("{\"host\":\"192.0.2.1\",\"port\":3478,\"alternatePort\":3480}");
    assertThatThrownBy(() -> Partner.fromJson("a", new JsonObject().put("host", "example.com").put("port", 1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
