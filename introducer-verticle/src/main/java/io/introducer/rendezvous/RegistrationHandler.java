package io.introducer.rendezvous;

import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import io.introducer.protocol.rendezvous.Candidate;
import io.introducer.protocol.rendezvous.NatProfile;
import io.introducer.protocol.rendezvous.RelayRtt;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** REGISTER, KEEPALIVE and DEREGISTER (docs/PROTOCOL.md section 4). */
final class RegistrationHandler implements PeerRequests.Handler {
  /** Host candidates kept per peer: enough for multi-homed hosts, bounded against abuse. */
  static final int MAX_HOST_CANDIDATES = 8;

  private final IntroducerConfig config;
  private final Registry registry;
  private final IntroducerCounters counters;
  private final Replies replies;
  private final RelaySelector relays;

  RegistrationHandler(IntroducerConfig config, Registry registry, IntroducerCounters counters, Replies replies) {
    this(config, registry, counters, replies, RelaySelector.NONE);
  }

  RegistrationHandler(IntroducerConfig config, Registry registry, IntroducerCounters counters, Replies replies,
      RelaySelector relays) {
    this.config = config;
    this.registry = registry;
    this.counters = counters;
    this.replies = replies;
    this.relays = relays == null ? RelaySelector.NONE : relays;
  }

  @Override
  public byte[] handle(Caller caller, StunMessage request) {
    return switch (request.method()) {
      case StunMethods.REGISTER -> register(caller, request);
      case StunMethods.KEEPALIVE -> keepalive(caller, request);
      case StunMethods.DEREGISTER -> deregister(caller, request);
      default -> throw new IllegalStateException("not a registration request: " + request);
    };
  }

  private byte[] register(Caller caller, StunMessage request) {
    boolean known = registry.get(caller.appId(), caller.peerId()).isPresent();
    if (!known && registry.size() >= config.maxRegistrations()) {
      return replies.error(caller, request, 508, "insufficient capacity");
    }
    Instant now = caller.now();
    // A REGISTER replaces the registration, NAT profile included: one without NAT-PROFILE (or with a malformed
    // one, which the codec reads as null) is a peer whose NAT is not known.
    NatProfile profile = NatProfile.decode(request.get(StunAttributes.NAT_PROFILE));
    // The key it signed with (peer key or peer token) is the key INTRODUCE and UPDATE to it are signed with.
    registry.put(new Registration(caller.appId(), caller.peerId(), caller.source(),
        hostCandidates(request), now, expiry(now), profile == null ? NatProfile.UNKNOWN : profile)
        .withTokenExpiry(caller.tokenExpiry()).withRelayRtts(relayRtts(request)));
    counters.registrations.increment();
    // The relays it may measure its RTT to (docs/PROTOCOL.md section 8, relay choice): only when there is a choice.
    List<InetSocketAddress> candidates = relays.candidates(caller.appId());
    return Replies.sign(listing(mappedBuilder(caller, request), candidates.size() > 1 ? candidates : List.of()),
        caller.key());
  }

  private byte[] keepalive(Caller caller, StunMessage request) {
    Optional<Registration> current = registry.get(caller.appId(), caller.peerId());
    if (current.isEmpty() || current.get().isExpired(caller.now())) {
      return replies.error(caller, request, 404, "not registered");
    }
    // RELAY-RTT replaces the RTTs it reported before; a KEEPALIVE without any keeps them.
    List<RelayRtt> rtts = request.getAll(StunAttributes.RELAY_RTT).isEmpty() ? current.get().relayRtts()
        : relayRtts(request);
    if (current.get().tokenExpiry() != caller.tokenExpiry() || !rtts.equals(current.get().relayRtts())) {
      // Signed with another key than it registered with (a renewed token): messages to it follow the new key.
      // New RTTs: the record changes (and is shared with the cluster).
      registry.put(current.get().refreshed(caller.source(), expiry(caller.now())).withTokenExpiry(caller.tokenExpiry())
          .withRelayRtts(rtts));
    } else {
      registry.touch(caller.appId(), caller.peerId(), caller.source(), expiry(caller.now()));
    }
    counters.keepalives.increment();
    // The relays again when they are not the ones it reports RTTs for (one joined, left or filled up): only then, see
    // RelaySelector.relist for why not in every keepalive.
    List<InetSocketAddress> reported = new ArrayList<>(rtts.size());
    for (RelayRtt r : rtts) {
      reported.add(r.relay());
    }
    return Replies.sign(listing(mappedBuilder(caller, request), relays.relist(caller.appId(), reported)),
        caller.key());
  }

  /** Adds RELAY-ADDRESS for each relay of {@code relays}, in order. */
  private static StunMessage.Builder listing(StunMessage.Builder b, List<InetSocketAddress> relays) {
    for (InetSocketAddress relay : relays) {
      b.addXorAddress(StunAttributes.RELAY_ADDRESS, relay);
    }
    return b;
  }

  private byte[] deregister(Caller caller, StunMessage request) {
    if (registry.remove(caller.appId(), caller.peerId())) {
      counters.deregistrations.increment();
    }
    return Replies.sign(StunMessage.successFor(request), caller.key());
  }

  /** The success of REGISTER and KEEPALIVE: where the peer is seen, and for how long it stays registered. */
  private StunMessage.Builder mappedBuilder(Caller caller, StunMessage request) {
    return StunMessage.successFor(request)
        .addXorAddress(StunAttributes.XOR_MAPPED_ADDRESS, caller.source())
        .addU32(StunAttributes.REGISTRATION_LIFETIME, config.registrationLifetimeSeconds());
  }

  /**
   * Well-formed RELAY-RTT values in the peer's order, one per relay (the first wins), at most
   * {@link RelayRtt#MAX_PER_MESSAGE}; anything else is ignored.
   */
  static List<RelayRtt> relayRtts(StunMessage request) {
    byte[] tx = request.transactionId();
    List<RelayRtt> out = new ArrayList<>();
    for (byte[] value : request.getAll(StunAttributes.RELAY_RTT)) {
      RelayRtt r = RelayRtt.decode(value, tx);
      if (out.size() >= RelayRtt.MAX_PER_MESSAGE) {
        break;
      }
      if (r != null && out.stream().noneMatch(o -> o.relay().equals(r.relay()))) {
        out.add(r);
      }
    }
    return out;
  }

  private Instant expiry(Instant now) {
    return now.plusSeconds(config.registrationLifetimeSeconds());
  }

  /**
   * Well-formed HOST candidates in the peer's order, IPv4 or IPv6 alike, at most {@link #MAX_HOST_CANDIDATES};
   * anything else is ignored, as the protocol allows.
   */
  private static List<Candidate> hostCandidates(StunMessage request) {
    byte[] tx = request.transactionId();
    List<Candidate> out = new ArrayList<>();
    for (byte[] value : request.getAll(StunAttributes.CANDIDATE)) {
      Candidate c = Candidate.decode(value, tx);
      if (c != null && c.kind() == Candidate.Kind.HOST && out.size() < MAX_HOST_CANDIDATES) {
        out.add(c);
      }
    }
    return out;
  }
}
