package io.introducer.ansible;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * deploy.yml for real against localhost (-i localhost, -c local), installing into a temporary root instead of the
 * system: no systemd, no service user, no Java install, no become. The node is then started from the rendered
 * unit's ExecStart with the rendered environment, on free loopback ports, and the playbook's own readiness wait
 * (a second, idempotent run) must see GET /readiness answer 200.
 */
class DeployLocalIT {
  private static final Duration PLAYBOOK_TIMEOUT = Duration.ofSeconds(150);

  @TempDir Path tmp;
  private Path tree;
  private Map<String, String> env;
  private Process node;

  @BeforeEach
  void setUp() throws IOException {
    Ansible.requireTool("ansible-playbook", "ansible");
    tree = Ansible.copyTree(Files.createDirectories(tmp.resolve("tree")));
    env = Ansible.env(tree, tmp);
  }

  @AfterEach
  void stopNode() throws InterruptedException {
    if (node != null && node.isAlive()) {
      node.destroy();
      if (!node.waitFor(20, TimeUnit.SECONDS)) {
        node.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void installsIntoATemporaryRootAndTheRenderedUnitRunsANodeThePlaybookSeesReady() throws Exception {
    Path root = tmp.resolve("root");
    Ports ports = Ports.free();
    String clusterName = "ansible-it-" + UUID.randomUUID().toString().substring(0, 8);
    Secrets secrets = Secrets.random();
    Map<String, Object> vars = localVars(root, secrets);
    vars.put("introducer_deploy_hosts", "localhost");
    vars.put("introducer_address_source", "static");
    vars.put("introducer_public_address", "127.0.0.1");
    vars.put("introducer_private_address", "127.0.0.1");
    vars.put("introducer_bind_host", "127.0.0.1");
    vars.put("introducer_http_host", "127.0.0.1");
    vars.put("introducer_http_port", ports.http);
    vars.put("introducer_port", ports.introducer);
    vars.put("introducer_alternate_port", -1);
    vars.put("introducer_cluster_port", ports.hazelcast);
    vars.put("introducer_cluster_port_auto_increment", false);
    vars.put("introducer_cluster_name", clusterName);
    vars.put("introducer_cluster_join", "tcp-ip");
    vars.put("introducer_cluster_members", List.of("127.0.0.1:" + ports.hazelcast));
    vars.put("introducer_event_bus_port", ports.eventBus);
    vars.put("introducer_node_roles", List.of("introducer"));
    vars.put("introducer_wait_ready", false);

    // 1. Install: renders the config, the environment and the unit into the temporary root.
    Ansible.Result install = deploy("localhost,", Ansible.writeVars(tmp.resolve("install.json"), vars), "install");
    assertThat(install.exitCode()).as(install.describe()).isZero();
    assertNoSecretIn(install.output(), secrets);

    Path confDir = root.resolve("etc/introducer");
    Path config = confDir.resolve("node.json");
    Path envFile = confDir.resolve("node.env");
    Path unitFile = root.resolve("etc/systemd/system/introducer-node.service");
    Path jar = root.resolve("opt/introducer/introducer-node-all.jar");
    assertThat(jar).isRegularFile().hasSameBinaryContentAs(nodeJar());
    String user = System.getProperty("user.name");
    for (Path secretFile : List.of(config, envFile)) {
      PosixFileAttributes attrs = Files.readAttributes(secretFile, PosixFileAttributes.class);
      assertThat(PosixFilePermissions.toString(attrs.permissions())).as(secretFile + " mode").isEqualTo("rw-------");
      assertThat(attrs.owner().getName()).as(secretFile + " owner").isEqualTo(user);
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(confDir))).isEqualTo("rwxr-x---");

    Map<String, String> conf = Ansible.flattenJson(config, tmp);
    assertThat(conf).containsEntry("node.roles", "[\"introducer\"]")
        .containsEntry("node.publicHost", "\"127.0.0.1\"")
        .containsEntry("http.port", String.valueOf(ports.http))
        .containsEntry("introducer.port", String.valueOf(ports.introducer))
        .containsEntry("cluster.name", "\"" + clusterName + "\"")
        .containsEntry("cluster.join", "\"tcp-ip\"")
        .containsEntry("cluster.port", String.valueOf(ports.hazelcast))
        .containsEntry("cluster.eventBusPort", String.valueOf(ports.eventBus))
        .containsEntry("relay.publicHost", "\"127.0.0.1\"")
        .containsEntry("relay.restSecret", "\"" + secrets.relay + "\"")
        .containsEntry("dashboard.adminToken", "\"" + secrets.dashboardToken + "\"")
        .containsEntry("apps", "[{\"id\":\"ansible-it\",\"secret\":\"" + secrets.app + "\"}]");

    SystemdUnit unit = SystemdUnit.parse(unitFile);
    assertThat(unit.get("User")).isEqualTo(user);
    assertThat(unit.get("KillSignal")).isEqualTo("SIGTERM");
    Map<String, String> serviceEnv = unit.environment();
    assertThat(serviceEnv).containsKeys("JAVA_OPTS", "INTRODUCER_LOG_LEVEL");
    List<String> argv = unit.execStart(serviceEnv);
    assertThat(argv).first().isEqualTo(javaBin());
    assertThat(argv).containsSubsequence("-jar", jar.toString(), "--conf", config.toString());

    // 2. Start the node the way systemd would: ExecStart as argv, the unit's environment, nothing inherited.
    Path nodeLog = tmp.resolve("node.log");
    ProcessBuilder pb = new ProcessBuilder(argv).directory(tmp.toFile()).redirectErrorStream(true)
        .redirectOutput(nodeLog.toFile());
    pb.environment().clear();
    pb.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin");
    pb.environment().putAll(serviceEnv);
    node = pb.start();

    // 3. The playbook again, now waiting for readiness: nothing changes (idempotent) and the uri poll sees 200.
    vars.put("introducer_wait_ready", true);
    vars.put("introducer_ready_retries", 90);
    vars.put("introducer_ready_delay", 1);
    Ansible.Result ready = deploy("localhost,", Ansible.writeVars(tmp.resolve("ready.json"), vars), "ready");
    assertThat(ready.exitCode()).as(ready.describe() + "\nnode log:\n" + Ansible.tail(Ansible.read(nodeLog), 40))
        .isZero();
    assertThat(ready.output()).contains("Poll GET /readiness until it answers 200").contains("'ready': True");
    assertThat(recapCount(ready.output(), "changed")).as("second run changes nothing:\n" + ready.output()).isZero();
    assertNoSecretIn(ready.output(), secrets);
    assertThat(node.isAlive()).as("node still running").isTrue();

    // The test's own look, without a proxy.
    HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
        .connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> readiness = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + ports.http + "/readiness")).timeout(Duration.ofSeconds(5)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(readiness.statusCode()).isEqualTo(200);
    assertThat(readiness.body()).contains("\"ready\":true");

    // 4. SIGTERM to the node's PID: it leaves the cluster and exits.
    long pid = node.pid();
    node.destroy();
    assertThat(node.waitFor(30, TimeUnit.SECONDS)).as("node " + pid + " stops on SIGTERM").isTrue();
    assertThat(node.exitValue()).as("exit status after SIGTERM").isIn(0, 143);
    assertThat(Ansible.read(nodeLog)).contains("Shutting down");
  }

  @Test
  void rendersTheAwsJoinAndThePublicAddressFromInventoryHostVars() throws Exception {
    // The host variables amazon.aws.aws_ec2 gives an instance tagged by provision.yml (and its compose: entries).
    Path inventory = tmp.resolve("inventory.yml");
    Files.writeString(inventory, String.join("\n",
        "introducer_nodes:",
        "  hosts:",
        "    introducer-blue-1:",
        "      ansible_connection: local",
        "      public_ip_address: 198.51.100.7",
        "      private_ip_address: 10.0.1.5",
        "      placement: {availability_zone: eu-central-1b, region: eu-central-1}",
        "      tags: {Name: introducer-blue-1, introducer-cluster: blue, introducer_role: introducer+relay}",
        "      introducer_cluster_name: blue",
        "      introducer_node_roles: [introducer, relay]",
        ""));
    Path root = tmp.resolve("root");
    Secrets secrets = Secrets.random();
    Map<String, Object> vars = localVars(root, secrets);
    vars.put("introducer_address_source", "inventory");
    vars.put("introducer_wait_ready", false);

    Ansible.Result run = deploy(inventory.toString(), Ansible.writeVars(tmp.resolve("vars.json"), vars), "inventory");
    assertThat(run.exitCode()).as(run.describe()).isZero();

    Map<String, String> conf = Ansible.flattenJson(root.resolve("etc/introducer/node.json"), tmp);
    assertThat(conf).containsEntry("node.id", "\"introducer-blue-1\"")
        .containsEntry("node.roles", "[\"introducer\",\"relay\"]")
        .containsEntry("node.publicHost", "\"198.51.100.7\"")
        .containsEntry("relay.publicHost", "\"198.51.100.7\"")
        .containsEntry("relay.relayHost", "\"10.0.1.5\"")
        .containsEntry("cluster.name", "\"blue\"")
        .containsEntry("cluster.host", "\"10.0.1.5\"")
        .containsEntry("cluster.eventBusHost", "\"10.0.1.5\"")
        .containsEntry("cluster.join", "\"aws\"")
        .containsEntry("cluster.aws.region", "\"eu-central-1\"")
        .containsEntry("cluster.aws.tagKey", "\"introducer-cluster\"")
        .containsEntry("cluster.aws.tagValue", "\"blue\"");
  }

  @Test
  void refusesToDeployWithoutAnExplicitAddressSource() throws Exception {
    Map<String, Object> vars = localVars(tmp.resolve("root"), Secrets.random());
    vars.put("introducer_deploy_hosts", "localhost");
    vars.put("introducer_wait_ready", false);
    Ansible.Result run = deploy("localhost,", Ansible.writeVars(tmp.resolve("vars.json"), vars), "no-source");
    assertThat(run.exitCode()).as(run.describe()).isNotZero();
    assertThat(run.output()).contains("Addresses are never guessed");
    assertThat(tmp.resolve("root/etc/introducer/node.json")).doesNotExist();
  }

  @Test
  void refusesTheDevelopmentAppSecret() throws Exception {
    Map<String, Object> vars = localVars(tmp.resolve("root"), Secrets.random());
    vars.put("introducer_deploy_hosts", "localhost");
    vars.put("introducer_address_source", "static");
    vars.put("introducer_public_address", "127.0.0.1");
    vars.put("introducer_private_address", "127.0.0.1");
    vars.put("introducer_cluster_members", List.of("127.0.0.1:5701"));
    vars.put("vault_introducer_apps", List.of(Map.of("id", "demo", "secret", "demo-secret")));
    Ansible.Result run = deploy("localhost,", Ansible.writeVars(tmp.resolve("vars.json"), vars), "demo-secret");
    assertThat(run.exitCode()).as(run.describe()).isNotZero();
    assertThat(run.output()).contains("Set real secrets in the vault");
    assertThat(tmp.resolve("root/etc/introducer/node.json")).doesNotExist();
  }

  /** The variables of the local mode: a temporary root, no systemd, user, Java install or become. */
  private Map<String, Object> localVars(Path root, Secrets secrets) throws IOException {
    Map<String, Object> vars = new LinkedHashMap<>();
    vars.put("introducer_root", root.toString());
    vars.put("introducer_become", false);
    vars.put("introducer_install_java", false);
    vars.put("introducer_manage_systemd", false);
    vars.put("introducer_manage_user", false);
    vars.put("introducer_manage_sysctl", false); // the host's kernel settings are not the test's to change
    vars.put("introducer_user", System.getProperty("user.name"));
    vars.put("introducer_group", currentGroup());
    vars.put("introducer_jar_src", nodeJar().toString());
    vars.put("introducer_java_bin", javaBin());
    vars.put("introducer_java_opts", "-Xmx256m -XX:+ExitOnOutOfMemoryError");
    // The vault variables that group_vars/all/vars.yml maps to the roles' secrets.
    vars.put("vault_introducer_apps", List.of(Map.of("id", "ansible-it", "secret", secrets.app)));
    vars.put("vault_introducer_relay_rest_secret", secrets.relay);
    vars.put("vault_introducer_dashboard_admin_token", secrets.dashboardToken);
    vars.put("vault_introducer_dashboard_users", List.of(Map.of("username", "admin", "password", secrets.dashboardPassword)));
    return vars;
  }

  private Ansible.Result deploy(String inventory, Path varsFile, String label) throws Exception {
    List<String> cmd = new ArrayList<>(Ansible.playbookCommand(tree.resolve("deploy.yml"), inventory, varsFile));
    if (inventory.endsWith(",")) {
      cmd.addAll(1, List.of("-c", "local"));
    }
    return Ansible.run(cmd, tree, env, PLAYBOOK_TIMEOUT, tmp.resolve("ansible-" + label + ".log"));
  }

  private static void assertNoSecretIn(String output, Secrets secrets) {
    for (String secret : List.of(secrets.app, secrets.relay, secrets.dashboardToken, secrets.dashboardPassword)) {
      assertThat(output).as("ansible output must not show secrets").doesNotContain(secret);
    }
  }

  private static int recapCount(String output, String field) {
    Matcher m = Pattern.compile("localhost\\s+:.*\\b" + field + "=(\\d+)").matcher(output);
    if (!m.find()) {
      fail("no PLAY RECAP for localhost in:\n" + output);
    }
    return Integer.parseInt(m.group(1));
  }

  /** The node's fat jar, built by the reactor before this module (node/target). */
  static Path nodeJar() throws IOException {
    Path target = Path.of(System.getProperty("introducer.node.target",
        Ansible.sourceTree().resolve("../node/target").toString())).toAbsolutePath().normalize();
    Path preferred = target.resolve("introducer-node-all.jar");
    if (Files.isRegularFile(preferred)) {
      return preferred;
    }
    if (Files.isDirectory(target)) {
      try (Stream<Path> files = Files.list(target)) {
        List<Path> shaded = files.filter(p -> p.getFileName().toString().matches("introducer-node-.*-all\\.jar")).toList();
        if (shaded.size() == 1) {
          return shaded.get(0);
        }
      }
    }
    return fail("the node's fat jar is missing from " + target
        + ": build it first (cd .. && mvn -B -q -DskipTests -pl node -am package)");
  }

  private static String javaBin() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private String currentGroup() throws IOException {
    Path probe = Files.createTempFile(tmp, "group", ".probe");
    return Files.readAttributes(probe, PosixFileAttributes.class).group().getName();
  }

  private record Secrets(String app, String relay, String dashboardToken, String dashboardPassword) {
    static Secrets random() {
      return new Secrets("app-" + UUID.randomUUID(), "relay-" + UUID.randomUUID(), "token-" + UUID.randomUUID(),
          "pw-" + UUID.randomUUID());
    }
  }

  /** Free loopback ports, all held open together while chosen so they differ. */
  private record Ports(int introducer, int http, int hazelcast, int eventBus) {
    static Ports free() throws IOException {
      InetAddress lo = InetAddress.getLoopbackAddress();
      try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress(lo, 0));
           ServerSocket a = new ServerSocket(0, 1, lo);
           ServerSocket b = new ServerSocket(0, 1, lo);
           ServerSocket c = new ServerSocket(0, 1, lo)) {
        return new Ports(udp.getLocalPort(), a.getLocalPort(), b.getLocalPort(), c.getLocalPort());
      }
    }
  }
}
