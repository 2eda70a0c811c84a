package io.introducer.node;

import com.hazelcast.config.Config;
import io.introducer.dashboard.AccessControl;
import io.introducer.dashboard.DashboardConfig;
import io.introducer.dashboard.DashboardSources;
import io.introducer.dashboard.DashboardVerticle;
import io.introducer.dashboard.NodeHttpServer;
import io.introducer.dashboard.metrics.IntroducerMeters;
import io.introducer.dashboard.metrics.NodeMetrics;
import io.introducer.relay.RelayVerticle;
import io.introducer.rendezvous.IntroducerVerticle;
import io.introducer.rendezvous.RelaySelector;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The runnable node: loads the config, starts (clustered) Vert.x and deploys the verticles of its roles. */
public final class IntroducerNode {
  private static final Logger log = LoggerFactory.getLogger(IntroducerNode.class);

  private final NodeConfig config;
  private Vertx vertx;
  private final List<String> deploymentIds = new ArrayList<>();
  private IntroducerVerticle introducer;
  private RelayVerticle relay;
  private ClusterState clusterState;
  private long relayReportTimer = -1;
  private DashboardVerticle dashboard;
  private HazelcastClusterManager clusterManager;
  private final NodeMetrics metrics = new NodeMetrics();
  private final DashboardSources sources = new DashboardSources()
      .registry(() -> introducer == null ? null : introducer.registry())
      .sessions(() -> introducer == null ? null : introducer.sessions());
  private NodeHttpServer httpServer;
  private AccessControl access;
  private volatile int httpPort;
  private volatile boolean ready;

  public IntroducerNode(NodeConfig config) {
    this.config = config;
  }

  /** Parsed command line: a config file (null for the embedded defaults) or a request for help. */
  record Args(Path confFile, boolean help) {}

