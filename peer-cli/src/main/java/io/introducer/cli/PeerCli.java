package io.introducer.cli;

import io.introducer.client.ClientConfig;
import io.introducer.client.ClientListener;
import io.introducer.client.ConnectException;
import io.introducer.client.IntroducerClient;
import io.introducer.client.NatDiscovery;
import io.introducer.client.PeerChannel;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.Strategy;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** bin/introducer-peer: a demo and diagnostics peer built on the client SDK. */
public final class PeerCli {
  private final CliArgs args;
  private final PrintStream out;
  private final BufferedReader in;
  /** The client of the current round, which the shutdown hook closes. */
  private final AtomicReference<IntroducerClient> current = new AtomicReference<>();

  PeerCli(CliArgs args, PrintStream out) {
    this(args, out, new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
  }

  /** {@code in} gives the go signals of {@code --repeat}, one line per round. */
  PeerCli(CliArgs args, PrintStream out, BufferedReader in) {
    this.args = args;
    this.out = out;
    this.in = in;
  }

  public static void main(String[] argv) {
    for (String a : argv) {
      if (a.equals("--help") || a.equals("-h")) {
        System.out.println(CliArgs.USAGE);
        return;
      }
    }
    CliArgs args;
    try {
      args = CliArgs.parse(argv);
    } catch (IllegalArgumentException e) {
      System.err.println("introducer-peer: " + e.getMessage());
      System.err.println("Try 'introducer-peer --help'.");
      System.exit(2);
      return;
    }
    System.exit(new PeerCli(args, System.out).run());
  }

  int run() {
    if (args.command().equals("netcheck")) {
      return netcheck();
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      IntroducerClient c = current.get();
      if (c != null) {
        c.close();
      }
    }, "introducer-peer-shutdown"));
    if (args.repeat() > 0) {
      return rounds();
    }
    IntroducerClient client = start(args.id());
    if (client == null) {
      return 1;
    }
    try {
      return args.command().equals("listen") ? listen(client) : connect(client, args.target());
    } finally {
      client.close();
    }
  }

  /** Starts a client registered as {@code id}, or prints why it could not and returns null. */
  private IntroducerClient start(String id) {
    CompletableFuture<IntroducerClient> started = IntroducerClient.start(config(id));
    try {
      IntroducerClient client = started.get(seconds(args.timeout(), 15), TimeUnit.SECONDS);
      current.set(client);
      return client;
    } catch (Exception e) {
      started.thenAccept(IntroducerClient::close); // registered too late: not this round's any more
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      fail("register failed: " + reason(e));
      return null;
    }
  }

  /**
   * --repeat: one round per line on standard input, each with a fresh client named ID-k. A connect round connects to
   * PEER-k and closes; a listen round accepts until the next line arrives.
   */
  private int rounds() {
    boolean listen = args.command().equals("listen");
    int failed = 0;
    try {
      String line = in.readLine();
      for (int round = 1; round <= args.repeat() && line != null; round++) {
        String id = args.id() + "-" + round;
        print(Json.event("round").put("round", round).put("peer", id));
        IntroducerClient client = start(id);
        if (client == null) {
          failed++;
        } else if (listen) {
          accept(client);
        } else {
          if (connect(client, args.target() + "-" + round) != 0) {
            failed++;
          }
          client.close();
        }
        line = in.readLine();
        if (listen && client != null) {
          client.close();
        }
      }
    } catch (IOException e) {
      return fail("cannot read standard input: " + e.getMessage());
    }
    return failed == 0 ? 0 : 1;
  }

  private ClientConfig config(String id) {
    ClientConfig.Builder b = ClientConfig.builder()
        .servers(args.servers())
        .appId(args.app())
        .appSecret(args.secret())
        .peerId(id)
        .bindAddress(args.bind())
        .listener(new ClientListener() {
          @Override
          public void registered(InetSocketAddress publicAddress) {
            print(Json.event("registered").put("peer", id).put("public", format(publicAddress)));
          }

          @Override
          public void introduced(String remotePeerId, String sessionId, List<Candidate> candidates, Strategy strategy) {
            print(Json.event("introduced").put("peer", remotePeerId).put("session", sessionId)
                .put("strategy", strategy == null ? null : strategy.wireName())
                .put("candidates", candidates.stream().map(Candidate::toString).toList()));
          }

          @Override
          public void registrationLost(String reason) {
            print(Json.event("error").put("reason", "registration lost: " + reason));
          }
        });
    if (args.timeout() != null) {
      b.connectTimeout(args.timeout());
    }
    return b.build();
  }

  /** Accepts every incoming channel and echoes its messages. */
  private void accept(IntroducerClient client) {
    client.onIncoming(ch -> {
      print(connected(ch));
      ch.onMessage(data -> {
        printMessage(ch, data);
        ch.send(data);
      });
      ch.onClose(reason -> print(Json.event("closed").put("peer", ch.remotePeerId()).put("reason", reason)));
    });
  }

  private int listen(IntroducerClient client) {
    CountDownLatch never = new CountDownLatch(1);
    accept(client);
    try {
      if (args.timeout() == null) {
        never.await();
      } else if (!never.await(args.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
        return 0; // listening for the requested time is success
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  private int connect(IntroducerClient client, String target) {
    PeerChannel ch;
    long start = System.nanoTime();
    long deadline = start + args.timeout().toNanos();
    try {
      ch = client.connect(target).get(args.timeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return fail("connect to " + target + " timed out after " + args.timeout().toSeconds() + " s");
    } catch (Exception e) {
      return fail("connect to " + target + " failed: " + reason(e));
    }
    print(connected(ch).put("connect_ms", millis(System.nanoTime() - start)));
    if (args.send() == null) {
      ch.close();
      return 0;
    }
    CountDownLatch echoes = new CountDownLatch(args.count());
    AtomicInteger received = new AtomicInteger();
    ch.onMessage(data -> {
      printMessage(ch, data);
      received.incrementAndGet();
      echoes.countDown();
    });
    byte[] payload = args.send().getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < args.count(); i++) {
      ch.send(payload);
    }
    try {
      long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
      if (!echoes.await(left, TimeUnit.MILLISECONDS)) {
        ch.close();
        return fail("only " + received.get() + " of " + args.count() + " echoes arrived before the timeout");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return fail("interrupted");
    }
    ch.close();
    return 0;
  }

  /**
   * netcheck: NAT discovery against the servers, one JSON object out. Exit 1 when the introducer never answered
   * (the object then says what little is known).
   */
  private int netcheck() {
    NatDiscovery.Builder b = NatDiscovery.builder().servers(args.servers())
        .bindAddress(new InetSocketAddress(args.bind().getAddress(), 0));
    if (args.timeout() != null) {
      b.timeout(args.timeout().compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1)
          : args.timeout().compareTo(Duration.ofMillis(200)) < 0 ? Duration.ofMillis(200) : args.timeout());
    }
    if (args.lifetime() != null) {
      b.mappingLifetime(args.lifetime());
    }
    NatDiscovery.Result r = b.build().run();
    print(netcheckJson(r));
    return r.publicAddresses().isEmpty() ? 1 : 0;
  }

  /**
   * The netcheck object: RFC 4787 terms as NAT-PROFILE names them, lower-case words for the rest; {@code alternate} is
   * the OTHER-ADDRESS the first server named (its second IP, or another node's in a cluster), {@code rfc5780} whether
   * it named one.
   */
  static Json netcheckJson(NatDiscovery.Result r) {
    NatProfile p = r.profile();
    return Json.event("netcheck")
        .put("mapping", p.mapping() == NatProfile.Mapping.UNKNOWN ? "unknown" : p.mapping().name())
        .put("filtering", p.filtering() == NatProfile.Filtering.UNKNOWN ? "unknown" : p.filtering().name())
        .put("allocation", p.allocation().name().toLowerCase(Locale.ROOT))
        .put("stride", p.stride())
        .put("hairpinning", p.hairpinning() == NatProfile.Hairpinning.UNKNOWN ? null
            : p.hairpinning() == NatProfile.Hairpinning.YES)
        .put("lifetime_s", p.lifetimeSeconds() == 0 ? null : p.lifetimeSeconds())
        .put("public", r.publicAddresses().stream().map(PeerCli::format).toList())
        .put("rfc5780", r.rfc5780())
        .put("alternate", r.otherAddress() == null ? null : format(r.otherAddress()))
        .put("summary", r.summary().name().toLowerCase(Locale.ROOT))
        .put("notes", r.notes());
  }

  private static Json connected(PeerChannel ch) {
    Duration rtt = ch.rtt();
    return Json.event("connected").put("peer", ch.remotePeerId()).put("session", ch.sessionId())
        .put("path", ch.path().name().toLowerCase(Locale.ROOT)).put("strategy", ch.strategy().wireName())
        .put("remote", format(ch.remoteAddress()))
        .put("rtt_ms", rtt == null ? null : millis(rtt.toNanos()));
  }

  /** Nanoseconds as milliseconds with two decimals. */
  static double millis(long nanos) {
    return Math.round(nanos / 10_000.0) / 100.0;
  }

  private void printMessage(PeerChannel ch, byte[] data) {
    print(Json.event("message").put("peer", ch.remotePeerId()).put("bytes", data.length)
        .put("text", new String(data, StandardCharsets.UTF_8)));
  }

  private int fail(String reason) {
    print(Json.event("error").put("reason", reason));
    System.err.println("introducer-peer: " + reason);
    return 1;
  }

  private synchronized void print(Json event) {
    out.println(event);
    out.flush();
  }

  private static String reason(Throwable e) {
    Throwable t = e;
    while ((t instanceof ExecutionException || t instanceof java.util.concurrent.CompletionException) && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof ConnectException ce) {
      return ce.reason();
    }
    return t.getMessage() != null ? t.getMessage() : t.toString();
  }

  private static long seconds(Duration d, long fallback) {
    return d == null ? fallback : Math.max(1, d.toSeconds());
  }

  private static String format(InetSocketAddress a) {
    if (a == null) {
      return null;
    }
    String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }
}
