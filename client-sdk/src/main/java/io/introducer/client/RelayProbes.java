package io.introducer.client;

import io.introducer.protocol.StunAddress;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.TransactionId;
import io.introducer.protocol.rendezvous.RelayRtt;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures the RTT to the relays the introducer lists in REGISTER or KEEPALIVE success (RELAY-ADDRESS, docs/PROTOCOL.md
 * section 8, relay choice) with plain STUN Binding requests from the client's own socket, and keeps the smoothed
 * results for RELAY-RTT in the next KEEPALIVE or REGISTER. A round sends {@link #SAMPLES} requests to each listed relay
 * (at most {@link RelayRtt#MAX_PER_MESSAGE}), {@link #SPACING_MILLIS} apart, and ends {@link #ROUND_TIMEOUT_MILLIS}
 * after the last; a relay that answered none of them is not reported. A new round starts when the listed set of
 * relays changes (a relay joined the cluster, left it or filled up; the order does not matter), but never sooner than
 * {@link ClientConfig#relayMeasureMinInterval()} ({@link #MIN_INTERVAL_MILLIS}) after the previous round started: a
 * change within that time is measured when it has passed. A relay no longer listed stops being reported at once.
 * Without a change, a round at most every {@link #REMEASURE_MILLIS}. Control thread only.
 */
final class RelayProbes {
  private static final Logger log = LoggerFactory.getLogger(RelayProbes.class);
  static final int SAMPLES = 3;
  static final long SPACING_MILLIS = 100;
  static final long ROUND_TIMEOUT_MILLIS = 1_000;
  static final long REMEASURE_MILLIS = TimeUnit.MINUTES.toMillis(5);
  /**
   * Least time between the starts of two rounds (default of {@link ClientConfig#relayMeasureMinInterval()}): the
   * introducer lists the relays again whenever they differ from the ones reported, and with more than four relays the
   * four least loaded may change often; a minute bounds a peer to 12 Bindings a minute to relays at worst.
   */
  static final long MIN_INTERVAL_MILLIS = TimeUnit.SECONDS.toMillis(60);

  private record Probe(InetSocketAddress relay, long sentNanos) {}

  private final ClientRuntime rt;
  private final long minIntervalNanos;
  private List<InetSocketAddress> listed = List.of();
  /** Binding requests of the current round awaiting an answer. */
  private final Map<TransactionId, Probe> pending = new HashMap<>();
  /** The current round's smoothed RTT per relay that answered, in nanoseconds. */
  private final Map<InetSocketAddress, Long> round = new LinkedHashMap<>();
  private List<RelayRtt> reported = List.of();
  private long lastRoundNanos;
  private long lastStartNanos;
  private boolean started;
  private boolean measuring;
  /** A round is scheduled for when the minimum interval has passed. */
  private boolean deferred;
  private int rounds;

  RelayProbes(ClientRuntime rt) {
    this.rt = rt;
    this.minIntervalNanos = rt.config.relayMeasureMinInterval().toNanos();
  }

  /** The RTTs to report (RELAY-RTT): the last finished round's, in the introducer's order; empty before any. */
  List<RelayRtt> reported() {
    return reported;
  }

  /** Rounds finished (for tests). */
  int rounds() {
    return rounds;
  }

  /** The relays a REGISTER (or KEEPALIVE) success lists; measures them when they changed or are due. */
  void listed(StunMessage success) {
    List<InetSocketAddress> relays = new ArrayList<>();
    List<byte[]> values = success.getAll(StunAttributes.RELAY_ADDRESS);
    for (byte[] v : values) {
      InetSocketAddress a = StunAddress.decodeXor(v, 0, v.length, success.bytes(), 8);
      if (a != null && !relays.contains(a) && relays.size() < RelayRtt.MAX_PER_MESSAGE) {
        relays.add(a);
      }
    }
    if (values.isEmpty() && success.method() == StunMethods.KEEPALIVE) {
      maybeRemeasure(); // a KEEPALIVE success without a list keeps the last one
      return;
    }
    if (sameRelays(relays, listed)) {
      maybeRemeasure();
      return;
    }
    listed = List.copyOf(relays);
    // A relay no longer listed left the cluster (or is full): stop reporting it now, not after the next round.
    reported = reported.stream().filter(r -> listed.contains(r.relay())).toList();
    if (!listed.isEmpty()) {
      measureSoon();
    }
  }

  /** Starts a round if the last one is {@link #REMEASURE_MILLIS} old. */
  void maybeRemeasure() {
    if (!listed.isEmpty() && !measuring && !deferred
        && ClientRuntime.nowNanos() - lastRoundNanos >= TimeUnit.MILLISECONDS.toNanos(REMEASURE_MILLIS)) {
      measure();
    }
  }

  /** Measures the listed relays now, or once the minimum interval since the last round's start has passed. */
  private void measureSoon() {
    if (measuring || deferred) {
      return; // the running round's end, or the deferred start, takes the list as it is then
    }
    long waitNanos = started ? minIntervalNanos - (ClientRuntime.nowNanos() - lastStartNanos) : 0;
    if (waitNanos <= 0) {
      measure();
      return;
    }
    deferred = true;
    log.debug("{} relays changed; measuring in {} ms", rt.wire.peerId(), TimeUnit.NANOSECONDS.toMillis(waitNanos));
    rt.schedule(() -> {
      deferred = false;
      if (!listed.isEmpty() && !measuring) {
        measure();
      }
    }, TimeUnit.NANOSECONDS.toMillis(waitNanos) + 1);
  }

  /** Set equality of two short lists without duplicates. */
  private static boolean sameRelays(List<InetSocketAddress> a, List<InetSocketAddress> b) {
    return a.size() == b.size() && a.containsAll(b);
  }

  private void measure() {
    if (measuring) {
      return; // the running round ends soon and starts another if the list changed meanwhile
    }
    measuring = true;
    started = true;
    lastStartNanos = ClientRuntime.nowNanos();
    pending.clear();
    round.clear();
    List<InetSocketAddress> relays = listed;
    for (int i = 0; i < SAMPLES; i++) {
      rt.schedule(() -> {
        for (InetSocketAddress relay : relays) {
          StunMessage.Builder b = StunMessage.builder(StunMethods.BINDING, StunClass.REQUEST);
          pending.put(new TransactionId(b.transactionId()), new Probe(relay, ClientRuntime.nowNanos()));
          rt.send(b.fingerprint().encode(), relay);
        }
      }, i * SPACING_MILLIS);
    }
    rt.schedule(() -> finish(relays), (SAMPLES - 1) * SPACING_MILLIS + ROUND_TIMEOUT_MILLIS);
  }

  private void finish(List<InetSocketAddress> relays) {
    pending.clear();
    measuring = false;
    lastRoundNanos = ClientRuntime.nowNanos();
    rounds++;
    List<RelayRtt> out = new ArrayList<>();
    for (InetSocketAddress relay : relays) {
      Long srtt = round.get(relay);
      // A relay that left the list during the round is not reported.
      if (srtt != null && listed.contains(relay)) {
        out.add(new RelayRtt(relay, Math.min(0xFFFFFFFFL, Math.max(1, TimeUnit.NANOSECONDS.toMicros(srtt)))));
      }
    }
    reported = List.copyOf(out);
    log.debug("{} relay RTTs: {}", rt.wire.peerId(), reported);
    if (!listed.isEmpty() && !sameRelays(listed, relays)) {
      measureSoon(); // the list changed during the round
    }
  }

  /** A Binding response: an answer to one of this round's probes from the relay it went to, else false. */
  boolean onResponse(StunMessage m, InetSocketAddress source) {
    Probe p = pending.get(m.transactionKey());
    if (p == null || !p.relay().equals(source)) {
      return false;
    }
    pending.remove(m.transactionKey());
    if (m.messageClass() != StunClass.SUCCESS_RESPONSE) {
      return true; // answered, but not a sample
    }
    long rtt = ClientRuntime.nowNanos() - p.sentNanos();
    // RFC 6298 smoothing within the round: SRTT <- 7/8 SRTT + 1/8 R, the first sample taken as is.
    round.merge(p.relay(), rtt, (srtt, r) -> srtt - srtt / 8 + r / 8);
    return true;
  }
}
