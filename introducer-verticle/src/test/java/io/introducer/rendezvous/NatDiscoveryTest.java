package io.introducer.rendezvous;

import static io.introducer.rendezvous.Fixtures.eventually;
import static io.introducer.rendezvous.RegistrationTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/** RFC 5780 NAT behaviour discovery on the introducer's Binding (docs/PROTOCOL.md section 6). */
@ExtendWith(VertxExtension.class)
class NatDiscoveryTest {
  private static final String IP1 = "127.0.0.1";
  private static final String IP2 = "127.0.0.2";

  private IntroducerVerticle introducer;
  private TestPeer client;
  private InetSocketAddress p1;
  private InetSocketAddress p2;
  private InetSocketAddress ip2p1;
  private InetSocketAddress ip2p2;

  @BeforeEach
  void deploy(Vertx vertx) throws Exception {
    introducer = Fixtures.deploy(vertx, Fixtures.config().put("alternateHost", IP2));
    client = Fixtures.peer(introducer, "client");
    p1 = new InetSocketAddress(IP1, introducer.actualPort());
    p2 = new InetSocketAddress(IP1, introducer.alternatePort());
    ip2p1 = new InetSocketAddress(IP2, introducer.actualPort());
    ip2p2 = new InetSocketAddress(IP2, introducer.alternatePort());
  }

  @AfterEach
  void close() {
    client.close();
  }

