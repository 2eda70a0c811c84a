package io.introducer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code --repeat}: one round per line of standard input, each with a fresh client named ID-k. */
class RepeatTest {

  @Test
  void eachLineStartsARoundWithAFreshlyNamedClientAndEndOfInputStops() throws Exception {
    try (DatagramSocket silent = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
      // Nobody answers, so each round's registration fails after the 1 s minimum; three rounds asked, two lines given.
      CliArgs args = CliArgs.parse(new String[] {"--server", "127.0.0.1:" + silent.getLocalPort(), "--id", "alice",
          "--timeout", "0.3", "--repeat", "3", "connect", "bob"});
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      int status = new PeerCli(args, new PrintStream(bytes, true, StandardCharsets.UTF_8),
          new BufferedReader(new StringReader("go\ngo\n"))).run();

      List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
      assertThat(status).as("a failed round fails the run").isEqualTo(1);
      assertThat(lines).hasSize(4);
      assertThat(lines.get(0)).isEqualTo("{\"event\":\"round\",\"round\":1,\"peer\":\"alice-1\"}");
      assertThat(lines.get(1)).contains("\"event\":\"error\"").contains("register failed");
      assertThat(lines.get(2)).isEqualTo("{\"event\":\"round\",\"round\":2,\"peer\":\"alice-2\"}");
      assertThat(lines.get(3)).contains("\"event\":\"error\"");
    }
  }

  @Test
  void noInputMeansNoRound() {
    CliArgs args = CliArgs.parse(new String[] {"--server", "127.0.0.1:9", "--id", "bob", "--repeat", "5", "listen"});
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int status = new PeerCli(args, new PrintStream(bytes, true, StandardCharsets.UTF_8),
        new BufferedReader(new StringReader(""))).run();
    assertThat(status).isZero();
    assertThat(bytes.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void millisecondsKeepTwoDecimals() {
    assertThat(PeerCli.millis(1_234_567)).isEqualTo(1.23);
    assertThat(PeerCli.millis(15_000_000_000L)).isEqualTo(15000.0);
  }
}
