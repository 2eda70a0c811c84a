package io.introducer.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** ansible-playbook --syntax-check passes for every playbook of the tree (no inventory, no AWS). */
class SyntaxCheckIT {
  @TempDir Path tmp;

  /** The playbooks: top-level YAML files with a play (a hosts: line). */
  static List<String> playbooks() throws IOException {
    Path tree = Ansible.sourceTree();
    try (Stream<Path> files = Files.list(tree)) {
      return files.filter(p -> p.getFileName().toString().endsWith(".yml"))
          .filter(p -> {
            try {
              return Files.readAllLines(p).stream().anyMatch(l -> l.matches("^\\s*hosts:.*"));
            } catch (IOException e) {
              return false;
            }
          })
          .map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void theTreeHasTheProvisionDeployAndTeardownPlaybooks() throws IOException {
    assertThat(playbooks()).contains("provision.yml", "deploy.yml", "teardown.yml");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("playbooks")
  void passesSyntaxCheck(String playbook) throws Exception {
    Ansible.requireTool("ansible-playbook", "ansible");
    Path tree = Ansible.sourceTree();
    Path book = tree.resolve(playbook);
    Ansible.Result r = Ansible.run(List.of("ansible-playbook", "-i", "localhost,", "--syntax-check", book.toString()),
        tree, Ansible.env(tree, tmp), Duration.ofSeconds(60), tmp.resolve(playbook + ".log"));
    assertThat(r.exitCode()).as(r.describe()).isZero();
    assertThat(r.output()).as(r.describe()).contains("playbook: " + book);
  }
}
