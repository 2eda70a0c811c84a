package io.introducer.cli;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The peer CLI's command line. Throws IllegalArgumentException with a message fit for the user. */
record CliArgs(List<InetSocketAddress> servers, String app, String secret, String id, InetSocketAddress bind,
    Duration timeout, String command, String target, String send, int count, Duration lifetime, int repeat) {

  static final String USAGE = String.join("\n",
      "Usage: introducer-peer [options] listen",
      "       introducer-peer [options] connect PEER [--send TEXT] [--count N]",
      "       introducer-peer [options] netcheck [--lifetime SECONDS]",
      "",
      "Commands:",
      "  listen          register, accept connections and echo every message back",
      "  connect PEER    register, connect to PEER; with --send, send TEXT (N times) and wait for the echoes",
      "  netcheck        measure this network's NAT against the introducer(s) and print one JSON object:",
      "                  mapping, filtering, allocation, stride, hairpinning, lifetime_s, public, summary",
      "                  (open/moderate/strict), notes; with --lifetime, also wait up to SECONDS (1-60) to",
      "                  estimate how long an idle mapping lives. Needs no app, secret or id.",
      "",
      "Options:",
      "  --server HOST:PORT   introducer address (repeatable; default 127.0.0.1:3478)",
      "  --app ID             application id (default: demo, the development app)",
      "  --secret SECRET      application secret (default: demo-secret)",
      "  --id NAME            this peer's id (default: a random one)",
      "  --bind HOST:PORT     local socket (default 127.0.0.1:0 when every server is loopback, else 0.0.0.0:0)",
      "  --timeout SECONDS    give up after this long (connect default 15; listen default: run until stopped)",
      "  --repeat N           listen or connect N times, one round per line read on standard input (a harness's",
      "                       go signal; stops early at end of input), each round with a fresh client (new socket,",
      "                       NAT discovery, registration) named ID-1 .. ID-N; connect round k connects to PEER-k;",
      "                       a listen round lasts until the next line. Each round first prints a round event.",
      "                       Exits 1 if any round failed",
      "  --help               this text",
      "",
      "Prints one JSON object per line per event: registered, introduced, connected (path, strategy, rtt_ms; after",
      "connect also connect_ms, from the connect call to the open channel), message, closed, error (reason), round;",
      "netcheck prints one. Exits 0 on success, 1 on failure or timeout (netcheck: no answer from the introducer),",
      "2 on bad usage.");

  static CliArgs parse(String[] args) {
    List<InetSocketAddress> servers = new ArrayList<>();
    String app = "demo";
    String secret = "demo-secret";
    String id = null;
    InetSocketAddress bind = null;
    Duration timeout = null;
    String command = null;
    String target = null;
    String send = null;
    int count = 1;
    Duration lifetime = null;
    int repeat = 0;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--server" -> servers.add(hostPort(value(args, ++i, a), a));
        case "--app" -> app = value(args, ++i, a);
        case "--secret" -> secret = value(args, ++i, a);
        case "--id" -> id = value(args, ++i, a);
        case "--bind" -> bind = hostPort(value(args, ++i, a), a);
        case "--timeout" -> timeout = Duration.ofMillis((long) (positive(value(args, ++i, a), a) * 1000));
        case "--send" -> send = value(args, ++i, a);
        case "--count" -> count = (int) positive(value(args, ++i, a), a);
        case "--repeat" -> {
          double n = positive(value(args, ++i, a), a);
          if (n != Math.rint(n) || n > 100_000) {
            throw new IllegalArgumentException("--repeat needs a whole number (1-100000), not '" + args[i] + "'");
          }
          repeat = (int) n;
        }
        case "--lifetime" -> {
          double seconds = positive(value(args, ++i, a), a);
          if (seconds < 1 || seconds > 60) {
            throw new IllegalArgumentException("--lifetime needs 1-60 seconds, not '" + args[i] + "'");
          }
          lifetime = Duration.ofSeconds((long) seconds);
        }
        default -> {
          if (a.startsWith("-")) {
            throw new IllegalArgumentException("unknown option " + a);
          }
          if (command == null) {
            command = a;
          } else if (target == null && "connect".equals(command)) {
            target = a;
          } else {
            throw new IllegalArgumentException("unexpected argument " + a);
          }
        }
      }
    }
    if (command == null) {
      throw new IllegalArgumentException("no command given: listen, connect or netcheck");
    }
    if (!command.equals("listen") && !command.equals("connect") && !command.equals("netcheck")) {
      throw new IllegalArgumentException("unknown command " + command + ": listen, connect or netcheck");
    }
    if (command.equals("connect") && target == null) {
      throw new IllegalArgumentException("connect needs the peer id to connect to");
    }
    if (!command.equals("connect") && send != null) {
      throw new IllegalArgumentException("--send goes with connect");
    }
    if (!command.equals("netcheck") && lifetime != null) {
      throw new IllegalArgumentException("--lifetime goes with netcheck");
    }
    if (command.equals("netcheck") && repeat > 0) {
      throw new IllegalArgumentException("--repeat goes with listen or connect");
    }
    if (servers.isEmpty()) {
      servers.add(new InetSocketAddress("127.0.0.1", 3478));
    }
    if (id == null) {
      id = "peer-" + UUID.randomUUID().toString().substring(0, 8);
    }
    if (bind == null) {
      boolean allLoopback = servers.stream().allMatch(s -> s.getAddress() != null && s.getAddress().isLoopbackAddress());
      bind = new InetSocketAddress(allLoopback ? "127.0.0.1" : "0.0.0.0", 0);
    }
    if (timeout == null && command.equals("connect")) {
      timeout = Duration.ofSeconds(15);
    }
    return new CliArgs(List.copyOf(servers), app, secret, id, bind, timeout, command, target, send, count, lifetime,
        repeat);
  }

  private static String value(String[] args, int i, String option) {
    if (i >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[i];
  }

  private static double positive(String v, String option) {
    try {
      double d = Double.parseDouble(v);
      if (d > 0 && d < 1e7) {
        return d;
      }
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new IllegalArgumentException(option + " needs a positive number, not '" + v + "'");
  }

  static InetSocketAddress hostPort(String v, String option) {
    int colon = v.lastIndexOf(':');
    if (colon <= 0 || colon == v.length() - 1) {
      throw new IllegalArgumentException(option + " needs HOST:PORT, not '" + v + "'");
    }
    String host = v.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(v.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " has a bad port in '" + v + "'");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(option + " port out of range in '" + v + "'");
    }
    InetSocketAddress a = new InetSocketAddress(host, port);
    if (a.isUnresolved()) {
      throw new IllegalArgumentException(option + ": cannot resolve host '" + host + "'");
    }
    return a;
  }
}
