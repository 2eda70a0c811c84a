package io.introducer.rendezvous;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Interop: coturn's STUN client (Debian package coturn) must read our Binding answers. */
@ExtendWith(VertxExtension.class)
class CoturnInteropTest {
  private static final String TOOL = "turnutils_stunclient";

  @Test
  void coturnStunClientSeesItsLoopbackMappedAddress(Vertx vertx) throws Exception {
    Path tool = requireTool();
    IntroducerVerticle introducer = Fixtures.deploy(vertx, Fixtures.config());

    String output = run(tool, introducer.actualPort());

    assertThat(output).as("%s output", TOOL).contains("UDP reflexive addr: 127.0.0.1:");
    assertThat(introducer.counters().bindings()).isPositive();
  }

  /**
   * With OTHER-ADDRESS in the answer, turnutils_stunclient runs its RFC 5780 tests: a change of IP and port with
   * RESPONSE-PORT (it then waits on that port, without a timeout), then one with PADDING (answered 420).
   */
  @Test
  void coturnStunClientRunsItsRfc5780TestsAgainstBothAddresses(Vertx vertx) throws Exception {
    Path tool = requireTool();
    IntroducerVerticle introducer = Fixtures.deploy(vertx, Fixtures.config().put("alternateHost", "127.0.0.2"));

    String output = run(tool, introducer.actualPort());

    assertThat(output).as("%s output", TOOL).contains("RFC 5780 response 2")
        .contains("Other addr: : 127.0.0.2:" + introducer.alternatePort())
        .contains("Response origin: : 127.0.0.2:" + introducer.alternatePort());
    assertThat(introducer.counters().changeRequests()).isPositive();
    assertThat(introducer.counters().responsePortRedirects()).isPositive();
  }

  private static Path requireTool() {
    Optional<Path> tool = onPath(TOOL);
    if (tool.isEmpty()) {
      if ("true".equals(System.getenv("CI"))) {
        fail(TOOL + " is not on PATH: CI must install the Debian package coturn (apt-get install -y coturn)");
      }
      Assumptions.abort(TOOL + " not on PATH; install coturn (apt-get install -y coturn) to run this interop test");
    }
    return tool.get();
  }

  private static String run(Path tool, int port) throws Exception {
    Process p = new ProcessBuilder(tool.toString(), "-p", String.valueOf(port), "127.0.0.1")
        .redirectErrorStream(true)
        .start();
    boolean exited = p.waitFor(20, TimeUnit.SECONDS);
    if (!exited) {
      p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
    String output;
    try {
      output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      output = "(output lost: " + e.getMessage() + ")";
    }
    assertThat(exited).as("%s finished; output:%n%s", TOOL, output).isTrue();
    return output;
  }

  private static Optional<Path> onPath(String name) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir, name);
      if (!dir.isEmpty() && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }
}
