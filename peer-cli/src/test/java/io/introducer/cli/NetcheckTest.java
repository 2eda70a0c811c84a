package io.introducer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.client.NatDiscovery;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.NatProfile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code netcheck}: one JSON object, from a real discovery run against a minimal Binding server. */
class NetcheckTest {

  /** Answers Binding requests with the source address, like a STUN server without RFC 5780 alternates. */
  private static Thread bindingServer(DatagramSocket socket) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[2048];
      while (!socket.isClosed()) {
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
          socket.receive(p);
          StunMessage m = StunMessage.decode(Arrays.copyOf(p.getData(), p.getLength()));
          if (m.is(StunMethods.BINDING, StunClass.REQUEST)) {
            byte[] answer = StunMessage.successFor(m).addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS,
                (InetSocketAddress) p.getSocketAddress()).fingerprint().encode();
            socket.send(new DatagramPacket(answer, answer.length, p.getSocketAddress()));
          }
        } catch (SocketException e) {
          return;
        } catch (Exception e) {
          // not a Binding request: ignore it
        }
      }
    }, "binding-server");
    t.setDaemon(true);
    t.start();
    return t;
  }

  @Test
  void netcheckPrintsOneJsonObjectWithWhatItMeasured() throws Exception {
    try (DatagramSocket server = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      bindingServer(server);
      CliArgs args = CliArgs.parse(new String[] {"--server", "127.0.0.1:" + server.getLocalPort(), "netcheck"});
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      int status = new PeerCli(args, new PrintStream(bytes, true, StandardCharsets.UTF_8)).run();

      List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
      assertThat(status).isZero();
      assertThat(lines).hasSize(1);
      String json = lines.get(0);
      // Loopback: no NAT, so ports are preserved and a packet to one's own address comes back; without
      // OTHER-ADDRESS mapping and filtering cannot be measured.
      assertThat(json).startsWith("{\"event\":\"netcheck\",\"mapping\":\"unknown\",\"filtering\":\"unknown\","
          + "\"allocation\":\"preserving\",\"stride\":0,\"hairpinning\":true,\"lifetime_s\":null,\"public\":[\"127.0.0.1:");
      assertThat(json).contains("\"rfc5780\":false,\"alternate\":null,\"summary\":\"unknown\"")
          .contains("OTHER-ADDRESS");
    }
  }

  @Test
  void netcheckExitsWithOneWhenNobodyAnswers() throws Exception {
    try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      CliArgs args = CliArgs.parse(new String[] {"--server", "127.0.0.1:" + silent.getLocalPort(), "--timeout", "0.3",
          "netcheck"});
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      int status = new PeerCli(args, new PrintStream(bytes, true, StandardCharsets.UTF_8)).run();
      assertThat(status).isEqualTo(1);
      assertThat(bytes.toString(StandardCharsets.UTF_8).lines().toList()).singleElement().asString()
          .contains("\"summary\":\"unknown\"").contains("no answer from");
    }
  }

  @Test
  void theJsonNamesEveryField() {
    NatDiscovery.Result r = new NatDiscovery.Result(new NatProfile(NatProfile.Mapping.APDM, NatProfile.Filtering.APDF,
        NatProfile.Allocation.SEQUENTIAL, 2, NatProfile.Hairpinning.NO, 30),
        List.of(new InetSocketAddress("192.0.2.7", 4000), new InetSocketAddress("192.0.2.7", 4002)), List.of(),
        new InetSocketAddress("198.51.100.2", 3480));
    assertThat(PeerCli.netcheckJson(r).toString()).isEqualTo("{\"event\":\"netcheck\",\"mapping\":\"APDM\","
        + "\"filtering\":\"APDF\",\"allocation\":\"sequential\",\"stride\":2,\"hairpinning\":false,\"lifetime_s\":30,"
        + "\"public\":[\"192.0.2.7:4000\",\"192.0.2.7:4002\"],\"rfc5780\":true,"
        + "\"alternate\":\"198.51.100.2:3480\",\"summary\":\"strict\",\"notes\":[]}");
  }
}
