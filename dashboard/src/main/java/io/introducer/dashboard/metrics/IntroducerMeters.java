package io.introducer.dashboard.metrics;

import io.introducer.protocol.rendezvous.Strategy;
import io.introducer.rendezvous.IntroducerCounters;
import io.introducer.rendezvous.Registry;
import io.introducer.rendezvous.Session;
import io.introducer.rendezvous.SessionState;
import io.introducer.rendezvous.SessionStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * The introducer's meters, read from its {@link IntroducerCounters} (counters) and stores (gauges). Labels come from
 * bounded sets only: direction, drop reason, STUN error code, session state and strategy; never a peer or app id.
 *
 * <pre>
 * introducer_packets_total{direction="in"|"out"}      datagrams received / sent
 * introducer_drops_total{reason}                       datagrams dropped, by reason
 * introducer_errors_total{code}                        STUN error responses sent, by code
 * introducer_bindings_total, _registrations_total, _keepalives_total, _deregistrations_total
 * introducer_connects_total                           successful CONNECTs (sessions created)
 * introducer_introductions_total, _introductions_acked_total, _introductions_timed_out_total
 * introducer_results_total                             RESULT reports recorded
 * introducer_retransmissions_answered_total
 * introducer_registered_peers                          registrations held now
 * introducer_sessions{state, strategy}                 sessions retained now, by current state and strategy
 * </pre>
 */
public final class IntroducerMeters implements RefreshableMeterBinder {
  private final IntroducerCounters counters;
  private final Supplier<Registry> registry;
  private final Supplier<SessionStore> sessions;
  private final Clock clock;
  private final Set<String> dropReasons = ConcurrentHashMap.newKeySet();
  private final Set<Integer> errorCodes = ConcurrentHashMap.newKeySet();
  private final Census census = new Census();

  public IntroducerMeters(IntroducerCounters counters, Supplier<Registry> registry, Supplier<SessionStore> sessions,
      Clock clock) {
    this.counters = counters;
    this.registry = registry;
    this.sessions = sessions;
    this.clock = clock;
  }

  @Override
  public void bindTo(MeterRegistry r) {
    counter(r, "introducer.packets", "UDP datagrams, by direction", IntroducerCounters::packetsIn, "direction", "in");
    counter(r, "introducer.packets", "UDP datagrams, by direction", IntroducerCounters::packetsOut, "direction", "out");
    counter(r, "introducer.bindings", "STUN Binding requests answered", IntroducerCounters::bindings);
    counter(r, "introducer.registrations", "successful REGISTER transactions", IntroducerCounters::registrations);
    counter(r, "introducer.keepalives", "successful KEEPALIVE transactions", IntroducerCounters::keepalives);
    counter(r, "introducer.deregistrations", "successful DEREGISTER transactions", IntroducerCounters::deregistrations);
    counter(r, "introducer.connects", "successful CONNECT transactions (sessions created)", IntroducerCounters::connects);
    counter(r, "introducer.introductions", "INTRODUCE transactions started", IntroducerCounters::introductions);
    counter(r, "introducer.introductions.acked", "INTRODUCE transactions answered",
        IntroducerCounters::introductionsAcked);
    counter(r, "introducer.introductions.timed.out", "INTRODUCE transactions given up",
        IntroducerCounters::introductionsTimedOut);
    counter(r, "introducer.results", "RESULT reports recorded", IntroducerCounters::results);
    counter(r, "introducer.retransmissions.answered", "request retransmissions answered from the cache",
        IntroducerCounters::retransmissionsAnswered);
    counter(r, "introducer.relay.requests", "RELAY-REQUEST transactions answered with a replacement relay",
        IntroducerCounters::relayRequests);
    counter(r, "introducer.change.requests", "RFC 5780 change-IP Bindings, by where they were answered",
        IntroducerCounters::changeForwards, "outcome", "forwarded");
    counter(r, "introducer.change.requests", "RFC 5780 change-IP Bindings, by where they were answered",
        IntroducerCounters::changeForwardsFailed, "outcome", "forward-failed");
    counter(r, "introducer.change.requests", "RFC 5780 change-IP Bindings, by where they were answered",
        IntroducerCounters::changeAnswersForPartners, "outcome", "answered-for-partner");
    Gauge.builder("introducer.registered.peers", this, m -> {
      Registry reg = m.registry.get();
      return reg == null ? 0 : reg.size();
    }).description("peers registered now").strongReference(true).register(r);
    for (SessionState state : SessionState.values()) {
      for (Strategy strategy : Strategy.values()) {
        Gauge.builder("introducer.sessions", census, c -> c.count(state, strategy))
            .description("sessions retained now, by current state and strategy")
            .tags("state", state.wireName(), "strategy", strategy.wireName())
            .strongReference(true).register(r);
      }
    }
    refresh(r);
  }

  @Override
  public void refresh(MeterRegistry r) {
    for (String reason : counters.drops().keySet()) {
      if (dropReasons.add(reason)) {
        FunctionCounter.builder("introducer.drops", counters, c -> c.drops(reason))
            .description("datagrams dropped, by reason").tag("reason", reason).register(r);
      }
    }
    for (Integer code : counters.errors().keySet()) {
      if (errorCodes.add(code)) {
        FunctionCounter.builder("introducer.errors", counters, c -> c.errors().getOrDefault(code, 0L))
            .description("STUN error responses sent, by code").tag("code", String.valueOf(code)).register(r);
      }
    }
    census.invalidate();
  }

  private void counter(MeterRegistry r, String name, String description, ToDoubleFunction<IntroducerCounters> f,
      String... tags) {
    FunctionCounter.builder(name, counters, f).description(description).tags(tags).register(r);
  }

  /** Sessions by state and strategy, counted once per scrape (the gauges of one scrape share one pass). */
  private final class Census {
    private Map<SessionState, Map<Strategy, Long>> counts;

    synchronized void invalidate() {
      counts = null;
    }

    synchronized double count(SessionState state, Strategy strategy) {
      if (counts == null) {
        counts = new EnumMap<>(SessionState.class);
        for (SessionState s : SessionState.values()) {
          counts.put(s, new EnumMap<>(Strategy.class));
        }
        SessionStore store = sessions.get();
        if (store != null) {
          Instant now = clock.instant();
          for (Session s : store.all()) {
            counts.get(s.state(now)).merge(s.strategy(), 1L, Long::sum);
          }
        }
      }
      return counts.get(state).getOrDefault(strategy, 0L);
    }
  }
}
