package io.introducer.bench;

import io.introducer.relay.RelayVerticle;
import io.introducer.rendezvous.IntroducerVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;

/**
 * One server under test in its own JVM, as a node would run it: Vert.x with the native transport and
 * only the verticle measured. Prints {@code READY port=N native=B} once listening, then serves until its
 * standard input closes (the harness also kills it by PID).
 *
 * <pre>
 *   BenchServer relay PORT MIN_PORT MAX_PORT USER PASSWORD REALM THREADS
 *   BenchServer introducer PORT [THREADS]
 * </pre>
 */
public final class BenchServer {
  private BenchServer() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: BenchServer relay PORT MIN MAX USER PASSWORD REALM THREADS | introducer PORT [THREADS]");
      System.exit(2);
    }
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    String id;
    int port;
    if (args[0].equals("relay")) {
      JsonObject conf = new JsonObject()
          .put("host", "127.0.0.1")
          .put("port", Integer.parseInt(args[1]))
          .put("minPort", Integer.parseInt(args[2]))
          .put("maxPort", Integer.parseInt(args[3]))
          .put("users", new JsonArray().add(new JsonObject().put("username", args[4]).put("password", args[5])))
          .put("realm", args[6])
          .put("threads", Integer.parseInt(args[7]))
          .put("allowPeers", new JsonArray().add("127.0.0.0/8"))
          .put("legacyChannelRange", true) // turnutils_uclient picks channels from 0x4000-0x7FFF
          .put("unauthRatePerSecond", 100_000)
          .put("maxAllocations", 100_000)
          .put("maxAllocationsPerUser", 100_000);
      RelayVerticle relay = new RelayVerticle();
      id = vertx.deployVerticle(relay, new DeploymentOptions().setConfig(conf)).await(30, TimeUnit.SECONDS);
      port = relay.actualPort();
    } else if (args[0].equals("introducer")) {
      JsonObject conf = new JsonObject().put("host", "127.0.0.1").put("port", Integer.parseInt(args[1]))
          .put("threads", args.length > 2 ? Integer.parseInt(args[2]) : 1);
      IntroducerVerticle introducer = new IntroducerVerticle();
      id = vertx.deployVerticle(introducer, new DeploymentOptions().setConfig(conf)).await(30, TimeUnit.SECONDS);
      port = introducer.actualPort();
    } else {
      throw new IllegalArgumentException("unknown server " + args[0]);
    }
    System.out.println("READY port=" + port + " native=" + vertx.isNativeTransportEnabled() + " deployment=" + id);
    System.out.flush();
    // Serve until the harness closes our stdin (or kills us).
    while (System.in.read() >= 0) {
      // ignore input
    }
    vertx.close().await(10, TimeUnit.SECONDS);
    System.exit(0);
  }
}
