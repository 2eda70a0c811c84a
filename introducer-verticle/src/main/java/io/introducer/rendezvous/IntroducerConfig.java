package io.introducer.rendezvous;

import io.introducer.protocol.rendezvous.PunchParams;
import io.introducer.protocol.rendezvous.Rendezvous;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Validated configuration of an {@link IntroducerVerticle}. Build it with {@link #fromJson(JsonObject)}
 * (the verticle does so with its deployment config); every value is range-checked and a bad one is
 * reported as an {@link IllegalArgumentException} naming the key.
 *
 * @param apps application id to shared secret; secrets are never printed by {@link #toString()}
 * @param alternatePort P2 of RFC 5780 (docs/PROTOCOL.md section 6): -1 disabled, 0 ephemeral, else a port
 * @param alternatePortOptional true when {@code alternatePort} was not configured but defaulted: failing to bind it
 *     is then logged and the introducer runs without it, instead of failing to start
 * @param alternateHost IP2 of RFC 5780, a second IP literal of this node of the family of {@code host}, or null
 * @param publicHost the IP literal clients reach {@code host} at (RESPONSE-ORIGIN, OTHER-ADDRESS), or null for
 *     {@code host} itself; needed when {@code host} is a wildcard or behind a 1:1 NAT
 * @param host6 an IPv6 literal on which a second primary socket serves everything over IPv6, or null
 * @param punchParams PUNCH-PARAMS of birthday sessions (socket count, probe count, pacing)
 * @param predictionWindow W, the number of PREDICTED candidates of a sequential allocator (docs/PROTOCOL.md
 *     section 7)
 * @param relay the TURN server whose credentials CONNECT and INTRODUCE hand out, or null
 * @param tokenApps the apps whose requests must be signed with a peer token (their {@code requireTokens}), docs/PROTOCOL.md
 *     section 3
 * @param limits rate limits and the amplification bound (docs/SECURITY.md)
 * @param threads event loops the primary socket(s) are read on, each with its own socket on the same address
 *     (SO_REUSEPORT; needs Vert.x's native epoll transport, else one): plain Bindings are answered on the loop that
 *     read them, everything else runs on the verticle's context. With more than one, a second process of the same
 *     user could bind the port too and take a share of the datagrams (Linux allows SO_REUSEPORT groups within one
 *     effective UID): run the node under its own user, as for the relay
 */
public record IntroducerConfig(
    String host,
    int port,
    int registrationLifetimeSeconds,
    int punchWindowMillis,
    int maxRegistrations,
    int maxSessions,
    int sessionRetentionSeconds,
    String software,
    Map<String, String> apps,
    int alternatePort,
    boolean alternatePortOptional,
    String alternateHost,
    String publicHost,
    String host6,
    PunchParams punchParams,
    int predictionWindow,
    Relay relay,
    Set<String> tokenApps,
    Limits limits,
    int threads) {

  /**
   * The {@code limits} key (docs/SECURITY.md). Every datagram is charged to its source (IPv4 address, or IPv6 /64)
   * before it is decoded: {@code perSourcePerSecond} with bursts of {@code perSourceBurst}, over a table of at most
   * {@code maxSources} sources. Requests naming an app are charged to it before their MESSAGE-INTEGRITY-SHA256 is
   * checked ({@code perAppPerSecond}, {@code perAppBurst}). INTRODUCE and forwarded UPDATE transactions to one peer
   * are capped at {@code introducesPerTargetPerSecond} (bursts of {@code introducesPerTargetBurst}); a CONNECT beyond
   * it is 508 {@code target busy}. The node answers a source with at most {@code amplificationFactor} times the
   * bytes it received from it, plus {@link RateLimits#ALLOWANCE_BYTES} when it has been quiet for a second. A rate
   * of 0 (or an amplification factor of 0) turns that limit off. Loopback sources, which cannot come from the
   * network, are exempt unless {@code exemptLoopback} is false.
   */
  public record Limits(int perSourcePerSecond, int perSourceBurst, int maxSources, int perAppPerSecond,
      int perAppBurst, int introducesPerTargetPerSecond, int introducesPerTargetBurst, int amplificationFactor,
      boolean exemptLoopback) {
    public static final Limits DEFAULT = new Limits(100, 200, 100_000, 20_000, 40_000, 20, 60, 3, true);
    /** Nothing limited: for benchmarks that measure the node itself. */
    public static final Limits NONE = new Limits(0, 1, 1, 0, 1, 0, 1, 0, true);

    public Limits {
      rate(perSourcePerSecond, perSourceBurst, "perSource");
      rate(perAppPerSecond, perAppBurst, "perApp");
      rate(introducesPerTargetPerSecond, introducesPerTargetBurst, "introducesPerTarget");
      require(maxSources >= 1 && maxSources <= 10_000_000, "limits.maxSources must be 1-10000000, got " + maxSources);
      require(amplificationFactor >= 0 && amplificationFactor <= 100,
          "limits.amplificationFactor must be 0 (off) or 1-100, got " + amplificationFactor);
    }

    private static void rate(int perSecond, int burst, String name) {
      require(perSecond >= 0 && perSecond <= 100_000_000,
          "limits." + name + "PerSecond must be 0 (off) or 1-100000000, got " + perSecond);
      require(burst >= 1 && burst <= 1_000_000_000, "limits." + name + "Burst must be at least 1, got " + burst);
    }
  }

  /**
   * A statically configured TURN server (docs/PROTOCOL.md section 8): its address as peers reach it, the TURN REST
   * shared secret it checks credentials with, and how long minted credentials live.
   */
  public record Relay(InetSocketAddress address, String restSecret, int credentialTtlSeconds) {
    public static final int DEFAULT_CREDENTIAL_TTL_SECONDS = 3600;

    public Relay {
      require(address != null && !address.isUnresolved() && !address.getAddress().isAnyLocalAddress()
          && address.getPort() > 0, "relay.address must be a concrete IP literal and port");
      require(restSecret != null && !restSecret.isEmpty(), "relay.restSecret must be a non-empty string");
      require(credentialTtlSeconds >= 60 && credentialTtlSeconds <= 7 * 86_400,
          "relay.credentialTtlSeconds must be 60-604800, got " + credentialTtlSeconds);
    }

    @Override
    public String toString() {
      return "Relay[address=" + SessionJson.address(address) + ", restSecret=***, credentialTtlSeconds="
          + credentialTtlSeconds + "]";
    }
  }

  public static final String DEFAULT_HOST = "0.0.0.0";
  public static final int DEFAULT_PORT = 3478;
  /** The well-known demo credentials of the examples: fine on loopback, a hole anywhere else. */
  public static final String DEMO_APP_ID = "demo";
  public static final String DEMO_APP_SECRET = "demo-secret";
  /** Default of {@code predictionWindow}. */
  public static final int DEFAULT_PREDICTION_WINDOW = 16;
  /** Bounds the PREDICTED candidates so that CONNECT success and INTRODUCE stay well inside one datagram. */
  public static final int MAX_PREDICTION_WINDOW = 32;
  /** Default of {@code threads}, as the node runs the relay. */
  public static final int DEFAULT_THREADS = 2;
  /** Upper bound of {@code threads}. */
  public static final int MAX_THREADS = 64;

  private static final Pattern IPV4_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  public IntroducerConfig {
    require(host != null && !host.isBlank(), "host must be a non-empty string");
    require(port >= 0 && port <= 65535, "port must be 0-65535 (0 = ephemeral), got " + port);
    require(registrationLifetimeSeconds >= 1 && registrationLifetimeSeconds <= 86_400,
        "registrationLifetimeSeconds must be 1-86400, got " + registrationLifetimeSeconds);
    require(punchWindowMillis >= 1 && punchWindowMillis <= 600_000,
        "punchWindowMillis must be 1-600000, got " + punchWindowMillis);
    require(maxRegistrations >= 1, "maxRegistrations must be at least 1, got " + maxRegistrations);
    require(maxSessions >= 1, "maxSessions must be at least 1, got " + maxSessions);
    require(sessionRetentionSeconds >= 1, "sessionRetentionSeconds must be at least 1, got " + sessionRetentionSeconds);
    // RFC 8489 14.14: SOFTWARE is fewer than 128 characters.
    require(software != null && !software.isEmpty() && software.length() < 128,
        "software must be 1-127 characters");
    require(apps != null, "apps must not be null");
    for (Map.Entry<String, String> app : apps.entrySet()) {
      require(Rendezvous.isValidId(app.getKey()),
          "apps: invalid id \"" + app.getKey() + "\" (1-64 characters of A-Z a-z 0-9 . _ @ : -)");
      require(app.getValue() != null && !app.getValue().isEmpty(), "apps: secret of \"" + app.getKey() + "\" is empty");
    }
    apps = Collections.unmodifiableMap(new LinkedHashMap<>(apps));
    require(alternatePort >= -1 && alternatePort <= 65535,
        "alternatePort must be -1 (disabled), 0 (ephemeral) or a port, got " + alternatePort);
    require(alternatePort <= 0 || alternatePort != port, "alternatePort must differ from port " + port);
    if (alternateHost != null) {
      InetAddress ip2 = literal(alternateHost, "alternateHost");
      InetAddress ip1 = literal(host, "host (with alternateHost)");
      require(!ip1.isAnyLocalAddress() && !ip2.isAnyLocalAddress(),
          "alternateHost needs host and alternateHost to be concrete addresses, not wildcards");
      require(ip1.getClass() == ip2.getClass(), "alternateHost must be of the same address family as host");
      require(!ip1.equals(ip2), "alternateHost must differ from host");
    }
    if (publicHost != null) {
      InetAddress pub = literal(publicHost, "publicHost");
      require(!pub.isAnyLocalAddress(), "publicHost must be a concrete address");
      require(pub instanceof Inet6Address == host.contains(":"), "publicHost must be of the same address family as host");
    }
    if (host6 != null) {
      require(literal(host6, "host6") instanceof Inet6Address, "host6 must be an IPv6 literal, got " + host6);
      require(!host.contains(":"), "host6 is a second, IPv6 socket next to an IPv4 host; host is already IPv6");
    }
    require(punchParams != null, "punchParams must not be null");
    require(punchParams.socketCount() >= 1 && punchParams.probeCount() >= 1,
        "punchParams: socketCount and probeCount must be at least 1");
    require(predictionWindow >= 1 && predictionWindow <= MAX_PREDICTION_WINDOW,
        "predictionWindow must be 1-" + MAX_PREDICTION_WINDOW + ", got " + predictionWindow);
    require(tokenApps != null && apps.keySet().containsAll(tokenApps), "tokenApps must name configured apps");
    tokenApps = Set.copyOf(tokenApps);
    require(limits != null, "limits must not be null");
    require(threads >= 1 && threads <= MAX_THREADS, "threads must be 1-" + MAX_THREADS + ", got " + threads);
  }

  /** Every setting but {@code threads}, which is {@link #DEFAULT_THREADS}. */
  public IntroducerConfig(String host, int port, int registrationLifetimeSeconds, int punchWindowMillis,
      int maxRegistrations, int maxSessions, int sessionRetentionSeconds, String software, Map<String, String> apps,
      int alternatePort, boolean alternatePortOptional, String alternateHost, String publicHost, String host6,
      PunchParams punchParams, int predictionWindow, Relay relay, Set<String> tokenApps, Limits limits) {
    this(host, port, registrationLifetimeSeconds, punchWindowMillis, maxRegistrations, maxSessions,
        sessionRetentionSeconds, software, apps, alternatePort, alternatePortOptional, alternateHost, publicHost, host6,
        punchParams, predictionWindow, relay, tokenApps, limits, DEFAULT_THREADS);
  }

  /** The configuration of the first version: no RFC 5780 alternate host, IPv6 socket or relay; defaults otherwise. */
  public IntroducerConfig(String host, int port, int registrationLifetimeSeconds, int punchWindowMillis,
      int maxRegistrations, int maxSessions, int sessionRetentionSeconds, String software, Map<String, String> apps) {
    this(host, port, registrationLifetimeSeconds, punchWindowMillis, maxRegistrations, maxSessions,
        sessionRetentionSeconds, software, apps, defaultAlternatePort(port), true, null, null, null,
        PunchParams.DEFAULT, DEFAULT_PREDICTION_WINDOW, null, Set.of(), Limits.DEFAULT);
  }

  /** P2 when not configured: port + 2 (3478 -> 3480: 3479 is the relay's), port - 2 at the top of the range, 0 for 0. */
  public static int defaultAlternatePort(int port) {
    if (port <= 0) {
      return 0;
    }
    return port + 2 <= 65535 ? port + 2 : port - 2;
  }

  /** Parses and validates the verticle's JSON config; absent keys take their defaults, unknown keys are ignored. */
  public static IntroducerConfig fromJson(JsonObject json) {
    JsonObject j = json == null ? new JsonObject() : json;
    int port = integer(j, "port", DEFAULT_PORT);
    boolean alternateDefaulted = j.getValue("alternatePort") == null;
    return new IntroducerConfig(
        string(j, "host", DEFAULT_HOST),
        port,
        integer(j, "registrationLifetimeSeconds", 60),
        integer(j, "punchWindowMillis", 10_000),
        integer(j, "maxRegistrations", 1_000_000),
        integer(j, "maxSessions", 100_000),
        integer(j, "sessionRetentionSeconds", 3600),
        string(j, "software", "Introducer"),
        apps(j.getValue("apps")),
        integer(j, "alternatePort", defaultAlternatePort(port)),
        alternateDefaulted,
        optionalAddress(j, "alternateHost"),
        optionalAddress(j, "publicHost"),
        optionalAddress(j, "host6"),
        punchParams(j.getValue("punchParams")),
        integer(j, "predictionWindow", DEFAULT_PREDICTION_WINDOW),
        relay(j.getValue("relay")),
        tokenApps(j.getValue("apps")),
        limits(j.getValue("limits")),
        integer(j, "threads", DEFAULT_THREADS));
  }

  /**
   * The address RESPONSE-ORIGIN and OTHER-ADDRESS name for {@code host}: {@code publicHost}, else {@code host}
   * when it is a concrete IP literal, else null (a wildcard or a name: those attributes are then left out).
   */
  public InetAddress advertisedHost() {
    InetAddress a = tryLiteral(publicHost != null ? publicHost : host);
    return a == null || a.isAnyLocalAddress() ? null : a;
  }

  /** Lifetime of minted TURN credentials: the static relay's, else its default (a plugged-in selector's relays). */
  public int relayCredentialTtlSeconds() {
    return relay != null ? relay.credentialTtlSeconds() : Relay.DEFAULT_CREDENTIAL_TTL_SECONDS;
  }

  /** Whether {@code appId} accepts only requests signed with a peer token (its {@code requireTokens}). */
  public boolean requiresToken(String appId) {
    return tokenApps.contains(appId);
  }

  /** The shared secret of {@code appId}, or null for an unknown app. */
  public String secret(String appId) {
    return apps.get(appId);
  }

  /** True when the publicly known demo credentials are enabled on a non-loopback address. */
  public boolean exposesDemoSecret() {
    return DEMO_APP_SECRET.equals(apps.get(DEMO_APP_ID)) && !isLoopback(host);
  }

  /** Loopback check without DNS: names other than "localhost" count as non-loopback. */
  static boolean isLoopback(String host) {
    String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    if (h.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (!IPV4_LITERAL.matcher(h).matches() && !h.contains(":")) {
      return false;
    }
    try {
      return InetAddress.getByName(h).isLoopbackAddress(); // a literal: parsed, never looked up
    } catch (UnknownHostException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "IntroducerConfig[host=" + host + ", port=" + port
        + ", registrationLifetimeSeconds=" + registrationLifetimeSeconds + ", punchWindowMillis=" + punchWindowMillis
        + ", maxRegistrations=" + maxRegistrations + ", maxSessions=" + maxSessions
        + ", sessionRetentionSeconds=" + sessionRetentionSeconds + ", software=" + software
        + ", apps=" + apps.keySet() + ", alternatePort=" + alternatePort
        + (alternatePortOptional ? " (default)" : "") + ", alternateHost=" + alternateHost
        + ", publicHost=" + publicHost + ", host6=" + host6 + ", punchParams=" + punchParams
        + ", predictionWindow=" + predictionWindow + ", relay=" + relay + ", tokenApps=" + tokenApps
        + ", limits=" + limits + ", threads=" + threads + "]";
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** Parses an IP literal ({@code [v6]} brackets accepted) without any DNS lookup; anything else is refused. */
  static InetAddress literal(String value, String key) {
    InetAddress a = tryLiteral(value);
    require(a != null, key + " must be an IP literal, got " + value);
    return a;
  }

  /** The IP literal {@code value} stands for, or null when it is not one (a name is never looked up). */
  static InetAddress tryLiteral(String value) {
    if (value == null) {
      return null;
    }
    String h = value.startsWith("[") && value.endsWith("]") ? value.substring(1, value.length() - 1) : value;
    if (IPV4_LITERAL.matcher(h).matches()) {
      for (String octet : h.split("\\.")) {
        if (Integer.parseInt(octet) > 255) {
          return null; // else InetAddress would take it for a name and ask DNS
        }
      }
    } else if (!h.contains(":")) {
      return null;
    }
    try {
      return InetAddress.getByName(h); // a literal: parsed, never looked up
    } catch (UnknownHostException e) {
      return null;
    }
  }

  /** An optional address: absent and "" (how conf/node.json writes an unset one) both mean none. */
  private static String optionalAddress(JsonObject j, String key) {
    Object v = j.getValue(key);
    return v instanceof String str && str.isBlank() ? null : string(j, key, null);
  }

  private static String string(JsonObject j, String key, String def) {
    Object v = j.getValue(key);
    if (v == null) {
      return def;
    }
    require(v instanceof String, key + " must be a string, got " + v);
    return (String) v;
  }

  private static int integer(JsonObject j, String key, int def) {
    Object v = j.getValue(key);
    if (v == null) {
      return def;
    }
    boolean integral = v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte;
    require(integral, key + " must be an integer, got " + v);
    long l = ((Number) v).longValue();
    require(l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE, key + " is out of range: " + v);
    return (int) l;
  }

  private static PunchParams punchParams(Object v) {
    if (v == null) {
      return PunchParams.DEFAULT;
    }
    require(v instanceof JsonObject, "punchParams must be an object {socketCount, probeCount, probesPerSecond}");
    JsonObject p = (JsonObject) v;
    int sockets = integer(p, "socketCount", PunchParams.DEFAULT.socketCount());
    int probes = integer(p, "probeCount", PunchParams.DEFAULT.probeCount());
    int rate = integer(p, "probesPerSecond", PunchParams.DEFAULT.probesPerSecond());
    require(sockets >= 1 && sockets <= 0xFFFF, "punchParams.socketCount must be 1-65535, got " + sockets);
    require(probes >= 1 && probes <= 0xFFFF, "punchParams.probeCount must be 1-65535, got " + probes);
    require(rate >= 1 && rate <= 0xFFFF, "punchParams.probesPerSecond must be 1-65535, got " + rate);
    return new PunchParams(sockets, probes, rate);
  }

  private static Relay relay(Object v) {
    if (v == null) {
      return null;
    }
    require(v instanceof JsonObject, "relay must be an object {address, restSecret, credentialTtlSeconds}");
    JsonObject r = (JsonObject) v;
    String address = string(r, "address", null);
    require(address != null, "relay.address must be \"ip:port\"");
    String secret = string(r, "restSecret", null);
    require(secret != null, "relay.restSecret must be a non-empty string");
    return new Relay(hostPort(address, "relay.address"), secret,
        integer(r, "credentialTtlSeconds", Relay.DEFAULT_CREDENTIAL_TTL_SECONDS));
  }

  /** "1.2.3.4:3479" or "[::1]:3479", without DNS. */
  static InetSocketAddress hostPort(String value, String key) {
    int colon = value.lastIndexOf(':');
    require(colon > 0 && colon < value.length() - 1, key + " must be \"ip:port\", got " + value);
    String h = value.substring(0, colon);
    require(!h.contains(":") || (h.startsWith("[") && h.endsWith("]")),
        key + ": an IPv6 address goes in brackets, [::1]:3479, got " + value);
    int port;
    try {
      port = Integer.parseInt(value.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + " must be \"ip:port\", got " + value, e);
    }
    require(port >= 1 && port <= 65535, key + ": port must be 1-65535, got " + value);
    InetAddress ip = literal(h, key);
    return new InetSocketAddress(ip, port);
  }

  private static Limits limits(Object v) {
    if (v == null) {
      return Limits.DEFAULT;
    }
    require(v instanceof JsonObject, "limits must be an object {perSourcePerSecond, perSourceBurst, maxSources,"
        + " perAppPerSecond, perAppBurst, introducesPerTargetPerSecond, introducesPerTargetBurst, amplificationFactor,"
        + " exemptLoopback}");
    JsonObject l = (JsonObject) v;
    Limits d = Limits.DEFAULT;
    int perSource = integer(l, "perSourcePerSecond", d.perSourcePerSecond());
    int perApp = integer(l, "perAppPerSecond", d.perAppPerSecond());
    int perTarget = integer(l, "introducesPerTargetPerSecond", d.introducesPerTargetPerSecond());
    Object exempt = l.getValue("exemptLoopback");
    require(exempt == null || exempt instanceof Boolean, "limits.exemptLoopback must be true or false, got " + exempt);
    // A burst left out is twice the rate it goes with (at least 1).
    return new Limits(perSource, integer(l, "perSourceBurst", Math.max(1, 2 * perSource)),
        integer(l, "maxSources", d.maxSources()),
        perApp, integer(l, "perAppBurst", Math.max(1, 2 * perApp)),
        perTarget, integer(l, "introducesPerTargetBurst", Math.max(1, 3 * perTarget)),
        integer(l, "amplificationFactor", d.amplificationFactor()),
        exempt == null ? d.exemptLoopback() : (Boolean) exempt);
  }

  /** The ids of the apps entries with {@code "requireTokens": true}; {@link #apps} validates the rest. */
  private static Set<String> tokenApps(Object v) {
    Set<String> out = new LinkedHashSet<>();
    if (v instanceof JsonArray array) {
      for (Object o : array) {
        if (o instanceof JsonObject app) {
          Object require = app.getValue("requireTokens");
          require(require == null || require instanceof Boolean,
              "apps: requireTokens of \"" + app.getValue("id") + "\" must be true or false");
          if (Boolean.TRUE.equals(require)) {
            out.add(String.valueOf(app.getValue("id")));
          }
        }
      }
    }
    return out;
  }

  private static Map<String, String> apps(Object v) {
    Map<String, String> out = new LinkedHashMap<>();
    if (v == null) {
      return out;
    }
    require(v instanceof JsonArray, "apps must be an array of {\"id\": ..., \"secret\": ...}");
    for (Object o : (JsonArray) v) {
      require(o instanceof JsonObject, "apps: each entry must be an object with id and secret, got " + o);
      JsonObject app = (JsonObject) o;
      Object id = app.getValue("id");
      Object secret = app.getValue("secret");
      require(id instanceof String, "apps: id must be a string, got " + id);
      require(secret instanceof String, "apps: secret of \"" + id + "\" must be a string");
      require(out.put((String) id, (String) secret) == null, "apps: duplicate id \"" + id + "\"");
    }
    return out;
  }
}
