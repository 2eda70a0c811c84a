package io.introducer.ansible;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The security group and IAM policy provision.yml would send to AWS, computed by the aws_cluster role's own tasks
 * (roles/aws_cluster/tasks/rules.yml and its policy template) on localhost: no AWS call.
 */
class SecurityGroupRulesIT {
  @TempDir Path tmp;
  private Path tree;

  @BeforeEach
  void setUp() throws Exception {
    Ansible.requireTool("ansible-playbook", "ansible");
    tree = Ansible.copyTree(Files.createDirectories(tmp.resolve("tree")));
  }

  private Ansible.Result render(List<String> adminCidrs) throws Exception {
    Path playbook = tmp.resolve("render-rules.yml");
    Files.writeString(playbook, String.join("\n",
        "- name: Render the aws_cluster security group rules and IAM policy",
        "  hosts: localhost",
        "  connection: local",
        "  gather_facts: false",
        "  tasks:",
        "    - name: Compute the rules",
        "      ansible.builtin.include_role:",
        "        name: aws_cluster",
        "        tasks_from: rules.yml",
        "    - name: One line per rule",
        "      ansible.builtin.copy:",
        "        dest: \"{{ out_dir }}/rules.txt\"",
        "        mode: \"0600\"",
        "        content: |",
        "          {% for r in aws_cluster_ingress_rules %}",
        "          {{ r.proto }} {{ r.from_port }}-{{ r.to_port }} "
            + "{% if r.group_name is defined %}group:{{ r.group_name }}"
            + "{% elif r.cidr_ip is string %}cidr:{{ r.cidr_ip }}{% else %}cidr:{{ r.cidr_ip | join(',') }}{% endif %}{{ '' }}",
        "          {% endfor %}",
        "    - name: The discovery policy",
        "      ansible.builtin.template:",
        "        src: \"{{ tree }}/roles/aws_cluster/templates/hazelcast-discovery-policy.json.j2\"",
        "        dest: \"{{ out_dir }}/policy.json\"",
        "        mode: \"0600\"",
        ""));
    Map<String, Object> vars = new LinkedHashMap<>();
    vars.put("out_dir", tmp.toString());
    vars.put("tree", tree.toString());
    vars.put("introducer_cluster_name", "itest");
    vars.put("introducer_aws_region", "eu-west-1");
    vars.put("introducer_admin_cidrs", adminCidrs);
    Path varsFile = Ansible.writeVars(tmp.resolve("vars.json"), vars);
    return Ansible.run(
        List.of("ansible-playbook", "-i", "localhost,", "-c", "local", "--extra-vars", "@" + varsFile,
            playbook.toString()),
        tree, Ansible.env(tree, tmp), Duration.ofSeconds(90), tmp.resolve("render.log"));
  }

  @Test
  void publicUdpFromAnywhereClusterPortsOnlyFromTheGroupAdminPortsOnlyFromAdminCidrs() throws Exception {
    Ansible.Result r = render(List.of("198.51.100.0/24", "203.0.113.8/32"));
    assertThat(r.exitCode()).as(r.describe()).isZero();
    List<String> rules = Files.readAllLines(tmp.resolve("rules.txt")).stream().filter(l -> !l.isBlank()).toList();
    assertThat(rules).containsExactlyInAnyOrder(
        "udp 3478-3478 cidr:0.0.0.0/0",
        "udp 3480-3480 cidr:0.0.0.0/0",
        "udp 3479-3479 cidr:0.0.0.0/0",
        "udp 49152-65535 cidr:0.0.0.0/0",
        "tcp 5701-5703 group:itest",
        "tcp 17001-17001 group:itest",
        "tcp 8080-8080 cidr:198.51.100.0/24,203.0.113.8/32",
        "tcp 22-22 cidr:198.51.100.0/24,203.0.113.8/32");
    assertThat(rules).filteredOn(l -> l.startsWith("tcp")).noneMatch(l -> l.contains("0.0.0.0/0"));

    Map<String, String> policy = Ansible.flattenJson(tmp.resolve("policy.json"), tmp);
    assertThat(policy).containsEntry("Statement", "[{\"Action\":[\"ec2:DescribeInstances\"],\"Effect\":\"Allow\","
        + "\"Resource\":\"*\",\"Sid\":\"HazelcastAwsDiscovery\"}]");
  }

  @Test
  void refusesToOpenTheAdminPortsToEveryone() throws Exception {
    Ansible.Result r = render(List.of("0.0.0.0/0"));
    assertThat(r.exitCode()).as(r.describe()).isNotZero();
    assertThat(r.output()).contains("'anywhere' is refused");
    assertThat(tmp.resolve("rules.txt")).doesNotExist();
  }
}