  private static StunMessage.Builder binding() {
    return StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST);
  }

  private static byte[] changeRequest(boolean ip, boolean port) {
    return new byte[] {0, 0, 0, (byte) ((ip ? 4 : 0) | (port ? 2 : 0))};
  }

  private static byte[] responsePort(int port) {
    return new byte[] {(byte) (port >>> 8), (byte) port, 0, 0};
  }

  @Test
  void theAlternatePortDefaultsToAnEphemeralPortOtherThanThePrimary() {
    assertThat(introducer.alternatePort()).isPositive().isNotEqualTo(introducer.actualPort());
  }

  @Test
  void everySocketAnswersWithItsOwnOriginAndTheDiagonallyOppositeOtherAddress() {
    InetSocketAddress[][] pairs = {{p1, ip2p2}, {p2, ip2p1}, {ip2p1, p2}, {ip2p2, p1}};
    for (InetSocketAddress[] pair : pairs) {
      StunMessage.Builder request = binding();
      client.sendTo(request.encode(), pair[0]);

      TestPeer.Received r = client.receiveFrom();

      assertThat(r.message().is(StunMethods.BINDING, StunClass.SUCCESS_RESPONSE)).as("answer of %s", pair[0]).isTrue();
      assertThat(r.message().transactionId()).isEqualTo(request.transactionId());
      assertThat(r.source()).isEqualTo(pair[0]);
      assertThat(r.message().getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(client.address());
      assertThat(r.message().getAddress(StunAttributes.MAPPED_ADDRESS)).isEqualTo(client.address());
      assertThat(r.message().getAddress(StunAttributes.RESPONSE_ORIGIN)).as("origin via %s", pair[0]).isEqualTo(pair[0]);
      assertThat(r.message().getAddress(StunAttributes.OTHER_ADDRESS)).as("other via %s", pair[0]).isEqualTo(pair[1]);
      assertThat(r.message().getString(StunAttributes.SOFTWARE)).isEqualTo("Introducer");
    }
  }

  @Test
  void behindAOneToOneNatThePublicHostIsAdvertised(Vertx vertx) throws Exception {
    IntroducerVerticle natted = Fixtures.deploy(vertx, Fixtures.config().put("publicHost", "198.51.100.1"));
    client.sendTo(binding().encode(), new InetSocketAddress(IP1, natted.actualPort()));

    StunMessage m = client.receiveFrom().message();

    assertThat(m.getAddress(StunAttributes.RESPONSE_ORIGIN))
        .isEqualTo(new InetSocketAddress("198.51.100.1", natted.actualPort()));
    assertThat(m.getAddress(StunAttributes.OTHER_ADDRESS))
        .isEqualTo(new InetSocketAddress("198.51.100.1", natted.alternatePort()));
  }

  @Test
  void changeIpAndPortIsAnsweredFromTheOtherAddress() {
    StunMessage.Builder request = binding().add(StunAttributes.CHANGE_REQUEST, changeRequest(true, true));
    client.sendTo(request.encode(), p1);

    TestPeer.Received r = client.receiveFrom();

    assertThat(r.message().messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
    assertThat(r.source()).isEqualTo(ip2p2);
    assertThat(r.message().getAddress(StunAttributes.RESPONSE_ORIGIN)).isEqualTo(ip2p2);
    assertThat(r.message().getAddress(StunAttributes.OTHER_ADDRESS)).isEqualTo(ip2p2);
    assertThat(r.message().getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).isEqualTo(client.address());
    assertThat(introducer.counters().changeRequests()).isEqualTo(1);
  }

  @Test
  void changePortIsAnsweredFromTheAlternatePortOfTheSameIp() {
    client.sendTo(binding().add(StunAttributes.CHANGE_REQUEST, changeRequest(false, true)).encode(), p1);
    TestPeer.Received fromP1 = client.receiveFrom();
    client.sendTo(binding().add(StunAttributes.CHANGE_REQUEST, changeRequest(false, true)).encode(), ip2p2);
    TestPeer.Received fromIp2P2 = client.receiveFrom();

    assertThat(fromP1.source()).isEqualTo(p2);
    assertThat(fromP1.message().getAddress(StunAttributes.RESPONSE_ORIGIN)).isEqualTo(p2);
    assertThat(fromIp2P2.source()).isEqualTo(ip2p1);
  }

  @Test
  void changeIpIsAnsweredFromTheAlternateIpOnTheSamePort() {
    client.sendTo(binding().add(StunAttributes.CHANGE_REQUEST, changeRequest(true, false)).encode(), p2);

    TestPeer.Received r = client.receiveFrom();

    assertThat(r.source()).isEqualTo(ip2p2);
    assertThat(r.message().getAddress(StunAttributes.RESPONSE_ORIGIN)).isEqualTo(ip2p2);
    assertThat(r.message().getAddress(StunAttributes.OTHER_ADDRESS)).as("of the receiving socket").isEqualTo(ip2p1);
  }

  @Test
  void changeRequestWithoutFlagsIsAnsweredFromTheReceivingSocket() {
    client.sendTo(binding().add(StunAttributes.CHANGE_REQUEST, changeRequest(false, false)).encode(), ip2p1);

    assertThat(client.receiveFrom().source()).isEqualTo(ip2p1);
    assertThat(introducer.counters().changeRequests()).isZero();
  }

  @Test
  void aMalformedChangeRequestIs400() {
    StunMessage.Builder request = binding().add(StunAttributes.CHANGE_REQUEST, new byte[] {4}).fingerprint();
    client.sendTo(request.encode(), p1);

    TestPeer.Received r = client.receiveFrom();

    assertError(r.message(), 400, "bad request: CHANGE-REQUEST");
    assertThat(r.source()).isEqualTo(p1);
  }

  @Test
  void withoutASecondIpChangeIpIs420NamingChangeRequestAndChangePortStillWorks(Vertx vertx) throws Exception {
    IntroducerVerticle single = Fixtures.deploy(vertx, Fixtures.config());
    InetSocketAddress primary = new InetSocketAddress(IP1, single.actualPort());
    InetSocketAddress alternate = new InetSocketAddress(IP1, single.alternatePort());

    client.sendTo(binding().encode(), primary);
    StunMessage plain = client.receiveFrom().message();
    client.sendTo(binding().add(StunAttributes.CHANGE_REQUEST, changeRequest(true, true)).encode(), primary);
    TestPeer.Received refused = client.receiveFrom();
    client.sendTo(binding().add(StunAttributes.CHANGE_REQUEST, changeRequest(false, true)).encode(), primary);
    TestPeer.Received changedPort = client.receiveFrom();

    assertThat(plain.getAddress(StunAttributes.OTHER_ADDRESS)).as("IP1 with P2: a partial answer").isEqualTo(alternate);
    assertThat(plain.getAddress(StunAttributes.RESPONSE_ORIGIN)).isEqualTo(primary);
    assertThat(refused.message().is(StunMethods.BINDING, StunClass.ERROR_RESPONSE)).isTrue();
    assertThat(refused.message().errorCode().code()).isEqualTo(420);
    assertThat(refused.message().unknownAttributes()).containsExactly(StunAttributes.CHANGE_REQUEST);
    assertThat(refused.source()).isEqualTo(primary);
    assertThat(changedPort.source()).isEqualTo(alternate);
  }

  @Test
  void withTheAlternatePortDisabledThereIsNoOtherAddressAndChangePortIs420(Vertx vertx) throws Exception {
    IntroducerVerticle single = Fixtures.deploy(vertx, Fixtures.config().put("alternatePort", -1));
    InetSocketAddress primary = new InetSocketAddress(IP1, single.actualPort());

    client.sendTo(binding().encode(), primary);
    StunMessage plain = client.receiveFrom().message();
    client.sendTo(binding().add(StunAttributes.CHANGE_REQUEST, changeRequest(false, true)).encode(), primary);
    StunMessage refused = client.receiveFrom().message();

    assertThat(single.alternatePort()).isEqualTo(-1);
    assertThat(plain.has(StunAttributes.OTHER_ADDRESS)).isFalse();
    assertThat(plain.getAddress(StunAttributes.RESPONSE_ORIGIN)).isEqualTo(primary);
    assertThat(refused.errorCode().code()).isEqualTo(420);
    assertThat(refused.unknownAttributes()).containsExactly(StunAttributes.CHANGE_REQUEST);
  }

  @Test
  void responsePortSendsTheAnswerToThatPortOfTheSourceIp() throws Exception {
    try (TestPeer receiver = new TestPeer(new InetSocketAddress(IP1, 0), p1, Fixtures.APP, "receiver", Fixtures.SECRET)) {
      StunMessage.Builder request = binding().add(StunAttributes.RESPONSE_PORT, responsePort(receiver.address().getPort()));
      client.sendTo(request.encode(), p1);

      TestPeer.Received r = receiver.receiveFrom();

      assertThat(r.message().transactionId()).isEqualTo(request.transactionId());
      assertThat(r.message().messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
      assertThat(r.message().getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS)).as("the request's source")
          .isEqualTo(client.address());
      assertThat(r.source()).isEqualTo(p1);
      assertThat(introducer.counters().responsePortRedirects()).isEqualTo(1);
      client.assertNothingReceivedBeforeBindingAnswer();
    }
  }

  @Test
  void responsePortCombinesWithChangeRequestAndCarriesErrorsToo(Vertx vertx) throws Exception {
    IntroducerVerticle single = Fixtures.deploy(vertx, Fixtures.config());
    InetSocketAddress primary = new InetSocketAddress(IP1, single.actualPort());
    try (TestPeer receiver = new TestPeer(new InetSocketAddress(IP1, 0), primary, Fixtures.APP, "r", Fixtures.SECRET)) {
      int port = receiver.address().getPort();
      client.sendTo(binding().add(StunAttributes.RESPONSE_PORT, responsePort(port))
          .add(StunAttributes.CHANGE_REQUEST, changeRequest(false, true)).encode(), primary);
      TestPeer.Received changed = receiver.receiveFrom();
      // coturn's turnutils_stunclient waits on the RESPONSE-PORT socket even when the change cannot be made.
      client.sendTo(binding().add(StunAttributes.RESPONSE_PORT, responsePort(port))
          .add(StunAttributes.CHANGE_REQUEST, changeRequest(true, true)).encode(), primary);
      TestPeer.Received refused = receiver.receiveFrom();

      assertThat(changed.source()).isEqualTo(new InetSocketAddress(IP1, single.alternatePort()));
      assertThat(changed.message().messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
      assertThat(refused.message().errorCode().code()).isEqualTo(420);
      assertThat(refused.source()).isEqualTo(primary);
    }
  }

  @Test
  void responsePortIsRefusedWhenTheAnswerWouldExceedTheRequestBy64BytesUnlessTheRequestIsPadded(Vertx vertx)
      throws Exception {
    String longSoftware = "S".repeat(127); // a response of 20 + 4 x 12 + 4 + 128 bytes
    IntroducerVerticle verbose = Fixtures.deploy(vertx, Fixtures.config().put("software", longSoftware));
    InetSocketAddress primary = new InetSocketAddress(IP1, verbose.actualPort());
    try (TestPeer receiver = new TestPeer(new InetSocketAddress(IP1, 0), primary, Fixtures.APP, "r", Fixtures.SECRET)) {
      byte[] rp = responsePort(receiver.address().getPort());
      StunMessage.Builder small = binding().add(StunAttributes.RESPONSE_PORT, rp);
      client.sendTo(small.encode(), primary);
      TestPeer.Received refused = client.receiveFrom();

      StunMessage.Builder padded = binding().add(StunAttributes.RESPONSE_PORT, rp)
          .addString(StunAttributes.SOFTWARE, "p".repeat(120)); // comprehension-optional: pads the request
      client.sendTo(padded.encode(), primary);
      TestPeer.Received accepted = receiver.receiveFrom();

      assertThat(refused.message().transactionId()).isEqualTo(small.transactionId());
      assertThat(refused.message().errorCode().code()).isEqualTo(400);
      assertThat(refused.message().errorCode().reason()).startsWith("bad request: RESPONSE-PORT refused");
      assertThat(accepted.message().transactionId()).as("the padded request's answer is the first the receiver gets")
          .isEqualTo(padded.transactionId());
      assertThat(accepted.message().messageClass()).isEqualTo(StunClass.SUCCESS_RESPONSE);
      assertThat(accepted.message().length()).isLessThanOrEqualTo(padded.encode().length + 64);
      assertThat(verbose.counters().responsePortRedirects()).isEqualTo(1);
    }
  }

  @Test
  void aResponsePortOfZeroIs400ToTheSource() {
    client.sendTo(binding().add(StunAttributes.RESPONSE_PORT, responsePort(0)).encode(), p1);

    TestPeer.Received r = client.receiveFrom();

    assertThat(r.message().errorCode().code()).isEqualTo(400);
    assertThat(r.message().errorCode().reason()).isEqualTo("bad request: RESPONSE-PORT");
  }

  @Test
  void rendezvousRequestsOnAlternateSocketsAreDroppedAndCounted() throws Exception {
    try (TestPeer alice = new TestPeer(new InetSocketAddress(IP1, 0), p2, Fixtures.APP, "alice", Fixtures.SECRET)) {
      alice.send(alice.sign(alice.request(StunMethods.REGISTER)));

      // Binding on the same alternate socket: handled in order, so the REGISTER was handled (and not answered).
      alice.assertNothingReceivedBeforeBindingAnswer();
      eventually("drop counted", () -> introducer.counters().drops("not-primary") == 1);
      assertThat(introducer.registry().size()).isZero();
    }
  }

  @Test
  void eachListeningSocketIsLoggedOnceAtInfo(Vertx vertx) throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(Endpoints.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      IntroducerVerticle four = Fixtures.deploy(vertx, Fixtures.config().put("alternateHost", IP2));

      List<String> lines = appender.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.INFO)
          .map(ILoggingEvent::getFormattedMessage).toList();
      int a = four.actualPort();
      int b = four.alternatePort();
      assertThat(lines).containsExactly(
          "Introducer listening on udp/127.0.0.1:" + a + " (primary)",
          "Introducer listening on udp/127.0.0.1:" + b + " (alternate port)",
          "Introducer listening on udp/127.0.0.2:" + a + " (alternate address)",
          "Introducer listening on udp/127.0.0.2:" + b + " (alternate address and port)");
    } finally {
      logger.detachAppender(appender);
    }
  }

  @Test
  void anExplicitAlternatePortThatIsTakenFailsTheStart(Vertx vertx) throws Exception {
    try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(IP1, 0))) {
      JsonObject config = Fixtures.config().put("alternatePort", taken.getLocalPort());

      Throwable failure = vertx.deployVerticle(new IntroducerVerticle(), new DeploymentOptions().setConfig(config))
          .toCompletionStage().toCompletableFuture().handle((id, e) -> e).get(10, TimeUnit.SECONDS);

      assertThat(failure).as("deployment failure").isNotNull();
      assertThat(failure.getMessage()).contains(String.valueOf(taken.getLocalPort()));
    }
  }

  @Test
  void aDefaultAlternatePortThatIsTakenIsLeftOutWithAWarning(Vertx vertx) throws Exception {
    // The default P2 is port + 2: occupy it, with port + 0 free (a few tries, as other processes take ports too).
    for (int attempt = 0; attempt < 20; attempt++) {
      try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress(IP1, 0))) {
        int port = taken.getLocalPort() - 2;
        if (port < 1024 || !free(port)) {
          continue;
        }
        IntroducerVerticle partial;
        try {
          partial = Fixtures.deploy(vertx, Fixtures.config().put("port", port));
        } catch (Exception raced) {
          continue; // someone took the port between the check and the bind
        }
        assertThat(partial.actualPort()).isEqualTo(port);
        assertThat(partial.alternatePort()).isEqualTo(-1);
        client.sendTo(binding().encode(), new InetSocketAddress(IP1, port));
        assertThat(client.receiveFrom().message().has(StunAttributes.OTHER_ADDRESS)).isFalse();
        return;
      }
    }
    throw new AssertionError("found no free port below an ephemeral one in 20 tries");
  }

  private static boolean free(int port) {
    try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(IP1), port))) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
