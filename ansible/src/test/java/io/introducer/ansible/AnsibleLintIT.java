package io.introducer.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole tree passes ansible-lint with the production profile (.ansible-lint), warnings included. */
class AnsibleLintIT {
  @TempDir Path tmp;

  @Test
  void theTreeIsLintCleanUnderTheProductionProfile() throws Exception {
    Ansible.requireTool("ansible-lint", "ansible-lint");
    Ansible.requireTool("ansible-playbook", "ansible");
    Path tree = Ansible.sourceTree();
    Map<String, String> env = Ansible.env(tree, tmp);
    Ansible.Result lint = Ansible.run(
        List.of("ansible-lint", "--offline", "--strict", "--profile", "production", "--nocolor"),
        tree, env, Duration.ofSeconds(150), tmp.resolve("lint.log"));
    assertThat(lint.exitCode()).as(lint.describe()).isZero();
    assertThat(lint.output()).as(lint.describe()).contains("Passed").contains("production");
    assertThat(Files.readString(tree.resolve(".ansible-lint"))).contains("profile: production");
  }
}
