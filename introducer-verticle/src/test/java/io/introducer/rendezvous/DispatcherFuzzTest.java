package io.introducer.rendezvous;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Jazzer fuzz targets for everything the introducer does with a datagram ({@link DispatcherHarness}: no exception
 * escapes or is caught as a bug, and nothing is sent anywhere but to the source, another port of its IP for a Binding
 * answer, or a registered peer). Under {@code mvn verify} they replay the corpus in
 * src/test/resources/io/introducer/rendezvous/DispatcherFuzzTestInputs/ (real messages, written by
 * {@link DispatcherFuzzSeeds}); with JAZZER_FUZZ=1 they fuzz (README, Fuzzing).
 */
class DispatcherFuzzTest {
  private static DispatcherHarness harness;

  private static final ch.qos.logback.classic.Logger LOG =
      (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.introducer");
  private static ch.qos.logback.classic.Level level;

  @BeforeAll
  static void start() throws Exception {
    level = LOG.getLevel();
    LOG.setLevel(ch.qos.logback.classic.Level.INFO); // a debug line per dropped datagram would slow fuzzing down
    harness = new DispatcherHarness();
  }

  @AfterAll
  static void stop() {
    harness.close();
    LOG.setLevel(level);
  }

  /** Any datagram, as it arrives. */
  @FuzzTest(maxDuration = "60s")
  void onDatagram(byte[] datagram) {
    harness.feed(datagram);
  }

  /** Rendezvous requests, re-signed, to reach what lies behind MESSAGE-INTEGRITY-SHA256. */
  @FuzzTest(maxDuration = "60s")
  void onSignedRequest(byte[] request) {
    harness.feedSigned(request);
  }
}
