package io.introducer.client;

import io.introducer.client.transport.DatagramTransport;
import io.introducer.client.transport.DatagramTransportFactory;
import io.introducer.client.transport.UdpTransportFactory;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.StunParseException;
import io.introducer.protocol.TransactionId;
import io.introducer.protocol.rendezvous.NatProfile;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures the behaviour of the NAT in front of this machine (RFC 4787 vocabulary, RFC 5780 tests; see
 * docs/PROTOCOL.md section 6) against an introducer: mapping (EIM, ADM, APDM), filtering (EIF, ADF, APDF), port
 * allocation (preserving, sequential with its stride, random), hairpinning and, when asked, the mapping lifetime.
 *
 * <pre>{@code
 * NatDiscovery.Result r = NatDiscovery.builder().server(new InetSocketAddress("introducer.example.com", 3478))
 *     .build().run();
 * System.out.println(r.summary() + " " + r.profile());
 * }</pre>
 *
 * <p>{@link IntroducerClient} runs it when it starts (see {@link ClientConfig.Builder#natDiscovery}) and sends the
 * profile with REGISTER. All tests use short-lived sockets from the transport factory, opened for the run and
 * closed after it, never a client's own socket: a client's registration must be the newest mapping of a
 * sequential NAT (port prediction counts from it), and a filtering test must start from a socket that has sent to
 * nothing but the introducer's primary address.
 *
 * <p>The tests, run in parallel within {@link Builder#timeout} (default 2 s; about 0.5 s with a responsive
 * introducer):
 * <ul>
 *   <li><b>mapping</b>: one socket sends Binding to the primary address (IP1:P1), then to every alternate it learns
 *       (OTHER-ADDRESS IP2:P2, with IP2:P1 and IP1:P2 derived from it, and the further configured servers); the
 *       mapped addresses are compared as RFC 5780 section 4.3 does. A clustered introducer without a second IP of its
 *       own names another node's address as IP2, so one server is enough. With no second IP at all, only
 *       "port-dependent or not" can be told: EIM then may be ADM ({@link Result#notes()} says so).
 *   <li><b>filtering</b>: from a fresh socket, Binding with CHANGE-REQUEST "change IP and port", then "change port"
 *       (all three requests at once: no filter entry for the alternates exists on that socket); answered from the
 *       other IP: EIF, from the other port only: ADF, neither: APDF. A clustered node has another node answer "change
 *       IP" for it; a node with no second IP at all answers 420, and EIF and ADF cannot be told apart (reported as
 *       ADF, with a note).
 *   <li><b>allocation</b>: three fresh sockets send at the same moment; mapped port equal to the local port on at
 *       least two: preserving; consecutive mapped ports a constant small stride apart (|s| &lt;= 16): sequential;
 *       otherwise random (after up to two more tries with three more sockets each, since a lost packet reorders
 *       allocations).
 *   <li><b>hairpinning</b>: a socket sends a Binding request to its own mapped address; it arrives: yes.
 *   <li><b>mapping lifetime</b> (off unless {@link Builder#mappingLifetime} is set, at most 60 s): sockets that sent
 *       once are asked after 1, 2, 3, 5, 8, 13, 20, 30, 45, 60 s, by a Binding with RESPONSE-PORT from another
 *       socket, whether their mapping still exists; the estimate is the longest wait still answered.
 * </ul>
 * Nothing here throws for network trouble: what could not be measured is UNKNOWN and explained in the notes.
 */
public final class NatDiscovery {
  private static final Logger log = LoggerFactory.getLogger(NatDiscovery.class);
  /** The time {@link IntroducerClient} gives discovery at start. */
  public static final Duration CLIENT_BUDGET = Duration.ofSeconds(2);
  /** The longest mapping lifetime measured. */
  public static final Duration MAX_LIFETIME = Duration.ofSeconds(60);
  /** Largest |stride| reported as sequential allocation (PROTOCOL.md section 6). */
  static final int MAX_STRIDE = 16;
  /** First retransmission timeout of a Binding request; doubles after each. */
  static final long RTO_MILLIS = 100;
  /**
   * The least time, from the start, the filtering test waits for a changed answer; it waits longer on a slow path
   * (two round trips after the first retransmission).
   */
  static final long MIN_FILTER_WAIT_MILLIS = 250;
  /** How long a hairpinned request may take (it never leaves the NAT). */
  static final long HAIRPIN_WAIT_MILLIS = 150;
  /** Bursts of three sockets the allocation test tries before it calls the allocation random. */
  static final int ALLOCATION_TRIES = 3;
  /** Mapping lifetime checks, in seconds after the mapping was made. */
  static final int[] LIFETIME_CHECKS = {1, 2, 3, 5, 8, 13, 20, 30, 45, 60};
  private static final AtomicInteger RUNS = new AtomicInteger();

  private final List<InetSocketAddress> servers;
  private final DatagramTransportFactory factory;
  private final InetSocketAddress bindAddress;
  private final Duration timeout;
  private final Duration lifetimeMax;
  private final String threadPrefix;

  private NatDiscovery(Builder b) {
    this.servers = List.copyOf(b.servers);
    this.factory = b.factory;
    this.bindAddress = b.bindAddress;
    this.timeout = b.timeout;
    this.lifetimeMax = b.lifetimeMax;
    this.threadPrefix = b.threadPrefix != null ? b.threadPrefix : "introducer-netcheck-" + RUNS.incrementAndGet();
  }

  /** A builder: at least one server is required; real UDP on 0.0.0.0, 2 s, no lifetime test by default. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * What was measured.
   *
   * @param profile the NAT profile, as REGISTER carries it; fields that could not be measured are UNKNOWN
   * @param publicAddresses the distinct server-reflexive addresses seen, the first one towards the primary server
   *     (one address for an endpoint-independent mapping, one per destination otherwise)
   * @param notes why a field is unknown or only partly determined (empty when everything was measured)
   * @param otherAddress the alternate address the primary server named (OTHER-ADDRESS, RFC 5780 section 7.4: its
   *     second IP and port, or another node's in a cluster, or only its alternate port), which the mapping and
   *     filtering tests used; null when it named none
   */
  public record Result(NatProfile profile, List<InetSocketAddress> publicAddresses, List<String> notes,
      InetSocketAddress otherAddress) {
    public Result {
      Objects.requireNonNull(profile, "profile");
      publicAddresses = List.copyOf(publicAddresses);
      notes = List.copyOf(notes);
    }

    /** Without an OTHER-ADDRESS. */
    public Result(NatProfile profile, List<InetSocketAddress> publicAddresses, List<String> notes) {
      this(profile, publicAddresses, notes, null);
    }

    /** Whether the server supports RFC 5780 behaviour discovery (it named an alternate address). */
    public boolean rfc5780() {
      return otherAddress != null;
    }

    /** Open (EIM + EIF), moderate (EIM + ADF/APDF) or strict (ADM/APDM); UNKNOWN without a mapping result. */
    public NatProfile.Summary summary() {
      return profile.summary();
    }

    @Override
    public String toString() {
      NatProfile p = profile;
      return summary().name().toLowerCase() + " (mapping " + p.mapping() + ", filtering " + p.filtering()
          + ", allocation " + p.allocation().name().toLowerCase()
          + (p.allocation() == NatProfile.Allocation.SEQUENTIAL ? " stride " + p.stride() : "")
          + ", hairpinning " + p.hairpinning().name().toLowerCase()
          + (p.lifetimeSeconds() > 0 ? ", lifetime " + p.lifetimeSeconds() + " s" : "")
          + ", public " + publicAddresses + (otherAddress == null ? "" : ", alternate " + format(otherAddress))
          + (notes.isEmpty() ? "" : ", notes " + notes) + ")";
    }
  }

  /**
   * Runs the tests and returns what they found; blocks for at most the timeout (plus the lifetime maximum when
   * that test is on). Interruption ends the run early with what was measured so far.
   */
  public Result run() {
    try (Run r = new Run()) {
      return r.execute();
    }
  }

  /**
   * The server-reflexive address a fresh socket gets towards {@code server}: on a sequential NAT, where its port
   * allocator stands right now (port prediction, see {@link PunchPlan}). Blocking, at most {@code timeout}; null
   * without an answer.
   */
  static InetSocketAddress freshMapping(DatagramTransportFactory factory, InetSocketAddress bind,
      InetSocketAddress server, Duration timeout, String threadPrefix) {
    NatDiscovery d = builder().server(server).transportFactory(factory).bindAddress(bind).timeout(timeout)
        .threadNamePrefix(threadPrefix).build();
    try (Run r = d.new Run()) {
      return r.freshMapping();
    } catch (IOException e) {
      log.debug("cannot open a socket to locate the NAT's allocator: {}", e.toString());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Builds a {@link NatDiscovery}. */
  public static final class Builder {
    private final List<InetSocketAddress> servers = new ArrayList<>();
    private DatagramTransportFactory factory = new UdpTransportFactory();
    private InetSocketAddress bindAddress = new InetSocketAddress("0.0.0.0", 0);
    private Duration timeout = CLIENT_BUDGET;
    private Duration lifetimeMax;
    private String threadPrefix;

    private Builder() {}

    /** Adds an introducer; the first is the primary (the one whose alternate address and port are used). */
    public Builder server(InetSocketAddress server) {
      Objects.requireNonNull(server, "server");
      if (server.isUnresolved()) {
        throw new IllegalArgumentException("unresolved server address " + server);
      }
      servers.add(server);
      return this;
    }

    /** Adds these introducers in order; servers after the first serve as alternate addresses (e.g. other nodes). */
    public Builder servers(List<InetSocketAddress> all) {
      Objects.requireNonNull(all, "servers").forEach(this::server);
      return this;
    }

    /** Where the test sockets come from (default: real UDP). */
    public Builder transportFactory(DatagramTransportFactory factory) {
      this.factory = Objects.requireNonNull(factory, "transportFactory");
      return this;
    }

    /** The local address the test sockets bind (default 0.0.0.0:0; the port should be 0). */
    public Builder bindAddress(InetSocketAddress bindAddress) {
      this.bindAddress = Objects.requireNonNull(bindAddress, "bindAddress");
      return this;
    }

    /** Time for every test but the lifetime one (default 2 s, at least 200 ms). */
    public Builder timeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.toMillis() < 200 || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
        throw new IllegalArgumentException("timeout must be 200 ms - 1 min, got " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /** Also estimates how long an idle mapping lives, waiting up to {@code max} (1-60 s) for it. Off by default. */
    public Builder mappingLifetime(Duration max) {
      Objects.requireNonNull(max, "max");
      if (max.toSeconds() < 1 || max.compareTo(MAX_LIFETIME) > 0) {
        throw new IllegalArgumentException("mapping lifetime test runs 1-60 s, got " + max);
      }
      this.lifetimeMax = max;
      return this;
    }

    Builder threadNamePrefix(String prefix) {
      this.threadPrefix = prefix;
      return this;
    }

    /** @throws IllegalArgumentException without a server */
    public NatDiscovery build() {
      if (servers.isEmpty()) {
        throw new IllegalArgumentException("at least one server is required");
      }
      return new NatDiscovery(this);
    }
  }

  // ------------------------------------------------------------------------------------------ one run

  /** An answer to one of our requests: the response, where it came from, which socket got it. */
  private record Reply(StunMessage message, InetSocketAddress source, DatagramTransport socket, boolean firstTry) {
    boolean success() {
      return message.messageClass() == StunClass.SUCCESS_RESPONSE;
    }

    InetSocketAddress mapped() {
      InetSocketAddress a = message.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS);
      return a != null ? a : message.getAddress(StunAttributes.MAPPED_ADDRESS);
    }
  }

  private final class Pending {
    final TransactionId id;
    final byte[] bytes;
    final InetSocketAddress target;
    final DatagramTransport socket;
    final long deadlineNanos;
    final CompletableFuture<Reply> result = new CompletableFuture<>();
    volatile int sent;
    long rto = RTO_MILLIS;

    Pending(TransactionId id, byte[] bytes, InetSocketAddress target, DatagramTransport socket, long deadlineNanos) {
      this.id = id;
      this.bytes = bytes;
      this.target = target;
      this.socket = socket;
      this.deadlineNanos = deadlineNanos;
    }
  }

  private final class Run implements AutoCloseable {
    private final long startNanos = System.nanoTime();
    private final long deadlineNanos = startNanos + timeout.toNanos();
    private final ScheduledThreadPoolExecutor timer;
    private final Object sendLock = new Object();
    private final List<DatagramTransport> sockets = new ArrayList<>();
    private final Map<TransactionId, Pending> pending = new ConcurrentHashMap<>();
    private final Map<TransactionId, CompletableFuture<InetSocketAddress>> hairpins = new ConcurrentHashMap<>();
    private final List<String> notes = new ArrayList<>();
    private final AtomicInteger receivers = new AtomicInteger();
    private final InetSocketAddress primary = servers.get(0);

    Run() {
      timer = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, threadPrefix);
        t.setDaemon(true);
        return t;
      });
      timer.setRemoveOnCancelPolicy(true);
      timer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    }

    Result execute() {
      try {
        return measure();
      } catch (IOException e) {
        return unknown("cannot open test sockets: " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return unknown("interrupted");
      }
    }

    InetSocketAddress freshMapping() throws IOException, InterruptedException {
      Reply r = await(request(open(), primary, binding(0), deadlineNanos), deadlineNanos);
      return r == null || !r.success() ? null : r.mapped();
    }

    private Result unknown(String why) {
      notes.add(why);
      return new Result(NatProfile.UNKNOWN, List.of(), notes);
    }

    private Result measure() throws IOException, InterruptedException {
      DatagramTransport filter = open();
      DatagramTransport[] alloc = {open(), open(), open()};

      // Three fresh sockets at the same moment (allocation), then the filtering socket's three requests.
      List<CompletableFuture<Reply>> burst = new ArrayList<>();
      CompletableFuture<Reply> changeBoth;
      CompletableFuture<Reply> changePort;
      synchronized (sendLock) {
        for (DatagramTransport s : alloc) {
          burst.add(request(s, primary, binding(0), deadlineNanos));
        }
        changeBoth = request(filter, primary, binding(0x6), deadlineNanos);
        changePort = request(filter, primary, binding(0x2), deadlineNanos);
      }

      Reply main = awaitAny(burst);
      if (main == null) {
        return unknown("no answer from " + format(primary));
      }
      long rttNanos = System.nanoTime() - startNanos;
      if (!main.success() || main.mapped() == null) {
        return unknown("no usable Binding answer from " + format(primary) + ": " + main.message());
      }
      DatagramTransport mapper = main.socket();
      InetSocketAddress other = main.message().getAddress(StunAttributes.OTHER_ADDRESS);
      boolean rfc5780 = other != null;
      if (!rfc5780) {
        notes.add("the introducer gives no OTHER-ADDRESS (no alternate port or address): filtering unknown");
      }

      // Mapping: the same socket to every alternate destination at once.
      Map<InetSocketAddress, CompletableFuture<Reply>> mappingAnswers = new LinkedHashMap<>();
      mappingAnswers.put(primary, CompletableFuture.completedFuture(main));
      synchronized (sendLock) {
        for (InetSocketAddress d : alternates(other)) {
          mappingAnswers.put(d, request(mapper, d, binding(0), deadlineNanos));
        }
      }

      // Hairpinning: another socket sends to its own mapping.
      int h = alloc[1] != mapper ? 1 : 0;
      DatagramTransport hairpinSocket = alloc[h];
      CompletableFuture<Reply> hairpinBase = burst.get(h);

      long filterUntil = Math.min(deadlineNanos, startNanos + TimeUnit.MILLISECONDS.toNanos(
          Math.max(MIN_FILTER_WAIT_MILLIS, RTO_MILLIS + 50 + 2 * TimeUnit.NANOSECONDS.toMillis(rttNanos))));
      NatProfile.Hairpinning hairpinning = hairpin(hairpinSocket, await(hairpinBase, deadlineNanos), rttNanos);

      // Alternate servers may name their own alternate port: one more destination on their IP.
      Map<InetSocketAddress, CompletableFuture<Reply>> second = new LinkedHashMap<>();
      for (Map.Entry<InetSocketAddress, CompletableFuture<Reply>> e : mappingAnswers.entrySet()) {
        Reply r = await(e.getValue(), deadlineNanos);
        InetSocketAddress o = r == null || !r.success() ? null : r.message().getAddress(StunAttributes.OTHER_ADDRESS);
        if (!e.getKey().equals(primary) && servers.contains(e.getKey()) && o != null
            && o.getAddress().equals(e.getKey().getAddress()) && !mappingAnswers.containsKey(o)) {
          second.put(o, request(mapper, o, binding(0), deadlineNanos));
        }
      }
      mappingAnswers.putAll(second);
      Map<InetSocketAddress, InetSocketAddress> mapped = new LinkedHashMap<>();
      for (Map.Entry<InetSocketAddress, CompletableFuture<Reply>> e : mappingAnswers.entrySet()) {
        Reply r = await(e.getValue(), deadlineNanos);
        if (r != null && r.success() && r.mapped() != null) {
          mapped.put(e.getKey(), r.mapped());
        }
      }
      NatProfile.Mapping mapping = mapping(mapped);

      // Allocation: the burst, and up to twice more with three new sockets while it says nothing clear (a packet
      // lost before the NAT mapped it reorders the allocations).
      Allocation allocation = allocation(burst);
      for (int tries = 1; allocation == null && tries < ALLOCATION_TRIES
          && System.nanoTime() < deadlineNanos - TimeUnit.MILLISECONDS.toNanos(100); tries++) {
        List<CompletableFuture<Reply>> again = new ArrayList<>();
        DatagramTransport[] more = {open(), open(), open()};
        synchronized (sendLock) {
          for (DatagramTransport s : more) {
            again.add(request(s, primary, binding(0), deadlineNanos));
          }
        }
        allocation = allocation(again);
      }
      if (allocation == null) {
        allocation = new Allocation(NatProfile.Allocation.RANDOM, 0);
      }

      NatProfile.Filtering filtering = rfc5780 ? filtering(changeBoth, changePort, filterUntil)
          : NatProfile.Filtering.UNKNOWN;
      int lifetime = lifetimeMax == null ? 0 : lifetime(alloc[2], rttNanos);

      List<InetSocketAddress> publicAddresses = new ArrayList<>(new LinkedHashSet<>(mapped.values()));
      NatProfile profile = new NatProfile(mapping, filtering, allocation.kind(), allocation.stride(), hairpinning,
          lifetime);
      return new Result(profile, publicAddresses, notes, other);
    }

    // --- the classifications

    /** Destinations other than the primary: from OTHER-ADDRESS (IP2:P1, IP2:P2, IP1:P2) and the other servers. */
    private List<InetSocketAddress> alternates(InetSocketAddress other) {
      Set<InetSocketAddress> out = new LinkedHashSet<>();
      if (other != null) {
        if (!other.getAddress().equals(primary.getAddress())) {
          out.add(new InetSocketAddress(other.getAddress(), primary.getPort()));
          out.add(other);
        }
        if (other.getPort() != primary.getPort()) {
          out.add(new InetSocketAddress(primary.getAddress(), other.getPort()));
        }
      }
      for (InetSocketAddress s : servers.subList(1, servers.size())) {
        if (out.size() < 8 && (s.getAddress() instanceof java.net.Inet4Address)
            == (primary.getAddress() instanceof java.net.Inet4Address)) {
          out.add(s);
        }
      }
      out.remove(primary);
      return new ArrayList<>(out);
    }

    /** RFC 5780 section 4.3 over whatever destinations answered; {@code mapped} starts with the primary. */
    private NatProfile.Mapping mapping(Map<InetSocketAddress, InetSocketAddress> mapped) {
      InetSocketAddress m1 = mapped.get(primary);
      InetSocketAddress ip2 = null;
      for (InetSocketAddress d : mapped.keySet()) {
        if (!d.getAddress().equals(primary.getAddress())
            && (ip2 == null || d.getPort() == primary.getPort() && ip2.getPort() != primary.getPort())) {
          ip2 = d;
        }
      }
      InetSocketAddress samePortOther = null;
      for (InetSocketAddress d : mapped.keySet()) {
        if (d.getAddress().equals(primary.getAddress()) && d.getPort() != primary.getPort()) {
          samePortOther = d;
          break;
        }
      }
      if (ip2 != null) {
        InetSocketAddress m2 = mapped.get(ip2);
        if (m2.equals(m1)) {
          return NatProfile.Mapping.EIM;
        }
        for (Map.Entry<InetSocketAddress, InetSocketAddress> e : mapped.entrySet()) {
          InetSocketAddress d = e.getKey();
          if (d.getAddress().equals(ip2.getAddress()) && d.getPort() != ip2.getPort()) {
            return e.getValue().equals(m2) ? NatProfile.Mapping.ADM : NatProfile.Mapping.APDM;
          }
        }
        if (samePortOther != null) {
          return mapped.get(samePortOther).equals(m1) ? NatProfile.Mapping.ADM : NatProfile.Mapping.APDM;
        }
        notes.add("mapping: endpoint-dependent, ADM or APDM (no second port on the second IP)");
        return NatProfile.Mapping.APDM;
      }
      if (samePortOther != null) {
        if (mapped.get(samePortOther).equals(m1)) {
          notes.add("mapping: EIM or ADM (the introducer has no second IP)");
          return NatProfile.Mapping.EIM;
        }
        return NatProfile.Mapping.APDM;
      }
      notes.add("mapping: unknown (no alternate address answered)");
      return NatProfile.Mapping.UNKNOWN;
    }

    private NatProfile.Filtering filtering(CompletableFuture<Reply> both, CompletableFuture<Reply> port,
        long untilNanos) throws InterruptedException {
      Reply rb = await(both, untilNanos);
      Reply rp = await(port, untilNanos);
      forget(both);
      forget(port);
      Boolean ipAndPort = changed(rb, true);
      Boolean portOnly = changed(rp, false);
      if (Boolean.TRUE.equals(ipAndPort)) {
        return NatProfile.Filtering.EIF;
      }
      if (ipAndPort == null) {
        if (Boolean.TRUE.equals(portOnly)) {
          notes.add("filtering: EIF or ADF (the introducer cannot answer from a second IP)");
          return NatProfile.Filtering.ADF;
        }
        if (portOnly == null) {
          notes.add("filtering: unknown (the introducer cannot answer from another address)");
          return NatProfile.Filtering.UNKNOWN;
        }
        return NatProfile.Filtering.APDF;
      }
      if (Boolean.TRUE.equals(portOnly)) {
        return NatProfile.Filtering.ADF;
      }
      if (portOnly == null) {
        notes.add("filtering: ADF or APDF (the introducer cannot answer from another port)");
      }
      return NatProfile.Filtering.APDF;
    }

    /**
     * True: answered from the changed address; false: no answer; null: the introducer cannot make the change
     * (420, or it answered from the address asked, ignoring CHANGE-REQUEST).
     */
    private Boolean changed(Reply r, boolean ip) {
      if (r == null) {
        return false;
      }
      if (!r.success()) {
        return null;
      }
      InetSocketAddress s = r.source();
      boolean ok = ip ? !s.getAddress().equals(primary.getAddress())
          : s.getAddress().equals(primary.getAddress()) && s.getPort() != primary.getPort();
      return ok ? Boolean.TRUE : null;
    }

    private record Allocation(NatProfile.Allocation kind, int stride) {}

    /** Null when the burst does not tell (an answer missing or retransmitted, or ports that fit no pattern). */
    private Allocation allocation(List<CompletableFuture<Reply>> burst) throws InterruptedException {
      int[] mappedPorts = new int[burst.size()];
      int preserved = 0;
      boolean clean = true;
      java.net.InetAddress ip = null;
      for (int i = 0; i < burst.size(); i++) {
        Reply r = await(burst.get(i), deadlineNanos);
        if (r == null || !r.success() || r.mapped() == null) {
          return null;
        }
        clean &= r.firstTry();
        if (ip != null && !ip.equals(r.mapped().getAddress())) {
          clean = false;
        }
        ip = r.mapped().getAddress();
        mappedPorts[i] = r.mapped().getPort();
        if (mappedPorts[i] == r.socket().localAddress().getPort()) {
          preserved++;
        }
      }
      if (preserved >= 2) {
        return new Allocation(NatProfile.Allocation.PRESERVING, 0);
      }
      if (!clean) {
        return null;
      }
      int stride = mappedPorts[1] - mappedPorts[0];
      for (int i = 2; i < mappedPorts.length; i++) {
        if (mappedPorts[i] - mappedPorts[i - 1] != stride) {
          return null;
        }
      }
      return stride != 0 && Math.abs(stride) <= MAX_STRIDE ? new Allocation(NatProfile.Allocation.SEQUENTIAL, stride)
          : null;
    }

    private NatProfile.Hairpinning hairpin(DatagramTransport socket, Reply base, long rttNanos)
        throws InterruptedException {
      if (base == null || !base.success() || base.mapped() == null) {
        notes.add("hairpinning: unknown");
        return NatProfile.Hairpinning.UNKNOWN;
      }
      byte[] request = binding(0);
      TransactionId id = new TransactionId(java.util.Arrays.copyOfRange(request, 8, 20));
      CompletableFuture<InetSocketAddress> arrived = new CompletableFuture<>();
      hairpins.put(id, arrived);
      InetSocketAddress self = base.mapped();
      send(socket, request, self);
      schedule(() -> {
        if (!arrived.isDone()) {
          send(socket, request, self);
        }
      }, HAIRPIN_WAIT_MILLIS / 4);
      long wait = Math.max(HAIRPIN_WAIT_MILLIS, TimeUnit.NANOSECONDS.toMillis(rttNanos));
      InetSocketAddress got = awaitValue(arrived, Math.min(deadlineNanos,
          System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait)));
      hairpins.remove(id);
      return got != null ? NatProfile.Hairpinning.YES : NatProfile.Hairpinning.NO;
    }

    /** Seconds, 0 when unknown; see the class comment. */
    private int lifetime(DatagramTransport helper, long rttNanos) throws IOException, InterruptedException {
      int max = (int) lifetimeMax.toSeconds();
      List<Integer> checks = new ArrayList<>();
      for (int c : LIFETIME_CHECKS) {
        if (c <= max) {
          checks.add(c);
        }
      }
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(max + 5);
      List<DatagramTransport> watched = new ArrayList<>();
      List<CompletableFuture<Reply>> made = new ArrayList<>();
      for (int i = 0; i < checks.size(); i++) {
        watched.add(open());
      }
      long t0 = System.nanoTime();
      synchronized (sendLock) {
        for (DatagramTransport s : watched) {
          made.add(request(s, primary, binding(0), end));
        }
      }
      long answerWait = Math.max(300, 3 * TimeUnit.NANOSECONDS.toMillis(rttNanos));
      int alive = 0;
      for (int i = 0; i < checks.size(); i++) {
        Reply base = await(made.get(i), t0 + TimeUnit.SECONDS.toNanos(checks.get(i)));
        if (base == null || !base.success() || base.mapped() == null) {
          notes.add("lifetime: a test socket got no answer");
          return alive;
        }
        long at = t0 + TimeUnit.SECONDS.toNanos(checks.get(i));
        long sleep = at - System.nanoTime();
        if (sleep > 0) {
          TimeUnit.NANOSECONDS.sleep(sleep);
        }
        Reply r = await(request(helper, primary, responsePort(base.mapped().getPort()),
            System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(answerWait)), end);
        if (r != null && (!r.success() || r.socket() != watched.get(i))) {
          notes.add("lifetime: the introducer does not support RESPONSE-PORT");
          return 0;
        }
        if (r == null) {
          if (alive == 0) {
            notes.add("lifetime: less than " + checks.get(i) + " s");
          }
          return alive;
        }
        alive = checks.get(i);
      }
      notes.add("lifetime: at least " + alive + " s (the longest wait tested)");
      return alive;
    }

    // --- requests

    private DatagramTransport open() throws IOException {
      DatagramTransport t = factory.open(bindAddress);
      sockets.add(t);
      Thread rx = new Thread(null, () -> receive(t), threadPrefix + "-rx-" + receivers.incrementAndGet(), 128 * 1024);
      rx.setDaemon(true);
      rx.start();
      return t;
    }

    private byte[] binding(int changeFlags) {
      StunMessage.Builder b = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST);
      if (changeFlags != 0) {
        b.add(StunAttributes.CHANGE_REQUEST, new byte[] {0, 0, 0, (byte) changeFlags});
      }
      return b.fingerprint().encode();
    }

    /** A Binding with RESPONSE-PORT, padded so that the answer (with its address attributes) is no larger than it. */
    private byte[] responsePort(int port) {
      return StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST)
          .add(StunAttributes.RESPONSE_PORT, new byte[] {(byte) (port >>> 8), (byte) port, 0, 0})
          .add(StunAttributes.SOFTWARE, "introducer-netcheck lifetime test, padded to the size of its answer"
              .getBytes(java.nio.charset.StandardCharsets.UTF_8))
          .fingerprint().encode();
    }

    /** Sends now (the caller may hold the send lock for a burst) and retransmits until answered or the deadline. */
    private CompletableFuture<Reply> request(DatagramTransport socket, InetSocketAddress target, byte[] bytes,
        long untilNanos) {
      TransactionId id = new TransactionId(java.util.Arrays.copyOfRange(bytes, 8, 20));
      Pending p = new Pending(id, bytes, target, socket, untilNanos);
      pending.put(id, p);
      transmit(p);
      return p.result;
    }

    private void transmit(Pending p) {
      if (p.result.isDone()) {
        return;
      }
      long left = TimeUnit.NANOSECONDS.toMillis(p.deadlineNanos - System.nanoTime());
      if (left <= 0) {
        pending.remove(p.id);
        p.result.complete(null);
        return;
      }
      p.sent++;
      send(p.socket, p.bytes, p.target);
      long wait = Math.min(p.rto, left);
      p.rto *= 2;
      schedule(() -> transmit(p), wait);
    }

    private void forget(CompletableFuture<Reply> f) {
      pending.values().removeIf(p -> p.result == f);
      f.complete(null);
    }

    private void send(DatagramTransport socket, byte[] bytes, InetSocketAddress target) {
      synchronized (sendLock) {
        try {
          socket.send(ByteBuffer.wrap(bytes), target);
        } catch (IOException e) {
          log.debug("netcheck send to {} failed: {}", target, e.toString());
        }
      }
    }

    private void schedule(Runnable task, long delayMillis) {
      try {
        timer.schedule(task, delayMillis, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException e) {
        // the run is over
      }
    }

    private void receive(DatagramTransport socket) {
      ByteBuffer buf = ByteBuffer.allocate(2048);
      while (true) {
        buf.clear();
        InetSocketAddress source;
        try {
          source = socket.receive(buf);
        } catch (ClosedChannelException e) {
          return;
        } catch (IOException e) {
          if (timer.isShutdown()) {
            return;
          }
          log.debug("netcheck receive failed: {}", e.toString());
          continue;
        }
        buf.flip();
        if (source == null || buf.remaining() < StunMessage.HEADER_LENGTH) {
          continue;
        }
        byte[] data = new byte[buf.remaining()];
        buf.get(data);
        StunMessage m;
        try {
          m = StunMessage.decode(data);
        } catch (StunParseException e) {
          continue;
        }
        if (m.method() != StunMethods.BINDING) {
          continue;
        }
        if (m.messageClass() == StunClass.REQUEST) {
          CompletableFuture<InetSocketAddress> h = hairpins.get(m.transactionKey());
          if (h != null) {
            h.complete(source);
          }
        } else if (m.messageClass().isResponse()) {
          Pending p = pending.remove(m.transactionKey());
          if (p != null) {
            p.result.complete(new Reply(m, source, socket, p.sent == 1));
          }
        }
      }
    }

    // --- waiting

    /** The first answer to any of the burst's requests, or null when none came before the deadline. */
    private Reply awaitAny(List<CompletableFuture<Reply>> burst) throws InterruptedException {
      CompletableFuture<Object> any = CompletableFuture.anyOf(burst.stream()
          .map(f -> f.thenCompose(r -> r == null ? new CompletableFuture<Reply>() : CompletableFuture.completedFuture(r)))
          .toArray(CompletableFuture[]::new));
      Object r = awaitValue(any, deadlineNanos);
      return (Reply) r;
    }

    private Reply await(CompletableFuture<Reply> f, long untilNanos) throws InterruptedException {
      return awaitValue(f, untilNanos);
    }

    private <T> T awaitValue(CompletableFuture<T> f, long untilNanos) throws InterruptedException {
      long left = untilNanos - System.nanoTime();
      try {
        return left <= 0 ? f.getNow(null) : f.get(left, TimeUnit.NANOSECONDS);
      } catch (ExecutionException e) {
        return null;
      } catch (TimeoutException e) {
        return f.getNow(null);
      }
    }

    @Override
    public void close() {
      timer.shutdownNow();
      for (DatagramTransport s : sockets) {
        try {
          s.close();
        } catch (IOException e) {
          log.debug("closing a netcheck socket: {}", e.toString());
        }
      }
      pending.values().forEach(p -> p.result.complete(null));
      pending.clear();
    }
  }

  private static String format(InetSocketAddress a) {
    return a.getAddress().getHostAddress() + ":" + a.getPort();
  }
}
