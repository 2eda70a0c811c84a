package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The IPv6 primary socket ({@code host6}): everything is served over IPv6 too. Skipped where ::1 cannot be bound. */
@ExtendWith(VertxExtension.class)
class Ipv6Test {
  private static final String V6 = "::1";

  private IntroducerVerticle introducer;
  private InetSocketAddress primary6;
  private TestPeer six;
  private TestPeer four;

  @BeforeAll
  static void requireIpv6Loopback() {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(V6, 0))) {
      assertThat(s.getLocalPort()).isPositive();
    } catch (IOException e) {
      Assumptions.abort("IPv6 loopback ::1 cannot be bound on this machine (" + e.getMessage()
          + "): the IPv6 tests are skipped");
    }
  }

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    introducer = Fixtures.deploy(vertx, Fixtures.config().put("host6", V6));
    primary6 = new InetSocketAddress(V6, introducer.actualPort6());
    six = new TestPeer(new InetSocketAddress(V6, 0), primary6, Fixtures.APP, "six", Fixtures.SECRET);
    four = Fixtures.peer(introducer, "four");
  }

  @AfterEach
  void close() {
    six.close();
    four.close();
  }

  @Test
  void bindingOverIpv6AnswersWithIpv6Addresses() {
    StunMessage.Builder request = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST);
    six.send(request.encode());

    TestPeer.Received r = six.receiveFrom();

    assertThat(introducer.actualPort6()).isPositive();
    assertThat(r.source()).isEqualTo(primary6);
    assertThat(r.message().getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(six.address());
    assertThat(r.message().getAddress(StunAttributes.RESPONSE_ORIGIN)).isEqualTo(primary6);
    InetSocketAddress other = r.message().getAddress(StunAttributes.OTHER_ADDRESS);
    assertThat(other.getAddress()).isEqualTo(primary6.getAddress());
    assertThat(other.getPort()).isNotEqualTo(primary6.getPort());
  }

  @Test
  void changePortWorksOverIpv6AndChangeIpIs420() {
    six.send(StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST)
        .add(StunAttributes.CHANGE_REQUEST, new byte[] {0, 0, 0, 2}).encode());
    TestPeer.Received changed = six.receiveFrom();
    six.send(StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST)
        .add(StunAttributes.CHANGE_REQUEST, new byte[] {0, 0, 0, 4}).encode());
    TestPeer.Received refused = six.receiveFrom();

    assertThat(changed.source().getAddress()).isEqualTo(primary6.getAddress());
    assertThat(changed.source().getPort()).isNotEqualTo(primary6.getPort());
    assertThat(refused.message().errorCode().code()).isEqualTo(420);
  }

  @Test
  void anIpv6PeerRegistersWithIpv6HostCandidatesAndIsIntroducedOverIpv6() {
    List<Candidate> hosts = new ArrayList<>();
    for (int i = 1; i <= 10; i++) {
      hosts.add(new Candidate(Candidate.Kind.HOST, new InetSocketAddress("2001:db8::" + i, 7000 + i)));
    }
    six.register(hosts.toArray(Candidate[]::new));
    four.register();

    StunMessage answer = four.connect("six");
    TestPeer.Received introduce = six.receiveFrom();

    Registration r = introducer.registry().get(Fixtures.APP, "six").orElseThrow();
    assertThat(r.serverReflexive()).isEqualTo(six.address());
    assertThat(r.hostCandidates()).as("at most 8, in order").isEqualTo(hosts.subList(0, 8));
    assertThat(TraversalTest.candidates(answer).get(0))
        .isEqualTo(new Candidate(Candidate.Kind.SERVER_REFLEXIVE, six.address()));
    assertThat(introduce.message().is(StunMethods.INTRODUCE, StunClass.REQUEST)).isTrue();
    assertThat(introduce.source()).as("from the IPv6 primary socket").isEqualTo(primary6);
    assertThat(introduce.message().verifyIntegritySha256(six.key)).isTrue();
    assertThat(TraversalTest.candidates(introduce.message()))
        .containsExactly(new Candidate(Candidate.Kind.SERVER_REFLEXIVE, four.address()));
  }

  @Test
  void anIpv6PeerCanConnectToAnIpv4One() {
    six.register();
    four.register();

    StunMessage answer = six.connect("four");
    TestPeer.Received introduce = four.receiveFrom();

    assertThat(answer.messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(introduce.source()).isEqualTo(new InetSocketAddress("127.0.0.1", introducer.actualPort()));
    assertThat(TraversalTest.candidates(introduce.message()))
        .containsExactly(new Candidate(Candidate.Kind.SERVER_REFLEXIVE, six.address()));
  }
}
