package io.introducer.relay;

import io.introducer.protocol.ChannelData;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Validated configuration of a {@link RelayVerticle}. Build it with {@link #fromJson(JsonObject)}; every
 * value is range-checked and a bad one is reported as an {@link IllegalArgumentException} naming the key.
 * Addresses are IP literals (never resolved through DNS).
 *
 * @param host address the TURN listening socket binds to
 * @param port TURN listening port; 0 = ephemeral (see {@link RelayVerticle#actualPort()})
 * @param relayHost address the per-allocation relayed sockets bind to
 * @param publicHost concrete address advertised in XOR-RELAYED-ADDRESS (the relay's public IP)
 * @param users static long-term credentials, username to password; passwords never printed
 * @param restSecret TURN REST shared secret, or null when REST credentials are not accepted
 * @param bandwidthBytesPerSecond per allocation and direction; 0 = unlimited
 * @param sweepIntervalMillis how often lifetimes, permissions, channels and caches are expired
 * @param legacyChannelRange also accept RFC 5766 channel numbers 0x5000-0x7FFF (coturn's clients pick
 *     from 0x4000-0x7FFF); RFC 8656 reserves them for RFC 7983 demultiplexing, so off by default
 * @param credentialRollover let an allocation made with TURN REST credentials move to fresh ones of the same user
 *     (later expiry) on its own 5-tuple, where RFC 8656 answers 441 to any other USERNAME: a long session on one
 *     relay then keeps its allocation past the credentials' expiry
 * @param threads event loops the relay runs on, each with its own listening socket on the same port
 *     (SO_REUSEPORT) and its own allocations; at most the number of Vert.x event loops
 */
public record RelayConfig(
    String host,
    int port,
    String relayHost,
    String publicHost,
    int minPort,
    int maxPort,
    String realm,
    Map<String, String> users,
    String restSecret,
    int nonceLifetimeSeconds,
    int defaultLifetimeSeconds,
    int maxLifetimeSeconds,
    int permissionLifetimeSeconds,
    int channelLifetimeSeconds,
    int maxAllocationsPerUser,
    int maxAllocations,
    long bandwidthBytesPerSecond,
    List<Cidr> allowPeers,
    int unauthRatePerSecond,
    String software,
    int sweepIntervalMillis,
    boolean legacyChannelRange,
    boolean credentialRollover,
    int threads) {

  public static final String DEFAULT_HOST = "0.0.0.0";
  public static final int DEFAULT_PORT = 3479;

  public RelayConfig {
    requireLiteral(host, "host");
    require(port >= 0 && port <= 65535, "port must be 0-65535 (0 = ephemeral), got " + port);
    requireLiteral(relayHost, "relayHost");
    InetAddress pub = requireLiteral(publicHost, "publicHost");
    require(!pub.isAnyLocalAddress(), "publicHost must be a concrete address, not the wildcard " + publicHost);
    InetAddress relay = IpLiterals.address(relayHost);
    boolean dualStack = relay instanceof Inet6Address && relay.isAnyLocalAddress();
    require(dualStack || relay.getClass() == pub.getClass(),
        "publicHost " + publicHost + " must be of the same address family as relayHost " + relayHost);
    require(minPort >= 1 && minPort <= 65535, "minPort must be 1-65535, got " + minPort);
    require(maxPort >= 1 && maxPort <= 65535, "maxPort must be 1-65535, got " + maxPort);
    require(minPort <= maxPort, "minPort " + minPort + " must not exceed maxPort " + maxPort);
    // RFC 8489 14.9: REALM is fewer than 128 characters.
    require(realm != null && !realm.isEmpty() && realm.length() < 128, "realm must be 1-127 characters");
    require(users != null, "users must not be null");
    for (Map.Entry<String, String> u : users.entrySet()) {
      require(u.getKey() != null && !u.getKey().isEmpty()
          && u.getKey().getBytes(StandardCharsets.UTF_8).length < 509, "users: username must be 1-508 bytes");
      require(u.getValue() != null && !u.getValue().isEmpty(), "users: password of \"" + u.getKey() + "\" is empty");
    }
    require(restSecret == null || !restSecret.isEmpty(), "restSecret must not be empty when given");
    require(!users.isEmpty() || restSecret != null,
        "users or restSecret must be configured: without credentials the relay refuses every allocation");
    require(nonceLifetimeSeconds >= 1 && nonceLifetimeSeconds <= 86_400,
        "nonceLifetimeSeconds must be 1-86400, got " + nonceLifetimeSeconds);
    require(maxLifetimeSeconds >= 1 && maxLifetimeSeconds <= 86_400,
        "maxLifetimeSeconds must be 1-86400, got " + maxLifetimeSeconds);
    require(defaultLifetimeSeconds >= 1 && defaultLifetimeSeconds <= maxLifetimeSeconds,
        "defaultLifetimeSeconds must be 1-maxLifetimeSeconds (" + maxLifetimeSeconds + "), got " + defaultLifetimeSeconds);
    require(permissionLifetimeSeconds >= 1 && permissionLifetimeSeconds <= 3600,
        "permissionLifetimeSeconds must be 1-3600, got " + permissionLifetimeSeconds);
    require(channelLifetimeSeconds >= 1 && channelLifetimeSeconds <= 3600,
        "channelLifetimeSeconds must be 1-3600, got " + channelLifetimeSeconds);
    require(maxAllocationsPerUser >= 1, "maxAllocationsPerUser must be at least 1, got " + maxAllocationsPerUser);
    require(maxAllocations >= 1, "maxAllocations must be at least 1, got " + maxAllocations);
    require(bandwidthBytesPerSecond >= 0, "bandwidthBytesPerSecond must be >= 0 (0 = unlimited), got " + bandwidthBytesPerSecond);
    require(allowPeers != null, "allowPeers must not be null");
    require(unauthRatePerSecond >= 1, "unauthRatePerSecond must be at least 1, got " + unauthRatePerSecond);
    // RFC 8489 14.14: SOFTWARE is fewer than 128 characters.
    require(software != null && !software.isEmpty() && software.length() < 128, "software must be 1-127 characters");
    require(sweepIntervalMillis >= 10 && sweepIntervalMillis <= 60_000,
        "sweepIntervalMillis must be 10-60000, got " + sweepIntervalMillis);
    require(threads >= 1 && threads <= 64, "threads must be 1-64, got " + threads);
    users = Collections.unmodifiableMap(new LinkedHashMap<>(users));
    allowPeers = List.copyOf(allowPeers);
  }

  /** Parses and validates the verticle's JSON config; absent keys take their defaults, unknown keys are ignored. */
  public static RelayConfig fromJson(JsonObject json) {
    JsonObject j = json == null ? new JsonObject() : json;
    String host = string(j, "host", DEFAULT_HOST);
    requireLiteral(host, "host");
    String relayHost = string(j, "relayHost", host);
    requireLiteral(relayHost, "relayHost");
    String publicHost = string(j, "publicHost", null);
    if (publicHost == null) {
      publicHost = defaultPublicHost(relayHost);
    }
    return new RelayConfig(
        host,
        integer(j, "port", DEFAULT_PORT),
        relayHost,
        publicHost,
        integer(j, "minPort", 49152),
        integer(j, "maxPort", 65535),
        string(j, "realm", "introducer"),
        users(j.getValue("users")),
        string(j, "restSecret", null),
        integer(j, "nonceLifetimeSeconds", 600),
        integer(j, "defaultLifetimeSeconds", 600),
        integer(j, "maxLifetimeSeconds", 3600),
        integer(j, "permissionLifetimeSeconds", 300),
        integer(j, "channelLifetimeSeconds", 600),
        integer(j, "maxAllocationsPerUser", 10),
        integer(j, "maxAllocations", 10_000),
        longInteger(j, "bandwidthBytesPerSecond", 0),
        cidrs(j.getValue("allowPeers")),
        integer(j, "unauthRatePerSecond", 20),
        string(j, "software", "Introducer relay"),
        integer(j, "sweepIntervalMillis", 1000),
        bool(j, "legacyChannelRange", false),
        bool(j, "credentialRollover", true),
        integer(j, "threads", 1));
  }

  /** The relay's own addresses (refused as peers): configured concrete ones plus, for wildcards, every interface address. */
  public List<InetAddress> ownAddresses() {
    List<InetAddress> out = new ArrayList<>();
    for (String h : List.of(host, relayHost, publicHost)) {
      InetAddress a = IpLiterals.address(h);
      if (a.isAnyLocalAddress()) {
        out.addAll(interfaceAddresses());
      } else if (!out.contains(a)) {
        out.add(a);
      }
    }
    return out;
  }

  public InetAddress publicAddress() {
    return IpLiterals.address(publicHost);
  }

  @Override
  public String toString() {
    return "RelayConfig[host=" + host + ", port=" + port + ", relayHost=" + relayHost + ", publicHost=" + publicHost
        + ", ports=" + minPort + "-" + maxPort + ", realm=" + realm + ", users=" + users.keySet()
        + ", restSecret=" + (restSecret == null ? "none" : "***") + ", nonceLifetimeSeconds=" + nonceLifetimeSeconds
        + ", lifetime=" + defaultLifetimeSeconds + "/" + maxLifetimeSeconds
        + ", permissionLifetimeSeconds=" + permissionLifetimeSeconds + ", channelLifetimeSeconds=" + channelLifetimeSeconds
        + ", maxAllocationsPerUser=" + maxAllocationsPerUser + ", maxAllocations=" + maxAllocations
        + ", bandwidthBytesPerSecond=" + bandwidthBytesPerSecond + ", allowPeers=" + allowPeers
        + ", unauthRatePerSecond=" + unauthRatePerSecond + ", software=" + software
        + ", sweepIntervalMillis=" + sweepIntervalMillis + ", legacyChannelRange=" + legacyChannelRange
        + ", credentialRollover=" + credentialRollover + ", threads=" + threads + "]";
  }

  private static String defaultPublicHost(String relayHost) {
    InetAddress relay = IpLiterals.address(relayHost);
    if (!relay.isAnyLocalAddress()) {
      return relayHost;
    }
    // A wildcard is not an address a peer can send to: advertise the first non-loopback one.
    for (InetAddress a : interfaceAddresses()) {
      boolean sameFamily = relay instanceof Inet6Address || a instanceof Inet4Address;
      if (sameFamily && !a.isLoopbackAddress() && !a.isLinkLocalAddress()) {
        return a.getHostAddress();
      }
    }
    throw new IllegalArgumentException("publicHost must be set: relayHost " + relayHost
        + " is a wildcard and this machine has no non-loopback address to advertise");
  }

  private static List<InetAddress> interfaceAddresses() {
    List<InetAddress> out = new ArrayList<>();
    try {
      Enumeration<NetworkInterface> nics = NetworkInterface.getNetworkInterfaces();
      while (nics != null && nics.hasMoreElements()) {
        NetworkInterface nic = nics.nextElement();
        if (!nic.isUp()) {
          continue;
        }
        for (Enumeration<InetAddress> as = nic.getInetAddresses(); as.hasMoreElements(); ) {
          InetAddress a = as.nextElement();
          // Drop the scope id so the address compares equal to one read off a datagram.
          out.add(IpLiterals.address(a.getHostAddress().replaceFirst("%.*$", "")));
        }
      }
    } catch (SocketException e) {
      // No interface list: fall back to the configured addresses only.
    }
    return out;
  }

  private static InetAddress requireLiteral(String value, String key) {
    require(value != null && !value.isBlank(), key + " must be a non-empty IP address");
    InetAddress a = IpLiterals.address(value);
    require(a != null, key + " must be an IP address literal, got \"" + value + "\"");
    return a;
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  private static String string(JsonObject j, String key, String def) {
    Object v = j.getValue(key);
    if (v == null) {
      return def;
    }
    require(v instanceof String, key + " must be a string, got " + v);
    return (String) v;
  }

  private static boolean bool(JsonObject j, String key, boolean def) {
    Object v = j.getValue(key);
    if (v == null) {
      return def;
    }
    require(v instanceof Boolean, key + " must be true or false, got " + v);
    return (Boolean) v;
  }

  /** The highest channel number a client may bind: 0x4FFF (RFC 8656) or 0x7FFF (RFC 5766). */
  public int maxChannel() {
    return legacyChannelRange ? 0x7FFF : ChannelData.MAX_CHANNEL;
  }

  private static int integer(JsonObject j, String key, int def) {
    long l = longInteger(j, key, def);
    require(l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE, key + " is out of range: " + l);
    return (int) l;
  }

  private static long longInteger(JsonObject j, String key, long def) {
    Object v = j.getValue(key);
    if (v == null) {
      return def;
    }
    boolean integral = v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte;
    require(integral, key + " must be an integer, got " + v);
    return ((Number) v).longValue();
  }

  private static Map<String, String> users(Object v) {
    Map<String, String> out = new LinkedHashMap<>();
    if (v == null) {
      return out;
    }
    require(v instanceof JsonArray, "users must be an array of {\"username\": ..., \"password\": ...}");
    for (Object o : (JsonArray) v) {
      require(o instanceof JsonObject, "users: each entry must be an object with username and password, got " + o);
      JsonObject u = (JsonObject) o;
      Object name = u.getValue("username");
      Object password = u.getValue("password");
      require(name instanceof String, "users: username must be a string, got " + name);
      require(password instanceof String, "users: password of \"" + name + "\" must be a string");
      require(out.put((String) name, (String) password) == null, "users: duplicate username \"" + name + "\"");
    }
    return out;
  }

  private static List<Cidr> cidrs(Object v) {
    List<Cidr> out = new ArrayList<>();
    if (v == null) {
      return out;
    }
    require(v instanceof JsonArray, "allowPeers must be an array of CIDR strings like \"10.0.0.0/8\"");
    for (Object o : (JsonArray) v) {
      require(o instanceof String, "allowPeers: each entry must be a CIDR string, got " + o);
      try {
        out.add(Cidr.parse((String) o));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("allowPeers: " + e.getMessage(), e);
      }
    }
    return out;
  }
}
