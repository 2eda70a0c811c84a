package io.introducer.client;

import io.introducer.protocol.ErrorCode;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.rendezvous.Candidate;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * REGISTER, KEEPALIVE and DEREGISTER with the introducer: the first registration (trying each server in
 * turn), keepalives, re-registration on 404, and after lost keepalives a REGISTER retry loop with bounded
 * back-off that moves on to the next server. Control thread only.
 */
final class Registration {
  private static final Logger log = LoggerFactory.getLogger(Registration.class);
  static final long MIN_RETRY_MILLIS = 1_000;
  static final long MAX_RETRY_MILLIS = 30_000;
  /**
   * A keepalive sent out of turn because something suggests the introducer is gone (a relayed path went silent, a
   * RELAY-REQUEST went unanswered) waits at most this long (or the request timeout, if shorter) before the client
   * fails over to its next server.
   */
  static final Duration CHECK_TIMEOUT = Duration.ofMillis(1_500);
  /** DEREGISTER on close waits at most this long, so that close() stays quick. */
  static final Duration DEREGISTER_TIMEOUT = Duration.ofSeconds(2);

  private final ClientRuntime rt;
  private final Transactions transactions;
  private final List<InetSocketAddress> servers;
  private int serverIndex;
  private volatile InetSocketAddress publicAddress;
  private boolean registered;
  private boolean lost;
  private boolean stopped;
  private long lifetimeMillis = Long.MAX_VALUE;
  private int retries;
  private boolean keepaliveInFlight;
  private ScheduledFuture<?> timer;
  private final RelayProbes relayProbes;

  Registration(ClientRuntime rt, Transactions transactions) {
    this.rt = rt;
    this.transactions = transactions;
    this.servers = rt.config.servers();
    this.relayProbes = new RelayProbes(rt);
  }

  /** The RTT measurements to the relays the introducer listed. */
  RelayProbes relayProbes() {
    return relayProbes;
  }

  /** The introducer currently registered with (or being tried). */
  InetSocketAddress server() {
    return servers.get(serverIndex);
  }

  boolean isServer(InetSocketAddress address) {
    return servers.contains(address);
  }

  InetSocketAddress publicAddress() {
    return publicAddress;
  }

  /** First registration: an error response fails at once; a timeout moves on to the next server. */
  CompletableFuture<InetSocketAddress> start() {
    CompletableFuture<InetSocketAddress> done = new CompletableFuture<>();
    firstRegister(0, done);
    return done;
  }

  private void firstRegister(int attempt, CompletableFuture<InetSocketAddress> done) {
    serverIndex = attempt;
    register().whenComplete((m, err) -> {
      if (stopped) {
        done.completeExceptionally(new ConnectException("client closed"));
      } else if (err != null) {
        if (attempt + 1 < servers.size()) {
          firstRegister(attempt + 1, done);
        } else {
          done.completeExceptionally(new ConnectException("registration timed out: no answer from "
              + (servers.size() == 1 ? server() : "any of " + servers), err));
        }
      } else if (m.messageClass() == StunClass.ERROR_RESPONSE) {
        done.completeExceptionally(new ConnectException("registration refused: " + m.errorCode()));
      } else if (accept(m)) {
        done.complete(publicAddress);
      } else {
        done.completeExceptionally(new ConnectException("registration failed: response without XOR-MAPPED-ADDRESS"));
      }
    });
  }

  private CompletableFuture<StunMessage> register() {
    return transactions.send(rt.wire.register(hostCandidates(), rt.natProfile(), relayProbes.reported()), server(),
        rt.config.requestTimeout());
  }

  /** The socket's own addresses with its port; only the bound address when bound to a specific one. */
  List<Candidate> hostCandidates() {
    InetSocketAddress local = rt.transport.localAddress();
    List<InetAddress> addresses = local.getAddress().isAnyLocalAddress()
        ? rt.config.transportFactory().hostAddresses() : List.of(local.getAddress());
    boolean v4 = local.getAddress() instanceof Inet4Address;
    List<Candidate> out = new ArrayList<>();
    for (InetAddress a : addresses) {
      // An IPv4 socket cannot use IPv6 candidates (the reverse works through mapped addresses, but keep it simple).
      if ((a instanceof Inet4Address) == v4 && out.size() < 8) {
        out.add(new Candidate(Candidate.Kind.HOST, new InetSocketAddress(a, local.getPort())));
      }
    }
    return out;
  }

