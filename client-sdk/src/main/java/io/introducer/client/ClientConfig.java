package io.introducer.client;

import io.introducer.client.transport.DatagramTransportFactory;
import io.introducer.client.transport.UdpTransportFactory;
import io.introducer.protocol.rendezvous.PeerTokens;
import io.introducer.protocol.rendezvous.Rendezvous;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * Immutable settings of an {@link IntroducerClient}, built with {@link #builder()}:
 *
 * <pre>{@code
 * ClientConfig config = ClientConfig.builder()
 *     .server("introducer.example.com", 3478)
 *     .appId("my-game").appSecret(secret)
 *     .peerId("server-eu-1")
 *     .build();
 * }</pre>
 */
public final class ClientConfig {
  private final List<InetSocketAddress> servers;
  private final String appId;
  private final String peerId;
  private final byte[] peerKey;
  private final long tokenExpiry;
  private final InetSocketAddress bindAddress;
  private final DatagramTransportFactory transportFactory;
  private final Duration keepaliveInterval;
  private final Duration requestTimeout;
  private final Duration connectTimeout;
  private final ClientListener listener;
  private final Executor callbackExecutor;
  private final Duration probeInterval;
  private final Duration probeTimeout;
  private final Duration relayProbeInterval;
  private final Duration relayProbeTimeout;
  private final ConnectPolicy defaultPolicy;
  private final boolean natDiscovery;
  private final Duration natDiscoveryTimeout;
  private final Duration relayMeasureMinInterval;

  private ClientConfig(Builder b) {
    this.servers = List.copyOf(b.servers);
    this.appId = b.appId;
    this.peerId = b.peerId;
    this.peerKey = b.peerKey != null ? b.peerKey.clone() : Rendezvous.peerKey(b.appSecret, b.appId, b.peerId);
    this.tokenExpiry = b.tokenExpiry;
    this.bindAddress = b.bindAddress;
    this.transportFactory = b.transportFactory;
    this.keepaliveInterval = b.keepaliveInterval;
    this.requestTimeout = b.requestTimeout;
    this.connectTimeout = b.connectTimeout;
    this.listener = b.listener;
    this.callbackExecutor = b.callbackExecutor;
    this.probeInterval = b.probeInterval;
    this.probeTimeout = b.probeTimeout;
    this.relayProbeInterval = b.relayProbeInterval;
    this.relayProbeTimeout = b.relayProbeTimeout;
    this.defaultPolicy = b.defaultPolicy;
    this.natDiscovery = b.natDiscovery;
    this.natDiscoveryTimeout = b.natDiscoveryTimeout;
    this.relayMeasureMinInterval = b.relayMeasureMinInterval;
  }

  /**
   * A builder with the defaults: bind 0.0.0.0:0, real UDP, keepalive 15 s, request timeout 5 s,
   * connect timeout 15 s, NAT discovery on.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Introducer addresses in preference order; the first is the primary. */
  public List<InetSocketAddress> servers() {
    return servers;
  }

  /** The application (game) id. */
  public String appId() {
    return appId;
  }

  /** This client's peer id. */
  public String peerId() {
    return peerId;
  }

  /** K_peer (PROTOCOL.md section 3); kept inside the SDK. */
  byte[] peerKey() {
    return peerKey.clone();
  }

  /** The expiry (Unix seconds) of the peer token the key comes from, sent as TOKEN-EXPIRY; 0 without a token. */
  long tokenExpiry() {
    return tokenExpiry;
  }

  /** The local address the client's socket binds to. */
  public InetSocketAddress bindAddress() {
    return bindAddress;
  }

  /** Where the client's socket comes from. */
  public DatagramTransportFactory transportFactory() {
    return transportFactory;
  }

  /** Time between KEEPALIVEs to the introducer. */
  public Duration keepaliveInterval() {
    return keepaliveInterval;
  }

  /** Total time one request to the introducer may take, retransmissions included. */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  /** Time a {@link IntroducerClient#connect} may take before it fails. */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** The event listener (a no-op one if none was set). */
  public ClientListener listener() {
    return listener;
  }

  /** The executor user callbacks run on, if one was set; otherwise the client uses its own thread. */
  public Optional<Executor> callbackExecutor() {
    return Optional.ofNullable(callbackExecutor);
  }

  /** Whether the client measures its NAT's behaviour at start and tells the introducer (default true). */
  public boolean natDiscovery() {
    return natDiscovery;
  }

  /**
   * The relay policy of {@link IntroducerClient#connect(String)} and of connects whose options set none, and of
   * the sessions other peers open to this one (default {@link ConnectPolicy#AUTO}).
   */
  public ConnectPolicy defaultPolicy() {
    return defaultPolicy;
  }

  /** Most time NAT discovery may take at start ({@link NatDiscovery#CLIENT_BUDGET}; longer only in tests). */
  Duration natDiscoveryTimeout() {
    return natDiscoveryTimeout;
  }

  /**
   * Least time between the starts of two rounds of relay RTT measurement when the introducer's list of relays changes
   * ({@link RelayProbes#MIN_INTERVAL_MILLIS}, 60 s; shorter only in tests).
   */
  Duration relayMeasureMinInterval() {
    return relayMeasureMinInterval;
  }

  /** Interval of the keepalive/RTT PUNCH on an open channel (10 s; shorter only in tests). */
  Duration probeInterval() {
    return probeInterval;
  }

  /** A channel whose probes go unanswered this long is closed (30 s; shorter only in tests). */
  Duration probeTimeout() {
    return probeTimeout;
  }

  /** Interval of the keepalive/RTT PUNCH on a relayed channel (default 1 s), see {@link Builder#relayProbeInterval}. */
  public Duration relayProbeInterval() {
    return relayProbeInterval;
  }

  /**
   * A relayed channel whose probes go unanswered this long counts its relay as lost (default 3 s), see
   * {@link Builder#relayProbeTimeout}.
   */
  public Duration relayProbeTimeout() {
    return relayProbeTimeout;
  }

  @Override
  public String toString() {
    return "ClientConfig[servers=" + servers + ", app=" + appId + ", peer=" + peerId + ", bind=" + bindAddress + "]";
  }

  /** Builds a {@link ClientConfig}; {@link #build()} checks that the settings are complete and valid. */
  public static final class Builder {
    private final List<InetSocketAddress> servers = new ArrayList<>();
    private String appId;
    private String appSecret;
    private byte[] peerKey;
    private long tokenExpiry;
    private String peerId;
    private InetSocketAddress bindAddress = new InetSocketAddress("0.0.0.0", 0);
    private DatagramTransportFactory transportFactory = new UdpTransportFactory();
    private Duration keepaliveInterval = Duration.ofSeconds(15);
    private Duration requestTimeout = Duration.ofSeconds(5);
    private Duration connectTimeout = Duration.ofSeconds(15);
    private ClientListener listener = new ClientListener() {};
    private Executor callbackExecutor;
    private Duration probeInterval = Duration.ofSeconds(10);
    private Duration probeTimeout = Duration.ofSeconds(30);
    private Duration relayProbeInterval = Duration.ofSeconds(1);
    private Duration relayProbeTimeout = Duration.ofSeconds(3);
    private ConnectPolicy defaultPolicy = ConnectPolicy.AUTO;
    private boolean natDiscovery = true;
    private Duration natDiscoveryTimeout = NatDiscovery.CLIENT_BUDGET;
    private Duration relayMeasureMinInterval = Duration.ofMillis(RelayProbes.MIN_INTERVAL_MILLIS);

    private Builder() {}

    /** Adds an introducer address (resolved now); call again for fallbacks. The first added is the primary. */
    public Builder server(String host, int port) {
      Objects.requireNonNull(host, "host");
      return server(new InetSocketAddress(host, port));
    }

    /** Adds all these introducer addresses, in order, after any added before. */
    public Builder servers(List<InetSocketAddress> addresses) {
      Objects.requireNonNull(addresses, "servers").forEach(this::server);
      return this;
    }

    private Builder server(InetSocketAddress address) {
      Objects.requireNonNull(address, "server address");
      if (address.isUnresolved()) {
        throw new IllegalArgumentException("cannot resolve introducer host: " + address.getHostString());
      }
      if (address.getPort() == 0) {
        throw new IllegalArgumentException("introducer port must not be 0: " + address);
      }
      servers.add(address);
      return this;
    }

    /** The application (game) id, 1-64 characters of {@code [A-Za-z0-9._@:-]}. */
    public Builder appId(String appId) {
      this.appId = Objects.requireNonNull(appId, "appId");
      return this;
    }

    /**
     * The application's shared secret; the client derives its peer key from it. Mutually exclusive
     * with {@link #peerKey}.
     */
    public Builder appSecret(String appSecret) {
      this.appSecret = Objects.requireNonNull(appSecret, "appSecret");
      return this;
    }

    /**
     * The pre-derived 32-byte peer key {@code HMAC-SHA256(secret, "introducer-peer-key|" + app + "|" + peer)}
     * a game backend hands its client instead of the app secret. Mutually exclusive with {@link #appSecret}.
     */
    public Builder peerKey(byte[] peerKey) {
      this.peerKey = Objects.requireNonNull(peerKey, "peerKey").clone();
      this.tokenExpiry = 0;
      return this;
    }

    /**
     * A peer token the game's backend minted for this peer id
     * ({@link io.introducer.protocol.rendezvous.PeerTokens#mint}, PROTOCOL.md section 3): the client signs with the
     * token's key and sends its expiry, so whoever holds it can act as this peer only, and only until it expires
     * (then the introducer answers 401 {@code token expired}). Takes the place of {@link #peerKey}; mutually
     * exclusive with {@link #appSecret}.
     *
     * @throws IllegalArgumentException if {@code token} is not a peer token
     */
    public Builder peerToken(String token) {
      PeerTokens.Token t = PeerTokens.parse(Objects.requireNonNull(token, "peerToken"));
      this.peerKey = t.key();
      this.tokenExpiry = t.expiryEpochSeconds();
      return this;
    }

    /** This client's peer id, 1-64 characters of {@code [A-Za-z0-9._@:-]}, unique within the app. */
    public Builder peerId(String peerId) {
      this.peerId = Objects.requireNonNull(peerId, "peerId");
      return this;
    }

    /** Local address to bind (default 0.0.0.0:0: any interface, ephemeral port). */
    public Builder bindAddress(InetSocketAddress bindAddress) {
      this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
      return this;
    }

    /** Source of the client's socket (default {@link UdpTransportFactory}; the NAT simulator supplies others). */
    public Builder transportFactory(DatagramTransportFactory transportFactory) {
      this.transportFactory = Objects.requireNonNull(transportFactory, "transportFactory");
      return this;
    }

    /** Time between KEEPALIVEs (default 15 s). */
    public Builder keepaliveInterval(Duration interval) {
      this.keepaliveInterval = positive(interval, "keepaliveInterval");
      return this;
    }

    /** Total time for one request to the introducer, retransmissions included (default 5 s). */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = positive(timeout, "requestTimeout");
      return this;
    }

    /** Time a connect may take, introduction and punching included (default 15 s). */
    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive(timeout, "connectTimeout");
      return this;
    }

    /** Receives registration and introduction events. */
    public Builder listener(ClientListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** Runs user callbacks (futures, onIncoming, onClose, listener); default: one dedicated daemon thread. */
    public Builder callbackExecutor(Executor executor) {
      this.callbackExecutor = Objects.requireNonNull(executor, "callbackExecutor");
      return this;
    }

    /**
     * Whether to measure the NAT's behaviour at start ({@link NatDiscovery}: a few Binding requests from short-lived
     * extra sockets, at most {@link NatDiscovery#CLIENT_BUDGET}) and send it with REGISTER, so that the introducer
     * can choose a traversal strategy for each pair of peers (default true). Without it the introducer treats the
     * NAT as the common case (endpoint-independent mapping, port-restricted filtering).
     */
    public Builder natDiscovery(boolean enabled) {
      this.natDiscovery = enabled;
      return this;
    }

    /**
     * The relay policy used when a connect does not name one, and for sessions other peers open to this one
     * (default {@link ConnectPolicy#AUTO}: punch, fall back to a relay when punching fails).
     */
    public Builder defaultPolicy(ConnectPolicy policy) {
      this.defaultPolicy = Objects.requireNonNull(policy, "defaultPolicy");
      return this;
    }

    Builder natDiscoveryTimeout(Duration timeout) {
      this.natDiscoveryTimeout = positive(timeout, "natDiscoveryTimeout");
      return this;
    }

    Builder relayMeasureMinInterval(Duration interval) {
      this.relayMeasureMinInterval = positive(interval, "relayMeasureMinInterval");
      return this;
    }

    Builder probeInterval(Duration interval) {
      this.probeInterval = positive(interval, "probeInterval");
      return this;
    }

    Builder probeTimeout(Duration timeout) {
      this.probeTimeout = positive(timeout, "probeTimeout");
      return this;
    }

    /**
     * How often a channel that travels through a TURN relay is probed (a PUNCH through the relay and back; default
     * 1 s, against 10 s on a direct path): relays die with their node, and a relayed session should notice soon.
     */
    public Builder relayProbeInterval(Duration interval) {
      this.relayProbeInterval = positive(interval, "relayProbeInterval");
      return this;
    }

    /**
     * How long the probes of a relayed channel may go unanswered before its relay counts as lost (default 3 s).
     * The peer holding the allocation then asks the introducer for another relay (RELAY-REQUEST), allocates there
     * and announces it; the channel stays the same object and keeps {@link Path#RELAY} (PROTOCOL.md section 8).
     */
    public Builder relayProbeTimeout(Duration timeout) {
      this.relayProbeTimeout = positive(timeout, "relayProbeTimeout");
      return this;
    }

    /**
     * Validates and builds.
     *
     * @throws IllegalArgumentException if a setting is missing, malformed or contradictory
     */
    public ClientConfig build() {
      if (servers.isEmpty()) {
        throw new IllegalArgumentException("at least one introducer server is required");
      }
      if (!Rendezvous.isValidId(appId)) {
        throw new IllegalArgumentException("appId must be 1-64 characters of [A-Za-z0-9._@:-], got: " + appId);
      }
      if (!Rendezvous.isValidId(peerId)) {
        throw new IllegalArgumentException("peerId must be 1-64 characters of [A-Za-z0-9._@:-], got: " + peerId);
      }
      if (appSecret != null && peerKey != null) {
        throw new IllegalArgumentException("set either appSecret or peerKey, not both");
      }
      if (appSecret == null && peerKey == null) {
        throw new IllegalArgumentException("appSecret or peerKey is required");
      }
      if (peerKey != null && peerKey.length != 32) {
        throw new IllegalArgumentException("peerKey must be 32 bytes (HMAC-SHA256), got " + peerKey.length);
      }
      if (relayProbeTimeout.compareTo(relayProbeInterval) < 0) {
        throw new IllegalArgumentException("relayProbeTimeout (" + relayProbeTimeout
            + ") must not be shorter than relayProbeInterval (" + relayProbeInterval + ")");
      }
      if (bindAddress.isUnresolved()) {
        throw new IllegalArgumentException("cannot resolve bind address: " + bindAddress.getHostString());
      }
      return new ClientConfig(this);
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, got " + d);
      }
      return d;
    }
  }
}
