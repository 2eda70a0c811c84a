package io.introducer.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where datagrams were lost: the kernel's count of datagrams dropped because a socket's receive buffer was full
 * (/proc/net/snmp RcvbufErrors, machine-wide) and the drop counters of given long-lived local ports
 * (/proc/net/udp), so a step's loss can be put on the echo peer, the server's listening socket, or the rest
 * (clients and relayed sockets, which come and go with the step).
 */
final class UdpDrops {
  private UdpDrops() {}

  /** Machine-wide UDP receive-buffer drops, or -1. */
  static long total() {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/net/snmp"));
      String[] names = null;
      for (String l : lines) {
        if (!l.startsWith("Udp:")) {
          continue;
        }
        String[] f = l.trim().split("\\s+");
        if (names == null) {
          names = f;
          continue;
        }
        for (int i = 1; i < f.length && i < names.length; i++) {
          if (names[i].equals("RcvbufErrors")) {
            return Long.parseLong(f[i]);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux
    }
    return -1;
  }

  /** Sum of the drop counters of the sockets bound to local {@code port} (any address), or -1. */
  static long ofPort(int port) {
    long sum = 0;
    try {
      for (String file : List.of("/proc/net/udp", "/proc/net/udp6")) {
        Path p = Path.of(file);
        if (!Files.exists(p)) {
          continue;
        }
        List<String> lines = Files.readAllLines(p);
        for (int i = 1; i < lines.size(); i++) {
          String[] f = lines.get(i).trim().split("\\s+");
          if (f.length < 13) {
            continue;
          }
          String local = f[1];
          int lp = Integer.parseInt(local.substring(local.indexOf(':') + 1), 16);
          if (lp == port) {
            sum += Long.parseLong(f[f.length - 1]);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return sum;
  }
}
