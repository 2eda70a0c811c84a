package io.introducer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class CliArgsTest {

  @Test
  void defaultsTargetTheLocalNodeWithTheDevelopmentApp() {
    CliArgs a = CliArgs.parse(new String[] {"listen"});
    assertThat(a.servers()).containsExactly(new InetSocketAddress("127.0.0.1", 3478));
    assertThat(a.app()).isEqualTo("demo");
    assertThat(a.secret()).isEqualTo("demo-secret");
    assertThat(a.id()).startsWith("peer-");
    assertThat(a.bind().getAddress().isLoopbackAddress()).isTrue();
    assertThat(a.timeout()).isNull();
  }

  @Test
  void connectTakesAPeerAndOptions() {
    CliArgs a = CliArgs.parse(new String[] {"--server", "127.0.0.2:4000", "--id", "alice", "connect", "bob",
        "--send", "hi", "--count", "3", "--timeout", "2.5"});
    assertThat(a.command()).isEqualTo("connect");
    assertThat(a.target()).isEqualTo("bob");
    assertThat(a.send()).isEqualTo("hi");
    assertThat(a.count()).isEqualTo(3);
    assertThat(a.timeout()).isEqualTo(Duration.ofMillis(2500));
    assertThat(a.servers()).containsExactly(new InetSocketAddress("127.0.0.2", 4000));
  }

  @Test
  void netcheckTakesNoPeerAndAnOptionalLifetime() {
    CliArgs a = CliArgs.parse(new String[] {"--server", "127.0.0.2:4000", "--server", "127.0.0.3:4000", "netcheck"});
    assertThat(a.command()).isEqualTo("netcheck");
    assertThat(a.servers()).hasSize(2);
    assertThat(a.lifetime()).isNull();
    assertThat(a.timeout()).isNull();
    assertThat(CliArgs.parse(new String[] {"netcheck", "--lifetime", "30"}).lifetime()).isEqualTo(Duration.ofSeconds(30));
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"netcheck", "bob"})).hasMessageContaining("unexpected argument");
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"netcheck", "--lifetime", "61"})).hasMessageContaining("1-60");
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"listen", "--lifetime", "5"}))
        .hasMessageContaining("--lifetime goes with netcheck");
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"netcheck", "--send", "x"}))
        .hasMessageContaining("--send goes with connect");
  }

  @Test
  void repeatTakesAWholeNumberOfRoundsForListenOrConnect() {
    assertThat(CliArgs.parse(new String[] {"listen"}).repeat()).isZero();
    assertThat(CliArgs.parse(new String[] {"--id", "bob", "--repeat", "20", "listen"}).repeat()).isEqualTo(20);
    assertThat(CliArgs.parse(new String[] {"connect", "bob", "--repeat", "3"}).repeat()).isEqualTo(3);
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"listen", "--repeat", "2.5"}))
        .hasMessageContaining("whole number");
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"listen", "--repeat", "0"}))
        .hasMessageContaining("positive number");
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"netcheck", "--repeat", "2"}))
        .hasMessageContaining("--repeat goes with listen or connect");
  }

  @Test
  void aNonLoopbackServerBindsAllInterfaces() {
    CliArgs a = CliArgs.parse(new String[] {"--server", "192.0.2.10:3478", "listen"});
    assertThat(a.bind().getAddress().isAnyLocalAddress()).isTrue();
  }

  @Test
  void badUsageIsExplained() {
    assertThatThrownBy(() -> CliArgs.parse(new String[] {})).hasMessageContaining("no command");
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"dance"})).hasMessageContaining("unknown command dance")
        .hasMessageContaining("netcheck");
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"connect"})).hasMessageContaining("needs the peer id");
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"--server", "nohost", "listen"}))
        .hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"--server", "127.0.0.1:99999", "listen"}))
        .hasMessageContaining("out of range");
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"--timeout", "-1", "listen"}))
        .hasMessageContaining("positive number");
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"listen", "--send", "x"}))
        .hasMessageContaining("--send goes with connect");
    assertThatThrownBy(() -> CliArgs.parse(new String[] {"--id"})).hasMessageContaining("--id needs a value");
  }

  @Test
  void jsonEventsEscapeText() {
    String s = Json.event("message").put("text", "a\"b\\c\nd\u0001").put("bytes", 5).put("ok", true).toString();
    assertThat(s).isEqualTo("{\"event\":\"message\",\"text\":\"a\\\"b\\\\c\\nd\\u0001\",\"bytes\":5,\"ok\":true}");
  }
}
