package io.introducer.client;

import java.util.Objects;
import java.util.Optional;

/**
 * Options of one {@link IntroducerClient#connect(String, ConnectOptions)} call, immutable:
 *
 * <pre>{@code
 * client.connect("player-42", ConnectOptions.policy(ConnectPolicy.RELAY_FIRST));
 * }</pre>
 */
public final class ConnectOptions {
  private static final ConnectOptions DEFAULTS = new ConnectOptions(null);

  private final ConnectPolicy policy;

  private ConnectOptions(ConnectPolicy policy) {
    this.policy = policy;
  }

  /** No option set: the client's {@link ClientConfig#defaultPolicy()} applies. */
  public static ConnectOptions defaults() {
    return DEFAULTS;
  }

  /** Options with this relay policy. */
  public static ConnectOptions policy(ConnectPolicy policy) {
    return new ConnectOptions(Objects.requireNonNull(policy, "policy"));
  }

  /** A copy with this relay policy. */
  public ConnectOptions withPolicy(ConnectPolicy policy) {
    return new ConnectOptions(Objects.requireNonNull(policy, "policy"));
  }

  /** The relay policy, if one was set (otherwise the client's default applies). */
  public Optional<ConnectPolicy> connectPolicy() {
    return Optional.ofNullable(policy);
  }

  @Override
  public String toString() {
    return "ConnectOptions[policy=" + (policy == null ? "default" : policy) + "]";
  }
}
