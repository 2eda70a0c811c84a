package io.introducer.client.testing;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One simulated NAT (a home router): a public loopback address, the hosts behind it, and its mappings.
 * Obtain from {@link NatSimulator#addNat}.
 *
 * <p>Outbound, a packet to a private address of this NAT stays on the LAN; one to the NAT's own public
 * address is hairpinned (or dropped when hairpinning is off); one to any other loopback address is
 * translated per the mapping behaviour and sent from the mapping's real socket. Inbound, a packet on a
 * mapping socket passes the filtering behaviour and is delivered with its real source address. Loss
 * and delay apply to packets crossing the NAT, each way; LAN traffic is ideal.
 */
public final class SimulatedNat {
  private static final Logger log = LoggerFactory.getLogger(SimulatedNat.class);
  static final int FIRST_PRIVATE_PORT = 40000;
  static final int MIN_EXTERNAL_PORT = 20000;
  static final int MAX_EXTERNAL_PORT = 60000;
  private static final int MAX_PORT_TRIES = 64;

  private final NatSimulator sim;
  private final NatBehavior behavior;
  private final int index;
  private final InetAddress publicAddress;
  private final Random random;
  private final Set<InetAddress> lanAddresses = new HashSet<>();
  private final Map<InetSocketAddress, VirtualTransport> endpoints = new HashMap<>();
  private final Map<MappingKey, NatMapping> mappings = new HashMap<>();
  private final Map<Integer, NatMapping> byExternalPort = new HashMap<>();
  private int nextHost = 2;
  private int nextPrivatePort = FIRST_PRIVATE_PORT;
  private int nextSequentialPort;
  private int dropsLeft;
  private volatile boolean linkUp = true;
  private boolean closed;

  private final AtomicLong outbound = new AtomicLong();
  private final AtomicLong inbound = new AtomicLong();
  private final AtomicLong lan = new AtomicLong();
  private final AtomicLong hairpinned = new AtomicLong();
  private final AtomicLong filtered = new AtomicLong();
  private final AtomicLong lost = new AtomicLong();
  private final AtomicLong droppedByHook = new AtomicLong();
  private final AtomicLong unroutable = new AtomicLong();
  private final AtomicLong linkDown = new AtomicLong();
  private final AtomicLong created = new AtomicLong();
  private final AtomicLong expired = new AtomicLong();

  /** Which mapping an outbound packet uses: the destination parts the mapping behaviour depends on. */
  private record MappingKey(InetSocketAddress internal, InetAddress remoteAddress, int remotePort) {}

  SimulatedNat(NatSimulator sim, NatBehavior behavior, int index, InetAddress publicAddress, long seed) {
    this.sim = sim;
    this.behavior = behavior;
    this.index = index;
    this.publicAddress = publicAddress;
    this.random = new Random(seed);
    this.dropsLeft = behavior.dropFirstInbound();
  }

  /** The NAT's public (loopback) address, e.g. 127.0.14.3. */
  public InetAddress publicAddress() {
    return publicAddress;
  }

  /** The behaviour this NAT was created with. */
  public NatBehavior behavior() {
    return behavior;
  }

  /**
   * Adds a host behind this NAT with the next private address (10.0.N.2, 10.0.N.3, ...); behind an
   * {@link NatBehavior#open()} NAT every host has the public address itself.
   */
  public synchronized SimulatedHost addHost() {
    if (closed) {
      throw new IllegalStateException("NAT is closed");
    }
    InetAddress address;
    if (behavior.isOpen()) {
      address = publicAddress;
    } else {
      if (nextHost > 254) {
        throw new IllegalStateException("at most 253 hosts per NAT");
      }
      address = ip(10, 0, index, nextHost++);
    }
    lanAddresses.add(address);
    return new SimulatedHost(this, address);
  }

  /** Unplugs (false) or replugs (true) the NAT's uplink; while down every packet crossing it is dropped. */
  public void setLinkUp(boolean up) {
    linkUp = up;
  }

  /** Mappings currently alive. */
  public synchronized int mappingCount() {
    return mappings.size();
  }

  /** The NAT's packet counters so far. */
  public NatStats stats() {
    return new NatStats(outbound.get(), inbound.get(), lan.get(), hairpinned.get(), filtered.get(), lost.get(),
        droppedByHook.get(), unroutable.get(), linkDown.get(), created.get(), expired.get());
  }

  // --- virtual sockets

  synchronized VirtualTransport open(InetAddress hostAddress, int requestedPort) throws IOException {
    if (closed) {
      throw new IOException("NAT is closed");
    }
    if (behavior.isOpen()) {
      return openWithoutNat(requestedPort);
    }
    int port = requestedPort;
    for (int i = 0; port == 0 && i < 20000; i++) {
      int candidate = nextPrivatePort;
      nextPrivatePort = candidate >= 60000 ? FIRST_PRIVATE_PORT : candidate + 1;
      if (!endpoints.containsKey(new InetSocketAddress(hostAddress, candidate))) {
        port = candidate;
      }
    }
    if (port == 0) {
      throw new BindException("no free port on " + hostAddress);
    }
    InetSocketAddress local = new InetSocketAddress(hostAddress, port);
    if (endpoints.containsKey(local)) {
      throw new BindException("address already in use: " + local);
    }
    VirtualTransport t = new VirtualTransport(this, local);
    endpoints.put(local, t);
    return t;
  }

  /** No NAT: the host's port is the real socket's port, so the one mapping is made now. */
  private VirtualTransport openWithoutNat(int requestedPort) throws IOException {
    DatagramChannel socket = bind(requestedPort);
    if (socket == null) {
      throw new BindException("cannot bind " + publicAddress + ":" + requestedPort);
    }
    InetSocketAddress external = (InetSocketAddress) socket.getLocalAddress();
    VirtualTransport t = new VirtualTransport(this, external);
    endpoints.put(external, t);
    addMapping(new MappingKey(external, null, -1), new NatMapping(t, socket, external));
    return t;
  }

  /** A virtual socket closed: its endpoint is free and its mappings go at once (as if timed out). */
  synchronized void released(VirtualTransport t) {
    endpoints.remove(t.localAddress(), t);
    List<MappingKey> gone = new ArrayList<>();
    mappings.forEach((k, m) -> {
      if (m.internal == t) {
        gone.add(k);
      }
    });
    gone.forEach(this::removeMapping);
    sim.wakeup();
  }

  // --- outbound

  void outbound(VirtualTransport from, byte[] data, InetSocketAddress target) {
    InetAddress dst = target.getAddress();
    VirtualTransport lanPeer;
    synchronized (this) {
      lanPeer = lanAddresses.contains(dst) ? endpoints.get(target) : null;
      if (lanPeer == null && lanAddresses.contains(dst)) {
        unroutable.incrementAndGet();
        return;
      }
    }
    if (lanPeer != null) {
      if (lanPeer.deliver(data, from.localAddress())) {
        lan.incrementAndGet();
      }
      return;
    }
    if (!dst.isLoopbackAddress()) {
      unroutable.incrementAndGet(); // never let simulated traffic leave the machine
      return;
    }
    boolean hairpin = dst.equals(publicAddress);
    if (!hairpin && !linkUp) {
      linkDown.incrementAndGet();
      return;
    }
    if (!hairpin && chance()) {
      lost.incrementAndGet();
      return;
    }
    NatMapping m = mappingFor(from, target);
    if (m == null) {
      unroutable.incrementAndGet();
      return;
    }
    if (hairpin) {
      hairpin(m, data, target);
      return;
    }
    sim.later(behavior.delay(), () -> {
      try {
        m.socket.send(ByteBuffer.wrap(data), target);
        outbound.incrementAndGet();
      } catch (IOException e) {
        log.debug("mapping {} could not send to {}: {}", m.external, target, e.toString());
      }
    });
  }

  private void hairpin(NatMapping from, byte[] data, InetSocketAddress target) {
    NatMapping to;
    synchronized (this) {
      to = behavior.hairpinning() ? byExternalPort.get(target.getPort()) : null;
    }
    if (to == null) {
      unroutable.incrementAndGet();
      return;
    }
    hairpinned.incrementAndGet();
    // Through the NAT and back in: the receiving mapping's filter sees the sender's external address.
    sim.later(behavior.delay(), () -> inbound(to, data, from.external));
  }

  private synchronized NatMapping mappingFor(VirtualTransport from, InetSocketAddress target) {
    if (closed) {
      return null;
    }
    InetSocketAddress internal = from.localAddress();
    MappingKey key = switch (behavior.mapping()) {
      case ENDPOINT_INDEPENDENT -> new MappingKey(internal, null, -1);
      case ADDRESS_DEPENDENT -> new MappingKey(internal, target.getAddress(), -1);
      case ADDRESS_AND_PORT_DEPENDENT -> new MappingKey(internal, target.getAddress(), target.getPort());
    };
    NatMapping m = mappings.get(key);
    if (m != null && m.expired(behavior, System.nanoTime())) {
      removeMapping(key);
      expired.incrementAndGet();
      m = null;
    }
    if (m == null) {
      DatagramChannel socket = bind(allocatePort(internal.getPort()));
      if (socket == null) {
        return null;
      }
      try {
        m = new NatMapping(from, socket, (InetSocketAddress) socket.getLocalAddress());
      } catch (IOException e) {
        closeQuietly(socket);
        return null;
      }
      addMapping(key, m);
    }
    m.outbound(target);
    return m;
  }

  private void addMapping(MappingKey key, NatMapping m) {
    mappings.put(key, m);
    byExternalPort.put(m.external.getPort(), m);
    created.incrementAndGet();
    sim.watch(m.socket, m, this);
    log.debug("{} mapped {} -> {}", this, key.internal(), m.external);
  }

  private void removeMapping(MappingKey key) {
    NatMapping m = mappings.remove(key);
    if (m != null) {
      byExternalPort.remove(m.external.getPort(), m);
      m.close();
    }
  }

  /** The first external port to try for a new mapping; 0 asks the OS. */
  private int allocatePort(int internalPort) {
    return switch (behavior.allocation()) {
      case PRESERVING -> internalPort;
      case RANDOM -> MIN_EXTERNAL_PORT + random.nextInt(MAX_EXTERNAL_PORT - MIN_EXTERNAL_PORT);
      case SEQUENTIAL -> {
        if (nextSequentialPort == 0) {
          nextSequentialPort = MIN_EXTERNAL_PORT + random.nextInt(MAX_EXTERNAL_PORT - MIN_EXTERNAL_PORT);
        }
        yield nextSequentialPort;
      }
    };
  }

  /**
   * Binds a real socket on the public address at {@code port}, or at the next port the allocation
   * would pick when that one is taken; falls back to an OS-chosen port after {@value #MAX_PORT_TRIES} tries.
   */
  private DatagramChannel bind(int port) {
    int p = port;
    for (int i = 0; i <= MAX_PORT_TRIES; i++) {
      int candidate = i == MAX_PORT_TRIES ? 0 : p;
      DatagramChannel socket = null;
      try {
        socket = DatagramChannel.open(StandardProtocolFamily.INET);
        socket.configureBlocking(false);
        socket.bind(new InetSocketAddress(publicAddress, candidate));
        if (behavior.allocation() == NatBehavior.Allocation.SEQUENTIAL && !behavior.isOpen()) {
          nextSequentialPort = wrap(((InetSocketAddress) socket.getLocalAddress()).getPort() + behavior.stride());
        }
        return socket;
      } catch (IOException e) {
        closeQuietly(socket);
        if (candidate == 0) {
          break;
        }
        p = switch (behavior.allocation()) {
          case SEQUENTIAL -> wrap(p + behavior.stride());
          default -> MIN_EXTERNAL_PORT + random.nextInt(MAX_EXTERNAL_PORT - MIN_EXTERNAL_PORT);
        };
      }
    }
    log.warn("{} could not allocate an external port", this);
    return null;
  }

  private static int wrap(int port) {
    return port >= MAX_EXTERNAL_PORT ? MIN_EXTERNAL_PORT + (port - MAX_EXTERNAL_PORT) : port;
  }

  // --- inbound

  /** A packet arrived on a mapping's socket from the real network (I/O thread), or was hairpinned. */
  void inbound(NatMapping m, byte[] data, InetSocketAddress source) {
    if (!linkUp && !source.getAddress().equals(publicAddress)) {
      linkDown.incrementAndGet();
      return;
    }
    synchronized (this) {
      if (m.isClosed()) {
        unroutable.incrementAndGet();
        return;
      }
      if (m.expired(behavior, System.nanoTime())) {
        expireIdle();
        unroutable.incrementAndGet();
        return;
      }
      if (!m.permits(behavior.filtering(), source)) {
        filtered.incrementAndGet();
        return;
      }
      if (dropsLeft > 0 && behavior.dropFrom().test(source)) {
        dropsLeft--;
        droppedByHook.incrementAndGet();
        return;
      }
    }
    if (!source.getAddress().equals(publicAddress) && chance()) {
      lost.incrementAndGet();
      return;
    }
    sim.later(behavior.delay(), () -> {
      if (m.internal.deliver(data, source)) {
        inbound.incrementAndGet();
      }
    });
  }

  /** Removes the mappings idle for longer than the timeout (timer thread, and lazily on use). */
  synchronized void expireIdle() {
    if (behavior.mappingTimeout() == null || mappings.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    List<MappingKey> gone = new ArrayList<>();
    mappings.forEach((k, m) -> {
      if (m.expired(behavior, now)) {
        gone.add(k);
      }
    });
    gone.forEach(this::removeMapping);
    expired.addAndGet(gone.size());
    if (!gone.isEmpty()) {
      sim.wakeup();
    }
  }

  private boolean chance() {
    double p = behavior.lossProbability();
    if (p <= 0) {
      return false;
    }
    synchronized (random) {
      return random.nextDouble() < p;
    }
  }

  synchronized void close() {
    closed = true;
    new ArrayList<>(mappings.keySet()).forEach(this::removeMapping);
    for (VirtualTransport t : new ArrayList<>(endpoints.values())) {
      t.close();
    }
    endpoints.clear();
  }

  private static void closeQuietly(DatagramChannel socket) {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        log.debug("closing socket: {}", e.toString());
      }
    }
  }

  private static InetAddress ip(int a, int b, int c, int d) {
    try {
      return InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e); // four bytes are always a valid address
    }
  }

  @Override
  public String toString() {
    return "SimulatedNat[" + publicAddress.getHostAddress() + " " + behavior + "]";
  }
}
