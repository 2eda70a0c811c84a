package io.introducer.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interop with coturn's client, {@code turnutils_uclient} (Debian package coturn; only the client is
 * run, never coturn's server). With {@code -y} the tool's clients are each other's peers, so every
 * message crosses the relay twice. Missing tool: the test fails when CI=true, else it is skipped.
 */
class TurnutilsInteropTest {
  private static final String TOOL = "turnutils_uclient";
  private static final int MESSAGES = 50;
  private static final int CLIENTS = 2;
  private static final Pattern TOTAL_MSGS = Pattern.compile("start_mclient: tot_send_msgs=(\\d+), tot_recv_msgs=(\\d+)");
  private static final Pattern LOST = Pattern.compile("Total lost packets (\\d+)");
  private static Vertx vertx;
  private RelayFixture relay;

  @TempDir
  Path tmp;

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
    if (relay != null) {
      relay.close();
    }
  }

  @Test
  void uclientRelaysEveryMessageOverChannels() throws Exception {
    String tool = requireTool();
    // coturn's client picks channel numbers from RFC 5766's 0x4000-0x7FFF.
    relay = RelayFixture.start(vertx, config().put("legacyChannelRange", true));

    Result r = run(tool, List.of());

    r.assertAllDelivered();
    assertThat(relay.counters().channelsBound()).isPositive();
    assertThat(relay.counters().packetsToPeer()).isGreaterThanOrEqualTo(CLIENTS * MESSAGES);
    assertThat(relay.counters().packetsToClient()).isGreaterThanOrEqualTo(CLIENTS * MESSAGES);
  }

  @Test
  void uclientRelaysEveryMessageOverSendAndDataIndications() throws Exception {
    String tool = requireTool();
    relay = RelayFixture.start(vertx, config());

    Result r = run(tool, List.of("-s"));

    r.assertAllDelivered();
    assertThat(relay.counters().channelsBound()).isZero();
    assertThat(relay.counters().permissionsCreated()).isPositive();
    assertThat(relay.counters().packetsToPeer()).isGreaterThanOrEqualTo(CLIENTS * MESSAGES);
  }

  private static JsonObject config() {
    return RelayFixture.baseConfig()
        .put("users", new JsonArray().add(new JsonObject().put("username", "interop").put("password", "interop-pass")));
  }

  private Result run(String tool, List<String> extra) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(tool,
        "-y",                       // client-to-client: the clients are each other's peers
        "-c",                       // no RTCP allocation (it needs RESERVATION-TOKEN, not offered)
        "-u", "interop", "-w", "interop-pass",
        "-p", Integer.toString(relay.port()),
        "-m", Integer.toString(CLIENTS),
        "-n", Integer.toString(MESSAGES),
        "-l", "120",
        "-z", "5"));
    cmd.addAll(extra);
    cmd.add("127.0.0.1");
    Path log = tmp.resolve("uclient.log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean exited = p.waitFor(45, TimeUnit.SECONDS);
    if (!exited) {
      p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
    String out = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(exited).as("%s did not finish in 45 s; output:%n%s", TOOL, out).isTrue();
    assertThat(p.exitValue()).as("%s exit code; output:%n%s", TOOL, out).isZero();
    return new Result(out);
  }

  private record Result(String output) {
    void assertAllDelivered() {
      long[] totals = last(TOTAL_MSGS, 2);
      long[] lost = last(LOST, 1);
      assertThat(totals).as("no message totals in output:%n%s", output).isNotNull();
      assertThat(lost).as("no lost-packet total in output:%n%s", output).isNotNull();
      assertThat(totals[0]).as("messages sent; output:%n%s", output).isEqualTo((long) CLIENTS * MESSAGES);
      assertThat(totals[1]).as("messages received; output:%n%s", output).isEqualTo(totals[0]);
      assertThat(lost[0]).as("lost packets; output:%n%s", output).isZero();
    }

    /** The numeric groups of the last match of {@code p} (the tool prints running totals), or null. */
    private long[] last(Pattern p, int groups) {
      long[] found = null;
      Matcher m = p.matcher(output);
      while (m.find()) {
        found = new long[groups];
        for (int g = 0; g < groups; g++) {
          found[g] = Long.parseLong(m.group(g + 1));
        }
      }
      return found;
    }
  }

  private static String requireTool() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      File f = new File(dir, TOOL);
      if (f.isFile() && f.canExecute()) {
        return f.getAbsolutePath();
      }
    }
    String msg = TOOL + " not found on PATH: install the Debian package coturn (apt-get install -y coturn) to run TURN interop";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      throw new AssertionError(msg);
    }
    // Outside CI a developer without coturn's client tools gets a skip with the reason; CI installs them and fails above.
    Assumptions.assumeTrue(false, msg);
    return null;
  }
}
