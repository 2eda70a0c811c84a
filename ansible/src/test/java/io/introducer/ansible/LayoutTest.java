package io.introducer.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The tree's shape and its secret handling, checked without any Ansible tool. */
class LayoutTest {
  private final Path tree = Ansible.sourceTree();

  @Test
  void hasTheLayoutAnsibleUsersExpect() {
    for (String file : List.of("ansible.cfg", ".ansible-lint", "requirements.yml", "inventory/aws_ec2.yml",
        "group_vars/all/vars.yml", "group_vars/all/vault.yml.example", "group_vars/introducer_nodes.yml",
        "provision.yml", "deploy.yml", "teardown.yml", "README.md",
        "roles/introducer_node/tasks/main.yml", "roles/introducer_node/handlers/main.yml",
        "roles/introducer_node/defaults/main.yml", "roles/introducer_node/templates/node.json.j2",
        "roles/introducer_node/templates/introducer-node.service.j2", "roles/java/tasks/main.yml",
        "roles/aws_cluster/tasks/main.yml", "roles/aws_cluster/tasks/teardown.yml")) {
      assertThat(tree.resolve(file)).as(file).isRegularFile();
    }
  }

  @Test
  void theInventoryUsesTheAwsEc2PluginAndGroupsByRoleTag() throws IOException {
    String inventory = Files.readString(tree.resolve("inventory/aws_ec2.yml"));
    assertThat(inventory).contains("plugin: amazon.aws.aws_ec2").contains("tags['introducer_role']")
        .contains("prefix: role");
  }

  @Test
  void everyVaultVariableIsDocumentedInTheExample() throws IOException {
    Set<String> referenced = vaultNames(Files.readString(tree.resolve("group_vars/all/vars.yml")));
    Set<String> documented = vaultNames(Files.readString(tree.resolve("group_vars/all/vault.yml.example")));
    assertThat(referenced).isNotEmpty().containsExactlyInAnyOrderElementsOf(documented);
  }

  @Test
  void theRealVaultIsGitIgnored() throws IOException {
    assertThat(Files.readAllLines(tree.resolve(".gitignore"))).contains("group_vars/all/vault.yml");
  }

  @Test
  void noSecretIsWrittenInClearOutsideTheVault() throws IOException {
    // Everything secret reaches the roles as a vault_* reference; role defaults hold only empty values.
    String vars = Files.readString(tree.resolve("group_vars/all/vars.yml"));
    for (String name : List.of("introducer_apps", "introducer_relay_rest_secret", "introducer_dashboard_admin_token",
        "introducer_dashboard_users", "introducer_relay_users")) {
      assertThat(vars).containsPattern("(?m)^" + name + ": \"\\{\\{ vault_" + name + "\\b");
    }
    try (Stream<Path> files = Files.walk(tree.resolve("roles"))) {
      // Where values live: role defaults and templates (tasks only name the development secret to refuse it).
      for (Path p : files.filter(Files::isRegularFile)
          .filter(p -> p.getParent().getFileName().toString().matches("defaults|templates|vars")).toList()) {
        // No literal value for anything named secret/token/password (empty strings and {{ templates }} only).
        assertThat(Files.readString(p)).as(p.toString()).doesNotContain("demo-secret")
            .doesNotContainPattern("(?i)(secret|token|password)\\w*:\\s*\"[^\"{]+\"");
      }
    }
  }

  @Test
  void rendersSecretFilesWithMode0600OwnedByTheServiceUser() throws IOException {
    String install = Files.readString(tree.resolve("roles/introducer_node/tasks/install.yml"));
    for (String template : List.of("node.json.j2", "node.env.j2")) {
      int at = install.indexOf("src: " + template);
      assertThat(at).as(template).isPositive();
      String task = install.substring(at, install.indexOf("\n- name:", at) < 0 ? install.length()
          : install.indexOf("\n- name:", at));
      assertThat(task).contains("owner: \"{{ introducer_user }}\"").contains("mode: \"0600\"");
    }
  }

  private static Set<String> vaultNames(String text) {
    Set<String> names = new TreeSet<>();
    Matcher m = Pattern.compile("\\bvault_[a-z0-9_]+").matcher(text);
    while (m.find()) {
      names.add(m.group());
    }
    return names;
  }
}
