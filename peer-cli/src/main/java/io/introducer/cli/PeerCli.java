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
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/** bin/introducer-peer: a demo and diagnostics peer built on the client SDK. */
public final class PeerCli {
  private final CliArgs args;
  private final PrintStream out;

  PeerCli(CliArgs args, PrintStream out) {
    this.args = args;
    this.out = out;
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
    IntroducerClient client;
    try {
      client = IntroducerClient.start(config()).get(seconds(args.timeout(), 15), TimeUnit.SECONDS);
    } catch (Exception e) {
      return fail("register failed: " + reason(e));
    }
    Runtime.getRuntime().addShutdownHook(new Thread(client::close, "introducer-peer-shutdown"));
    try {
      return args.command().equals("listen") ? listen(client) : connect(client);
    } finally {
      client.close();
    }
  }

  private ClientConfig config() {
    ClientConfig.Builder b = ClientConfig.builder()
        .servers(args.servers())
        .appId(args.app())
        .appSecret(args.secret())
        .peerId(args.id())
        .bindAddress(args.bind())
        .listener(new ClientListener() {
          @Override
          public void registered(InetSocketAddress publicAddress) {
            print(Json.event("registered").put("peer", args.id()).put("public", format(publicAddress)));
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

  private int listen(IntroducerClient client) {
    CountDownLatch never = new CountDownLatch(1);
    client.onIncoming(ch -> {
      printConnected(ch);
      ch.onMessage(data -> {
        printMessage(ch, data);
        ch.send(data);
      });
      ch.onClose(reason -> print(Json.event("closed").put("peer", ch.remotePeerId()).put("reason", reason)));
    });
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

  private int connect(IntroducerClient client) {
    PeerChannel ch;
    long deadline = System.nanoTime() + args.timeout().toNanos();
    try {
      ch = client.connect(args.target()).get(args.timeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return fail("connect to " + args.target() + " timed out after " + args.timeout().toSeconds() + " s");
    } catch (Exception e) {
      return fail("connect to " + args.target() + " failed: " + reason(e));
    }
    printConnected(ch);
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

  /** The netcheck object: RFC 4787 terms as NAT-PROFILE names them, lower-case words for the rest. */
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
        .put("summary", r.summary().name().toLowerCase(Locale.ROOT))
        .put("notes", r.notes());
  }

  private void printConnected(PeerChannel ch) {
    Duration rtt = ch.rtt();
    print(Json.event("connected").put("peer", ch.remotePeerId()).put("session", ch.sessionId())
        .put("path", ch.path().name().toLowerCase(Locale.ROOT)).put("strategy", ch.strategy().wireName())
        .put("remote", format(ch.remoteAddress()))
        .put("rtt_ms", rtt == null ? null : Math.round(rtt.toNanos() / 10_000.0) / 100.0));
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