  /** Takes a REGISTER success: public address, lifetime; (re)starts keepalives. */
  private boolean accept(StunMessage m) {
    InetSocketAddress mapped = m.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS);
    if (mapped == null) {
      return false;
    }
    publicAddress = mapped;
    rt.serverReflexive(server(), mapped);
    long lifetime = m.getU32(StunAttributes.REGISTRATION_LIFETIME);
    lifetimeMillis = lifetime > 0 ? lifetime * 1000 : Long.MAX_VALUE;
    registered = true;
    lost = false;
    retries = 0;
    log.info("{} registered with {} as {}", rt.wire.peerId(), server(), mapped);
    ClientListener listener = rt.config.listener();
    rt.callback(() -> listener.registered(mapped));
    relayProbes.listed(m);
    scheduleKeepalive();
    return true;
  }

  private void scheduleKeepalive() {
    // Well inside the registration lifetime even if the configured interval is not.
    long interval = Math.min(rt.config.keepaliveInterval().toMillis(), lifetimeMillis / 3);
    timer = rt.schedule(this::keepalive, interval);
  }

  private void keepalive() {
    keepalive(rt.config.requestTimeout());
  }

  /**
   * Checks at once that the introducer still answers (a keepalive out of turn, with a short timeout): called when a
   * relayed path went silent, since a node that dies takes its relay and its registrations with it. An unanswered
   * check fails over to the next server like an unanswered keepalive. Nothing happens while not registered (the
   * registration is being retried already) or while a keepalive is in flight.
   */
  void check() {
    if (stopped || !registered || keepaliveInFlight) {
      return;
    }
    if (timer != null) {
      timer.cancel(false);
    }
    keepalive(checkTimeout());
  }

  /** The timeout of a request that checks the introducer is there: {@link #CHECK_TIMEOUT}, or the request timeout. */
  Duration checkTimeout() {
    return rt.config.requestTimeout().compareTo(CHECK_TIMEOUT) < 0 ? rt.config.requestTimeout() : CHECK_TIMEOUT;
  }

  /**
   * The server {@code asked} did not answer a keepalive or another request that matters now (RELAY-REQUEST): move on
   * to the next server and register there. Nothing happens while not registered (already retrying) or when the
   * client moved on from {@code asked} already.
   */
  void serverUnresponsive(InetSocketAddress asked, String what) {
    if (stopped || !registered || !asked.equals(server())) {
      return; // already failed over, or registering again
    }
    if (timer != null) {
      timer.cancel(false);
    }
    registrationLost(what);
    serverIndex = (serverIndex + 1) % servers.size();
    retryRegister();
  }

  private void keepalive(Duration timeout) {
    if (stopped) {
      return;
    }
    keepaliveInFlight = true;
    InetSocketAddress asked = server();
    transactions.send(rt.wire.keepalive(relayProbes.reported()), asked, timeout).whenComplete((m, err) -> {
      keepaliveInFlight = false;
      if (stopped || !registered || !asked.equals(server())) {
        return; // meanwhile the registration moved on (lost, failed over): its own loop carries on
      }
      if (err != null) {
        // The server is gone or unreachable: fail over to the next one at once rather than knock again.
        serverUnresponsive(asked, "keepalive timed out");
      } else if (m.messageClass() == StunClass.ERROR_RESPONSE) {
        ErrorCode e = m.errorCode();
        log.info("{} keepalive refused ({}); registering again", rt.wire.peerId(), e);
        registered = false;
        retryRegister();
      } else {
        InetSocketAddress mapped = m.getXorAddress(StunAttributes.XOR_MAPPED_ADDRESS);
        if (mapped != null && !mapped.equals(publicAddress)) {
          log.info("{} public address changed {} -> {}", rt.wire.peerId(), publicAddress, mapped);
          publicAddress = mapped;
          rt.serverReflexive(server(), mapped);
          ClientListener listener = rt.config.listener();
          rt.callback(() -> listener.registered(mapped));
        }
        relayProbes.listed(m);
        scheduleKeepalive();
      }
    });
  }

  /** The introducer says we are not registered (403 to a CONNECT): register again now. */
  void lostOnServer() {
    if (stopped || !registered) {
      return;
    }
    registered = false;
    if (timer != null) {
      timer.cancel(false);
    }
    retryRegister();
  }

  private void registrationLost(String reason) {
    if (!lost) {
      lost = true;
      registered = false;
      log.warn("{} lost its registration: {}", rt.wire.peerId(), reason);
      ClientListener listener = rt.config.listener();
      rt.callback(() -> listener.registrationLost(reason));
    }
  }

  private void retryRegister() {
    if (stopped) {
      return;
    }
    register().whenComplete((m, err) -> {
      if (stopped) {
        return;
      }
      if (err == null && m.messageClass() == StunClass.SUCCESS_RESPONSE && accept(m)) {
        return;
      }
      if (err != null) {
        registrationLost("register timed out");
        serverIndex = (serverIndex + 1) % servers.size();
      } else {
        registrationLost("register refused: " + m.errorCode());
      }
      long backoff = Math.min(MAX_RETRY_MILLIS, MIN_RETRY_MILLIS << Math.min(retries, 5));
      retries++;
      timer = rt.schedule(this::retryRegister, backoff);
    });
  }

  /** Stops timers and, if registered, sends DEREGISTER; completes when answered or after a short timeout. */
  CompletableFuture<?> stop() {
    stopped = true;
    if (timer != null) {
      timer.cancel(false);
    }
    if (!registered) {
      return CompletableFuture.completedFuture(null);
    }
    registered = false;
    Duration requestTimeout = rt.config.requestTimeout();
    Duration t = requestTimeout.compareTo(DEREGISTER_TIMEOUT) < 0 ? requestTimeout : DEREGISTER_TIMEOUT;
    return transactions.send(rt.wire.deregister(), server(), t).exceptionally(e -> {
      if (!(e instanceof TimeoutException)) {
        log.debug("deregister: {}", e.toString());
      }
      return null;
    });
  }
}