  public static void main(String[] args) {
    String logFormat = System.getenv("INTRODUCER_LOG_FORMAT");
    if (logFormat != null && !logFormat.equals("text") && !logFormat.equals("json")) {
      System.err.println("introducer-node: INTRODUCER_LOG_FORMAT must be 'text' or 'json', not '" + logFormat + "'");
      System.exit(2);
      return;
    }
    Args parsed;
    try {
      parsed = parseArgs(args);
    } catch (IllegalArgumentException e) {
      System.err.println("introducer-node: " + e.getMessage());
      System.err.println("Try 'introducer-node --help'.");
      System.exit(2);
      return;
    }
    if (parsed.help()) {
      System.out.println(usage());
      return;
    }
    IntroducerNode node;
    try {
      node = new IntroducerNode(NodeConfig.load(parsed.confFile(), System.getenv()));
      node.start().toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      log.error("Node failed to start: {}", cause.getMessage(), cause);
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      log.info("Shutting down");
      try {
        node.stop().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
        log.info("Stopped");
      } catch (Exception e) {
        log.warn("Unclean shutdown: {}", e.toString());
      }
    }, "introducer-shutdown"));
  }

  static Args parseArgs(String[] args) {
    Path file = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "-h", "--help" -> {
          return new Args(null, true);
        }
        case "-c", "--conf" -> {
          if (i + 1 >= args.length) {
            throw new IllegalArgumentException(a + " needs a file");
          }
          if (file != null) {
            throw new IllegalArgumentException("more than one config file given");
          }
          file = Path.of(args[++i]);
        }
        default -> {
          if (a.startsWith("-")) {
            throw new IllegalArgumentException("unknown option " + a);
          }
          if (file != null) {
            throw new IllegalArgumentException("more than one config file given");
          }
          file = Path.of(a);
        }
      }
    }
    if (file != null && !Files.isReadable(file)) {
      throw new IllegalArgumentException("cannot read config file " + file);
    }
    return new Args(file, false);
  }

  static String usage() {
    return String.join("\n",
        "Usage: introducer-node [--conf FILE | FILE] [--help]",
        "",
        "Starts an Introducer node. With no file it runs on the embedded defaults (conf/node.json): a single",
        "clustered node bound to 127.0.0.1 with all its roles. A file is deep-merged over those defaults.",
        "",
        "Every key can be overridden by an environment variable: INTRODUCER_ + the key path in UPPER_SNAKE_CASE,",
        "e.g. introducer.port -> INTRODUCER_INTRODUCER_PORT, node.bindHost -> INTRODUCER_NODE_BIND_HOST,",
        "cluster.members -> INTRODUCER_CLUSTER_MEMBERS='127.0.0.1:5701,127.0.0.2:5701',",
        "apps -> INTRODUCER_APPS='[{\"id\":\"game\",\"secret\":\"...\"}]'. INTRODUCER_LOG_LEVEL sets the log level.",
        "",
        "Roles: " + Role.names() + ". Stop with SIGTERM (Ctrl-C): the node leaves the cluster cleanly.");
  }

  /** Starts Vert.x (clustered unless cluster.enabled is false) and deploys the roles' verticles. */
  public Future<Void> start() {
    List<Role> roles = config.roles();
    JsonObject cluster = config.section("cluster");
    JsonObject http = config.section("http");
    String httpHost = http.getString("host", "").isBlank() ? config.bindHost() : http.getString("host");
    int httpPortSetting = http.getInteger("port", 8080);
    // Checked before anything binds: the dashboard's credentials also guard /metrics on every node.
    DashboardConfig dashboardConfig;
    try {
      dashboardConfig = DashboardConfig.fromJson(config.section("dashboard"));
      dashboardConfig.checkExposure(httpHost, roles.contains(Role.DASHBOARD));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    access = new AccessControl(dashboardConfig, Clock.systemUTC());
    String nodeName = config.section("node").getString("id", "");
    String httpAddress = httpPortSetting == 0 ? "" : (httpHost.contains(":") ? "[" + httpHost + "]" : httpHost)
        + ":" + httpPortSetting;
    // Native epoll: the relay's and introducer's UDP hot paths read with recvmmsg (falls back to NIO elsewhere).
    VertxOptions options = new VertxOptions().setMetricsOptions(metrics.vertxOptions()).setPreferNativeTransport(true);
    VertxBuilder builder = Vertx.builder().withMetrics(metrics.vertxMetricsFactory());
    Future<Vertx> started;
    if (cluster.getBoolean("enabled", true)) {
      options.getEventBusOptions()
          .setHost(cluster.getString("eventBusHost", "127.0.0.1"))
          .setPort(cluster.getInteger("eventBusPort", 17001));
      String publicHost = cluster.getString("eventBusPublicHost", "");
      if (!publicHost.isBlank()) {
        options.getEventBusOptions().setClusterPublicHost(publicHost);
      }
      Config hazelcast = HazelcastSetup.fromJson(cluster);
      ClusterNodes.describe(hazelcast, nodeName, roles, httpAddress);
      clusterManager = new HazelcastClusterManager(hazelcast);
      started = builder.with(options).withClusterManager(clusterManager).buildClustered();
    } else {
      started = Future.succeededFuture(builder.with(options).build());
    }
    return started.compose(v -> {
      this.vertx = v;
      if (cluster.getBoolean("enabled", true)) {
        log.info("Joined cluster '{}' (event bus on {}:{})", cluster.getString("name"),
            cluster.getString("eventBusHost"), cluster.getInteger("eventBusPort"));
      }
      sources.nodes(new ClusterNodes(clusterManager, nodeName, roles, httpAddress, () -> ready));
      httpServer = new NodeHttpServer(v, this::readiness, metrics, access);
      return httpServer.listen(httpHost, httpPortSetting)
          .onSuccess(p -> httpPort = p)
          .compose(p -> deployRoles(roles));
    }).onSuccess(v -> {
      ready = true;
      log.info("Node started with roles {}", roles);
    })
      .recover(err -> stop().transform(ignored -> Future.failedFuture(err)));
  }

  private Future<Void> deployRoles(List<Role> roles) {
    if (clusterManager != null) {
      clusterState = new ClusterState(clusterManager.getHazelcastInstance(), Clock.systemUTC());
    }
    Future<Void> chain = Future.succeededFuture();
    // The relay first: the introducer hands out its address, known once it is bound.
    for (Role role : roles.stream().sorted(java.util.Comparator.comparingInt(Role::deployOrder)).toList()) {
      chain = chain.compose(v -> deploy(role));
    }
    return chain;
  }

  private Future<Void> deploy(Role role) {
    switch (role) {
      case INTRODUCER -> {
        JsonObject conf = config.section("introducer")
            .put("host", config.bindHost())
            .put("apps", config.apps());
        String publicHost = config.section("node").getString("publicHost", "");
        if (!publicHost.isBlank() && !conf.containsKey("publicHost")) {
          conf.put("publicHost", publicHost);
        }
        String restSecret = config.section("relay").getString("restSecret", "");
        RelaySelector relays = RelaySelector.NONE;
        if (clusterState != null && !restSecret.isBlank()) {
          relays = clusterState.relaySelector(restSecret);
        } else if (relay != null && relay.publicAddress() != null && !restSecret.isBlank()) {
          relays = RelaySelector.fixed(new RelaySelector.Relay(relay.publicAddress(), restSecret));
        }
        introducer = clusterState == null ? new IntroducerVerticle(relays)
            : new IntroducerVerticle(new IntroducerVerticle.Cluster(clusterState.nodeId(),
                clusterState.registry(Duration.ofSeconds(conf.getInteger("registrationLifetimeSeconds", 60))), relays,
                clusterState.discoveryPartners()));
        return vertx.deployVerticle(introducer, new DeploymentOptions().setConfig(conf))
            .onSuccess(deploymentIds::add)
            .onSuccess(id -> metrics.bind(new IntroducerMeters(introducer.counters(), introducer::registry,
                introducer::sessions, Clock.systemUTC())))
            .mapEmpty();
      }
      case RELAY -> {
        JsonObject conf = config.section("relay").put("host", config.bindHost());
        String publicHost = config.section("node").getString("publicHost", "");
        if (!publicHost.isBlank() && !conf.containsKey("publicHost")) {
          conf.put("publicHost", publicHost);
        }
        if (usesDevRelaySecrets(conf) && !isLoopback(config.bindHost())) {
          log.warn("The relay uses the development credentials (dev-relay-secret / demo user) on non-loopback host {}:"
              + " anyone can relay through it. Set relay.restSecret and relay.users.", config.bindHost());
        }
        relay = new RelayVerticle();
        return vertx.deployVerticle(relay, new DeploymentOptions().setConfig(conf))
            .onSuccess(deploymentIds::add)
            .onSuccess(id -> {
              sources.addRelay(RelayViews.source(relay, config.section("node").getString("id", "")));
              metrics.bind(RelayViews.meters(relay.counters()));
              if (clusterState != null) {
                reportRelayLoad();
                relayReportTimer = vertx.setPeriodic(ClusterState.RELAY_REPORT_INTERVAL.toMillis(),
                    t -> reportRelayLoad());
              }
            })
            .mapEmpty();
      }
      case DASHBOARD -> {
        dashboard = new DashboardVerticle(httpServer.router(), access, sources);
        return vertx.deployVerticle(dashboard).onSuccess(deploymentIds::add).mapEmpty();
      }
      default -> {
        return Future.failedFuture("role " + role + " has no verticle");
      }
    }
  }

  private void reportRelayLoad() {
    if (relay.publicAddress() != null) {
      clusterState.reportRelay(relay.publicAddress(), relay.counters().allocationsActive(),
          relay.relayConfig().maxAllocations());
    }
  }

  static boolean usesDevRelaySecrets(JsonObject relayConf) {
    if ("dev-relay-secret".equals(relayConf.getString("restSecret"))) {
      return true;
    }
    return relayConf.getJsonArray("users", new io.vertx.core.json.JsonArray()).stream()
        .anyMatch(u -> u instanceof JsonObject o && "demo-secret".equals(o.getString("password")));
  }

  static boolean isLoopback(String host) {
    try {
      return java.net.InetAddress.getByName(host).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  /** The relay verticle when this node has that role. */
  public RelayVerticle relay() {
    return relay;
  }

  /** The readiness report: every role deployed and, when clustered, this node a live cluster member. */
  JsonObject readiness() {
    Vertx v = vertx;
    JsonObject report = new JsonObject().put("roles", config.roles().stream().map(r -> r.name().toLowerCase()).toList())
        .put("deployed", ready);
    boolean clusterOk = true;
    if (v != null && v.isClustered()) {
      int members = clusterManager == null ? 0 : clusterManager.getNodes().size();
      clusterOk = clusterManager != null && clusterManager.isActive() && members > 0;
      report.put("cluster", new JsonObject().put("active", clusterOk).put("members", members));
    }
    return report.put("ready", ready && v != null && clusterOk);
  }

  /** The dashboard verticle when this node has that role. */
  public DashboardVerticle dashboard() {
    return dashboard;
  }

  /** The node's Prometheus registry (served on /metrics). */
  public NodeMetrics metrics() {
    return metrics;
  }

  /** The bound HTTP port of /health, /readiness, /metrics and, with the dashboard role, the dashboard. */
  public int httpPort() {
    return httpPort;
  }

  /** The introducer verticle when this node has that role (for tests and in-process embedding). */
  public IntroducerVerticle introducer() {
    return introducer;
  }

  public Vertx vertx() {
    return vertx;
  }

  /** Undeploys the verticles and leaves the cluster. */
  public Future<Void> stop() {
    if (vertx == null) {
      return Future.succeededFuture();
    }
    Vertx v = vertx;
    vertx = null;
    ready = false;
    v.cancelTimer(relayReportTimer);
    if (clusterState != null) {
      clusterState.close();
    }
    return v.close();
  }
}
