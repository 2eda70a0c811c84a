package io.introducer.relay;

import static io.introducer.relay.RelayFixture.ALICE;
import static io.introducer.relay.RelayFixture.ALICE_PASSWORD;
import static io.introducer.relay.RelayFixture.BOB;
import static io.introducer.relay.RelayFixture.BOB_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.vertx.core.Vertx;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Allocate and Refresh (RFC 8656 sections 6-7) and the relay's quotas, over real UDP on loopback. */
class AllocationTest {
  private static Vertx vertx;
  private RelayFixture relay;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeAll
  static void vertx() {
    vertx = Vertx.vertx();
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

  private TurnClient client() throws Exception {
    TurnClient c = relay.client();
    closeables.add(c);
    return c;
  }

  @Test
  void relayedAddressIsThePublicHostAndAPortFromTheConfiguredRange() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("minPort", 52000).put("maxPort", 52099));
    TurnClient c = client().allocated(ALICE, ALICE_PASSWORD);

    assertThat(c.relayed.getAddress()).isEqualTo(InetAddress.getByName("127.0.0.1"));
    assertThat(c.relayed.getPort()).isBetween(52000, 52099);
    assertThat(relay.allocations()).singleElement().satisfies(a -> {
      assertThat(a.relayed()).isEqualTo("127.0.0.1:" + c.relayed.getPort());
      assertThat(a.client()).isEqualTo("127.0.0.1:" + c.localAddress().getPort());
    });
    assertThat(relay.counters().allocationsCreated()).isEqualTo(1);
    assertThat(relay.counters().allocationsActive()).isEqualTo(1);
  }

  @Test
  void retransmittedAllocateGetsTheSameResponseAndNoSecondAllocation() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = client();
    c.challenge(StunMethods.ALLOCATE);
    c.credentials(ALICE, ALICE_PASSWORD, c.realm);
    byte[] request = c.signed(c.withCredentials(StunMessage.builder(StunMethods.ALLOCATE, StunClass.REQUEST)
        .add(StunAttributes.REQUESTED_TRANSPORT, new byte[] {17, 0, 0, 0})));

    StunMessage first = c.exchange(request);
    StunMessage second = c.exchange(request);

    assertThat(first.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(second.bytes()).isEqualTo(first.bytes());
    assertThat(relay.allocations()).hasSize(1);
    assertThat(relay.counters().allocationsCreated()).isEqualTo(1);
    assertThat(relay.counters().retransmissionsAnswered()).isEqualTo(1);
  }

  @Test
  void secondAllocateWithANewTransactionIs437() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = client().allocated(ALICE, ALICE_PASSWORD);

    StunMessage again = c.allocateNow(b -> { });
    assertThat(again.errorCode().code()).isEqualTo(437);
    assertThat(again.verifyIntegrity(c.key)).isTrue();
    assertThat(relay.allocations()).hasSize(1);
  }

  @Test
  void tcpTransportIsRefused442() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = client();
    c.challenge(StunMethods.ALLOCATE);
    c.credentials(ALICE, ALICE_PASSWORD, c.realm);

    StunMessage r = c.request(StunMethods.ALLOCATE, b -> b.add(StunAttributes.REQUESTED_TRANSPORT, new byte[] {6, 0, 0, 0}));
    assertThat(r.errorCode().code()).isEqualTo(442);
    assertThat(relay.allocations()).isEmpty();
  }

  @Test
  void allocateWithoutRequestedTransportIs400() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = client();
    c.challenge(StunMethods.ALLOCATE);
    c.credentials(ALICE, ALICE_PASSWORD, c.realm);

    assertThat(c.request(StunMethods.ALLOCATE, b -> { }).errorCode().code()).isEqualTo(400);
  }

  @Test
  void unknownComprehensionRequiredAttributeIs420WithUnknownAttributes() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = client();
    c.challenge(StunMethods.ALLOCATE);
    c.credentials(ALICE, ALICE_PASSWORD, c.realm);

    StunMessage r = c.allocateNow(b -> b.add(0x7F01, new byte[] {1, 2, 3, 4}));
    assertThat(r.errorCode().code()).isEqualTo(420);
    assertThat(r.get(StunAttributes.UNKNOWN_ATTRIBUTES)).containsExactly(0x7F, 0x01);
    assertThat(r.verifyIntegrity(c.key)).isTrue();
    assertThat(relay.allocations()).isEmpty();
  }

  @Test
  void perUserQuotaIs486() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("maxAllocationsPerUser", 2));
    client().allocated(ALICE, ALICE_PASSWORD);
    client().allocated(ALICE, ALICE_PASSWORD);

    assertThat(client().allocate(ALICE, ALICE_PASSWORD).errorCode().code()).isEqualTo(486);
    client().allocated(BOB, BOB_PASSWORD); // the quota is per user
    assertThat(relay.allocations()).hasSize(3);
  }

  @Test
  void restCredentialsOfOneUserShareTheQuotaWhateverTheirExpiry() throws Exception {
    MutableClock clock = new MutableClock();
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("maxAllocationsPerUser", 2), clock);
    for (int minutes : new int[] {10, 11}) {
      TurnRestCredentials.Credentials c =
          TurnRestCredentials.mint(RelayFixture.REST_SECRET, "peer-7", Duration.ofMinutes(minutes), clock);
      client().allocated(c.username(), c.password());
    }
    TurnRestCredentials.Credentials third =
        TurnRestCredentials.mint(RelayFixture.REST_SECRET, "peer-7", Duration.ofMinutes(12), clock);
    assertThat(client().allocate(third.username(), third.password()).errorCode().code()).isEqualTo(486);
    TurnRestCredentials.Credentials other =
        TurnRestCredentials.mint(RelayFixture.REST_SECRET, "peer-8", Duration.ofMinutes(12), clock);
    client().allocated(other.username(), other.password());
    assertThat(relay.allocations()).hasSize(3);
  }

  @Test
  void totalCapacityExhaustedIs508() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("maxAllocations", 1));
    client().allocated(ALICE, ALICE_PASSWORD);

    assertThat(client().allocate(BOB, BOB_PASSWORD).errorCode().code()).isEqualTo(508);
  }

  @Test
  void noBindableRelayPortIs508() throws Exception {
    try (DatagramSocket squatter = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      int port = squatter.getLocalPort();
      relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("minPort", port).put("maxPort", port));

      assertThat(client().allocate(ALICE, ALICE_PASSWORD).errorCode().code()).isEqualTo(508);
      assertThat(relay.allocations()).isEmpty();
      assertThat(relay.counters().allocationsActive()).isZero();
    }
  }

  @Test
  void refreshWithZeroLifetimeDeletesTheAllocation() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = client().allocated(ALICE, ALICE_PASSWORD);

    StunMessage r = c.refresh(0);
    assertThat(r.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(r.getU32(StunAttributes.LIFETIME)).isZero();
    assertThat(relay.allocations()).isEmpty();
    assertThat(relay.counters().allocationsDeleted()).isEqualTo(1);
    assertThat(c.refresh(600).errorCode().code()).isEqualTo(437);
  }

  @Test
  void refreshClampsTheLifetimeToTheMaximumAndRaisesShortOnesToTheDefault() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig()
        .put("defaultLifetimeSeconds", 600).put("maxLifetimeSeconds", 3600));
    TurnClient c = client().allocated(ALICE, ALICE_PASSWORD);

    assertThat(c.refresh(86_400).getU32(StunAttributes.LIFETIME)).isEqualTo(3600);
    assertThat(c.refresh(30).getU32(StunAttributes.LIFETIME)).isEqualTo(600);
    assertThat(c.request(StunMethods.REFRESH, b -> { }).getU32(StunAttributes.LIFETIME)).isEqualTo(600);
  }

  @Test
  void allocateClampsTheRequestedLifetime() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig().put("maxLifetimeSeconds", 1200));
    TurnClient c = client();
    c.challenge(StunMethods.ALLOCATE);
    c.credentials(ALICE, ALICE_PASSWORD, c.realm);

    StunMessage r = c.allocateNow(b -> b.addU32(StunAttributes.LIFETIME, 7200));
    assertThat(r.getU32(StunAttributes.LIFETIME)).isEqualTo(1200);
  }

  @Test
  void requestWithoutAnAllocationIs437() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = client();
    c.challenge(StunMethods.REFRESH);
    c.credentials(ALICE, ALICE_PASSWORD, c.realm);

    assertThat(c.refresh(600).errorCode().code()).isEqualTo(437);
    assertThat(c.createPermission(new InetSocketAddress("127.0.0.1", 9)).errorCode().code()).isEqualTo(437);
  }

  @Test
  void allocationExpiresWhenItsLifetimeRunsOut() throws Exception {
    MutableClock clock = new MutableClock();
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig()
        .put("defaultLifetimeSeconds", 5).put("maxLifetimeSeconds", 10), clock);
    TurnClient c = client().allocated(ALICE, ALICE_PASSWORD);
    assertThat(relay.allocations()).hasSize(1);

    clock.advance(Duration.ofSeconds(4));
    assertThat(c.refresh(5).getU32(StunAttributes.LIFETIME)).isEqualTo(5); // refreshed: 5 s from now
    clock.advance(Duration.ofSeconds(4));
    Thread.sleep(100); // several sweeps pass: still alive, 1 s left
    assertThat(relay.allocations()).hasSize(1);

    clock.advance(Duration.ofSeconds(2));
    assertThat(RelayFixture.eventually(Duration.ofSeconds(5), () -> relay.counters().allocationsExpired() == 1)).isTrue();
    assertThat(relay.allocations()).isEmpty();
    assertThat(relay.counters().allocationsActive()).isZero();
    assertThat(c.refresh(5).errorCode().code()).isEqualTo(437);
  }

  @Test
  void expiredAllocationFreesItsQuotaAndPort() throws Exception {
    MutableClock clock = new MutableClock();
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig()
        .put("defaultLifetimeSeconds", 5).put("maxAllocationsPerUser", 1), clock);
    client().allocated(ALICE, ALICE_PASSWORD);
    clock.advance(Duration.ofSeconds(6));
    assertThat(RelayFixture.eventually(Duration.ofSeconds(5), () -> relay.counters().allocationsExpired() == 1)).isTrue();

    client().allocated(ALICE, ALICE_PASSWORD);
  }

  @Test
  void bindingRequestIsAnsweredWithTheMappedAddress() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = client();

    StunMessage r = c.exchange(StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST).encode());
    assertThat(r.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(r.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(c.localAddress());
  }

  @Test
  void evenPortAllocatesAnEvenRelayPortAndReservationIsRefused508() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = client();
    c.challenge(StunMethods.ALLOCATE);
    c.credentials(ALICE, ALICE_PASSWORD, c.realm);
    StunMessage r = c.allocateNow(b -> b.add(StunAttributes.EVEN_PORT, new byte[] {0}));
    assertThat(c.relayed.getPort() % 2).isZero();
    assertThat(r.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);

    TurnClient d = client();
    d.challenge(StunMethods.ALLOCATE);
    d.credentials(BOB, BOB_PASSWORD, d.realm);
    assertThat(d.allocateNow(b -> b.add(StunAttributes.EVEN_PORT, new byte[] {(byte) 0x80})).errorCode().code())
        .isEqualTo(508);
  }

  @Test
  void stoppingTheRelayClosesEveryRelayedPort() throws Exception {
    relay = RelayFixture.start(vertx, RelayFixture.baseConfig());
    TurnClient c = client().allocated(ALICE, ALICE_PASSWORD);
    int port = c.relayed.getPort();
    relay.close();
    relay = null;

    // NIO releases the descriptor on the event loop's next select, so the port frees shortly after.
    assertThat(RelayFixture.eventually(Duration.ofSeconds(5), () -> canBind(port))).isTrue();
  }

  private static boolean canBind(int port) {
    try (DatagramSocket rebind = new DatagramSocket(new InetSocketAddress("127.0.0.1", port))) {
      return rebind.getLocalPort() == port;
    } catch (java.net.SocketException e) {
      return false;
    }
  }
}
