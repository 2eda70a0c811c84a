package io.introducer.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Child processes of the harness: started with their output in a file, ended by PID, CPU time read from /proc. */
final class Procs {
  private Procs() {}

  static Process start(List<String> cmd, Path log) throws IOException {
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /** SIGTERM to this PID, then SIGKILL after {@code graceMillis}. Only ever a process the harness started. */
  static void kill(Process p, long graceMillis) {
    if (p == null || !p.isAlive()) {
      return;
    }
    p.destroy();
    try {
      if (!p.waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
  }

  /** User + system CPU time of {@code pid} (all its threads) in milliseconds, or -1. */
  static long cpuMillis(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"), StandardCharsets.US_ASCII);
      // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      return ticks * 10; // USER_HZ is 100 on Linux
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Waits until {@code log} contains {@code marker}; false after {@code timeoutMillis} or when {@code p} died. */
  static boolean awaitLine(Process p, Path log, String marker, long timeoutMillis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (System.currentTimeMillis() < deadline) {
      try {
        if (Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(marker)) {
          return true;
        }
      } catch (IOException e) {
        // not yet readable
      }
      if (!p.isAlive()) {
        return false;
      }
      Thread.sleep(100);
    }
    return false;
  }
}
