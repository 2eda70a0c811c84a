package io.introducer.node;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.EntryAdapter;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.replicatedmap.ReplicatedMap;
import io.introducer.rendezvous.DiscoveryPartners;
import io.introducer.rendezvous.RelaySelector;
import io.introducer.rendezvous.Registration;
import io.introducer.rendezvous.impl.SharedRegistry;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster-wide state a node shares through Hazelcast ReplicatedMaps (every member holds a full copy, so reads
 * are local and never block an event loop, and losing a member loses no record):
 * <ul>
 *   <li>{@value #REGISTRATIONS}: the shared registry (see {@link SharedRegistry});</li>
 *   <li>{@value #RELAYS}: each relay's address and load, refreshed every {@link #RELAY_REPORT_INTERVAL};</li>
 *   <li>{@value #INTRODUCERS}: each introducer's primary address and alternate port, from which every node picks its
 *       RFC 5780 partner ({@link #discoveryPartners()}).</li>
 * </ul>
 * When a member dies, the oldest surviving member removes the registrations it owned: their peers re-register
 * elsewhere, and until then CONNECT to them must not be forwarded to a node that is gone.
 */
final class ClusterState implements MembershipListener {
  static final String REGISTRATIONS = "introducer.registrations";
  static final String RELAYS = "introducer.relays";
  static final String INTRODUCERS = "introducer.introducers";
  static final Duration RELAY_REPORT_INTERVAL = Duration.ofSeconds(2);
  /** A relay not heard from for this long is not chosen. */
  static final Duration RELAY_STALE_AFTER = Duration.ofSeconds(10);
  /**
   * How long the list of relays for peers to measure is reused: every KEEPALIVE asks for it (to tell whether the peer
   * should measure again, RelaySelector.relist), decoding every relay's record each time would cost more than the
   * keepalive itself, and relays report only every {@link #RELAY_REPORT_INTERVAL} anyway.
   */
  static final Duration CANDIDATES_REUSED_FOR = Duration.ofMillis(500);
  private static final Logger log = LoggerFactory.getLogger(ClusterState.class);

  private final HazelcastInstance hz;
  private final ReplicatedMap<String, String> registrations;
  private final ReplicatedMap<String, String> relays;
  private final ReplicatedMap<String, String> introducers;
  private final Partners partners = new Partners();
  private final Clock clock;
  private final UUID listener;
  private final java.util.concurrent.ExecutorService writer = java.util.concurrent.Executors.newSingleThreadExecutor(
      r -> {
        Thread t = new Thread(r, "introducer-registry-writer");
        t.setDaemon(true);
        return t;
      });

  ClusterState(HazelcastInstance hz, Clock clock) {
    this.hz = hz;
    this.clock = clock;
    this.registrations = hz.getReplicatedMap(REGISTRATIONS);
    this.relays = hz.getReplicatedMap(RELAYS);
    this.introducers = hz.getReplicatedMap(INTRODUCERS);
    this.listener = hz.getCluster().addMembershipListener(this);
  }

  String nodeId() {
    return hz.getCluster().getLocalMember().getUuid().toString();
  }

  SharedRegistry registry(Duration lifetime) {
    return new SharedRegistry(new SharedRegistry.Store() {
      @Override
      public String get(String key) {
        return registrations.get(key);
      }

      @Override
      public void put(String key, String value, Duration timeToLive) {
        write(() -> registrations.put(key, value, timeToLive.toMillis(), TimeUnit.MILLISECONDS));
      }

      @Override
      public void remove(String key) {
        write(() -> registrations.remove(key));
      }

      @Override
      public Collection<String> values() {
        return registrations.values();
      }
    }, nodeId(), lifetime, clock);
  }

  /**
   * ReplicatedMap writes wait for the partition owner (measured: up to 700 ms under load), so they run in order on
   * one writer thread, never on an event loop; reads stay local and synchronous.
   */
  private void write(Runnable op) {
    try {
      writer.execute(() -> {
        try {
          op.run();
        } catch (RuntimeException e) {
          log.warn("Cluster registry write failed: {}", e.toString());
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      log.debug("Cluster registry write after shutdown dropped");
    }
  }

  /** Publishes this node's relay: where it is and how full. */
  void reportRelay(InetSocketAddress address, long allocations, long capacity) {
    JsonObject load = new JsonObject()
        .put("address", address.getAddress().getHostAddress() + ":" + address.getPort())
        .put("allocations", allocations)
        .put("capacity", capacity)
        .put("updatedAt", clock.millis());
    String id = nodeId();
    write(() -> relays.put(id, load.encode(), RELAY_STALE_AFTER.toMillis() * 3, TimeUnit.MILLISECONDS));
  }

  /**
   * Picks, among the relays that are not full and reported recently, the one closest to both peers by the RTTs they
   * reported (the worse of the two), else the least loaded ({@link RelaySelector#choose}); the REST secret is
   * cluster-wide. A replacement for a lost relay (RELAY-REQUEST) is picked the same way among the relays the peer did
   * not name. Peers are given the least loaded ones to measure ({@link RelaySelector#candidates}, recomputed at most
   * every {@link #CANDIDATES_REUSED_FOR}).
   */
  RelaySelector relaySelector(String restSecret) {
    record Listed(List<InetSocketAddress> relays, long atMillis) {}
    return new RelaySelector() {
      /** The last {@link #candidates} and when they were computed (any event loop; a race only recomputes). */
      private volatile Listed listed;

      @Override
      public Optional<Relay> select(String appId, Registration initiator, Registration responder) {
        return replacement(appId, initiator, responder, Set.of());
      }

      @Override
      public Optional<Relay> replacement(String appId, Registration initiator, Registration responder,
          Set<InetSocketAddress> excluded) {
        return RelaySelector.choose(relayLoads(), initiator, responder, excluded).map(a -> new Relay(a, restSecret));
      }

      @Override
      public List<InetSocketAddress> candidates(String appId) {
        long now = clock.millis();
        Listed l = listed;
        if (l == null || now - l.atMillis() >= CANDIDATES_REUSED_FOR.toMillis() || now < l.atMillis()) {
          l = new Listed(RelaySelector.leastLoaded(relayLoads()), now);
          listed = l;
        }
        return l.relays();
      }
    };
  }

  Optional<InetSocketAddress> leastLoaded() {
    return leastLoaded(Set.of());
  }

  Optional<InetSocketAddress> leastLoaded(Set<InetSocketAddress> excluded) {
    return RelaySelector.choose(relayLoads(), null, null, excluded);
  }

  /** The relays that reported in the last {@link #RELAY_STALE_AFTER}, with their load. */
  List<RelaySelector.Load> relayLoads() {
    long now = clock.millis();
    return relays.values().stream()
        .map(JsonObject::new)
        .filter(j -> now - j.getLong("updatedAt", 0L) < RELAY_STALE_AFTER.toMillis())
        .flatMap(j -> address(j.getString("address")).stream()
            .map(a -> new RelaySelector.Load(a, j.getLong("allocations", 0L), j.getLong("capacity", 0L))))
        .toList();
  }

  private static Optional<InetSocketAddress> address(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    try {
      return Optional.of(new InetSocketAddress(InetAddress.getByName(hostPort.substring(0, colon)),
          Integer.parseInt(hostPort.substring(colon + 1))));
    } catch (UnknownHostException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** This node's RFC 5780 partner, from {@value #INTRODUCERS} and the member list (docs/PROTOCOL.md section 6). */
  DiscoveryPartners discoveryPartners() {
    return partners;
  }

  /**
   * Publishes this node's introducer and re-picks the partner whenever the member list or the published introducers
   * change (on Hazelcast's event threads: both reads are local). A member's entry goes when it leaves the cluster.
   */
  private final class Partners implements DiscoveryPartners {
    private Partner self;
    private Consumer<Partner> changes;
    private Partner current;
    private UUID entryListener;

    @Override
    public synchronized void join(Partner self, Consumer<Partner> changes) {
      this.self = self;
      this.changes = changes;
      changes.accept(null); // the first report; the partner follows once known
      String record = self.toJson().encode();
      write(() -> { // off the caller's thread (an event loop): the put waits for the partition owner
        introducers.put(self.nodeId(), record);
        UUID listener = introducers.addEntryListener(new EntryAdapter<>() {
          @Override
          public void onEntryEvent(EntryEvent<String, String> event) {
            repick();
          }
        });
        synchronized (this) {
          if (this.self == null) { // left meanwhile
            introducers.removeEntryListener(listener);
            return;
          }
          entryListener = listener;
        }
        repick();
      });
    }

    @Override
    public synchronized void leave() {
      if (self == null) {
        return;
      }
      String id = self.nodeId();
      UUID listener = entryListener;
      self = null;
      changes = null;
      current = null;
      entryListener = null;
      write(() -> {
        if (listener != null) {
          introducers.removeEntryListener(listener);
        }
        introducers.remove(id);
      });
    }

    /** Reports the partner when it changed; serialized, so reports arrive in order. */
    synchronized void repick() {
      if (self == null) {
        return;
      }
      Partner p;
      try {
        List<String> members = hz.getCluster().getMembers().stream().map(m -> m.getUuid().toString()).toList();
        Map<String, Partner> published = new HashMap<>();
        introducers.forEach((id, json) -> {
          Partner q = partner(id, json);
          if (q != null) {
            published.put(id, q);
          }
        });
        p = DiscoveryPartners.pick(members, self, published);
      } catch (RuntimeException e) { // the instance is shutting down
        log.debug("RFC 5780 partner not re-picked: {}", e.toString());
        return;
      }
      if (!Objects.equals(p, current)) {
        current = p;
        changes.accept(p);
      }
    }
  }

  private static DiscoveryPartners.Partner partner(String id, String json) {
    try {
      return DiscoveryPartners.Partner.fromJson(id, new JsonObject(json));
    } catch (RuntimeException e) {
      log.debug("introducer record of {} ignored: {}", id, e.toString());
      return null;
    }
  }

  @Override
  public void memberAdded(MembershipEvent event) {
    // a new member receives the replicated maps from the others
    partners.repick();
  }

  @Override
  public void memberRemoved(MembershipEvent event) {
    Member gone = event.getMember();
    relays.remove(gone.getUuid().toString());
    write(() -> introducers.remove(gone.getUuid().toString()));
    partners.repick();
    Member oldest = hz.getCluster().getMembers().iterator().next();
    if (!oldest.localMember()) {
      return; // one survivor cleans up; the others would only repeat it
    }
    String owner = "\"owner\":\"" + gone.getUuid() + "\"";
    int removed = 0;
    for (var e : registrations.entrySet()) {
      if (e.getValue().contains(owner) && registrations.remove(e.getKey()) != null) {
        removed++;
      }
    }
    log.info("Member {} left the cluster: removed the {} registrations it owned", gone.getAddress(), removed);
  }

  void close() {
    writer.shutdown();
    try {
      hz.getCluster().removeMembershipListener(listener);
    } catch (RuntimeException e) {
      log.debug("membership listener already gone: {}", e.toString());
    }
  }
}
