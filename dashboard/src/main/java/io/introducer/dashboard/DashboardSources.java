package io.introducer.dashboard;

import io.introducer.rendezvous.Registry;
import io.introducer.rendezvous.SessionStore;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Where the dashboard reads what it shows. The node fills it as it deploys roles: the introducer's registry and
 * session store (suppliers, because a role may be deployed after the dashboard; null while absent), the node
 * directory, and one {@link RelaySource} per relay. Stores are read on worker threads, so an implementation backed
 * by a cluster map may block.
 */
public final class DashboardSources {
  private volatile Supplier<Registry> registry = () -> null;
  private volatile Supplier<SessionStore> sessions = () -> null;
  private volatile NodeDirectory nodes = () -> Future.succeededFuture(List.<JsonObject>of());
  private final List<RelaySource> relays = new CopyOnWriteArrayList<>();

  public DashboardSources registry(Supplier<Registry> registry) {
    this.registry = Objects.requireNonNull(registry);
    return this;
  }

  public DashboardSources sessions(Supplier<SessionStore> sessions) {
    this.sessions = Objects.requireNonNull(sessions);
    return this;
  }

  public DashboardSources nodes(NodeDirectory nodes) {
    this.nodes = Objects.requireNonNull(nodes);
    return this;
  }

  public DashboardSources addRelay(RelaySource relay) {
    relays.add(Objects.requireNonNull(relay));
    return this;
  }

  public DashboardSources removeRelay(RelaySource relay) {
    relays.remove(relay);
    return this;
  }

  /** The registry, or null when no introducer runs here. */
  public Registry registry() {
    return registry.get();
  }

  /** The session store, or null when no introducer runs here. */
  public SessionStore sessions() {
    return sessions.get();
  }

  public NodeDirectory nodes() {
    return nodes;
  }

  public List<RelaySource> relays() {
    return List.copyOf(relays);
  }
}
