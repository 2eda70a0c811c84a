package io.introducer.client;

import io.introducer.client.transport.DatagramTransport;
import io.introducer.protocol.rendezvous.PunchParams;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The birthday strategy's two halves (docs/PROTOCOL.md section 7), run by a {@link Session} on the control thread.
 *
 * <p><b>Hard side</b>: opens PUNCH-PARAMS socket count extra sockets from the transport factory (a few dozen per
 * tick, so the control thread stays responsive), each with its own receiver thread, and sends a PUNCH from each
 * to the easy side's server-reflexive address: each socket gets a mapping of its own on the hard NAT, so several
 * hundred random ports now let the easy side in. The sweep is repeated at the punch rounds' pace (a lost first
 * PUNCH must not leave a socket without its mapping). The socket that gets the first PUNCH success carries the
 * channel; {@link #stop} closes all others.
 *
 * <p><b>Easy side</b>: sends PUNCH to random ports (1024-65535, no port twice) of the hard side's IP at PUNCH-PARAMS
 * probes per second, up to its probe count. A probe that hits one of the hard side's mappings is answered; with
 * 256 mappings among 64512 ports each probe hits with p ~ 1/252, so about 1160 probes (1.2 s at 1000/s) reach
 * 99 %.
 */
final class Birthday {
  private static final Logger log = LoggerFactory.getLogger(Birthday.class);
  /** Sockets opened per tick of the hard side. */
  static final int SOCKETS_PER_TICK = 32;
  /** The easy side's probe timer. */
  static final long PROBE_TICK_MILLIS = 5;
  static final int MIN_PORT = 1024;
  static final int MAX_PORT = 65535;

  /** How the session sends one PUNCH (so that its answer is matched) from a given socket. */
  interface Puncher {
    void punch(InetSocketAddress target, DatagramTransport via);
  }

  private final ClientRuntime rt;
  private final Puncher puncher;
  private final PunchParams params;
  private final List<DatagramTransport> sockets = new ArrayList<>();
  private final SplittableRandom random = new SplittableRandom();
  private ScheduledFuture<?> timer;
  private boolean stopped;
  private long roundGap = Session.FIRST_ROUND_GAP_MILLIS;
  // easy side
  private final Set<Integer> probed = new HashSet<>();
  private long probesSent;
  private long probeStartNanos;

  Birthday(ClientRuntime rt, Puncher puncher, PunchParams params) {
    this.rt = rt;
    this.puncher = puncher;
    this.params = params;
  }

  // ---------------------------------------------------------------------------------------------- hard

  /** Hard side: opens the sockets and punches {@code targets} (the easy side's server-reflexive address) from each. */
  void startHard(List<InetSocketAddress> targets) {
    if (targets.isEmpty() || params.socketCount() == 0) {
      return;
    }
    openSome(targets);
  }

  private void openSome(List<InetSocketAddress> targets) {
    if (stopped) {
      return;
    }
    InetSocketAddress bind = new InetSocketAddress(rt.transport.localAddress().getAddress(), 0);
    for (int i = 0; i < SOCKETS_PER_TICK && sockets.size() < params.socketCount(); i++) {
      DatagramTransport t;
      try {
        t = rt.config.transportFactory().open(bind);
      } catch (IOException e) {
        log.warn("birthday: could only open {} of {} extra sockets: {}", sockets.size(), params.socketCount(),
            e.toString());
        sweepLater(targets);
        return;
      }
      sockets.add(t);
      rt.startExtraReceiver(t);
      for (InetSocketAddress target : targets) {
        puncher.punch(target, t);
      }
    }
    if (sockets.size() < params.socketCount()) {
      timer = rt.schedule(() -> openSome(targets), 1);
    } else {
      log.debug("birthday: {} extra sockets punch {}", sockets.size(), targets);
      sweepLater(targets);
    }
  }

  private void sweepLater(List<InetSocketAddress> targets) {
    long gap = roundGap;
    roundGap = Math.min(Session.MAX_ROUND_GAP_MILLIS, roundGap * 3 / 2);
    timer = rt.schedule(() -> {
      if (stopped) {
        return;
      }
      for (DatagramTransport t : sockets) {
        for (InetSocketAddress target : targets) {
          puncher.punch(target, t);
        }
      }
      sweepLater(targets);
    }, gap);
  }

  // ---------------------------------------------------------------------------------------------- easy

  /** Easy side: probes random ports of {@code hardIp} at the PUNCH-PARAMS rate, up to its probe count. */
  void startEasy(InetAddress hardIp, Set<Integer> skip) {
    if (params.probeCount() == 0) {
      return;
    }
    probed.addAll(skip);
    probeStartNanos = ClientRuntime.nowNanos();
    probe(hardIp);
  }

  private void probe(InetAddress hardIp) {
    if (stopped) {
      return;
    }
    long elapsedMicros = TimeUnit.NANOSECONDS.toMicros(ClientRuntime.nowNanos() - probeStartNanos);
    long due = Math.min(params.probeCount(), 1 + elapsedMicros * params.probesPerSecond() / 1_000_000);
    int range = MAX_PORT - MIN_PORT + 1;
    while (probesSent < due && probed.size() < range) {
      int port = MIN_PORT + random.nextInt(range);
      if (probed.add(port)) {
        probesSent++;
        puncher.punch(new InetSocketAddress(hardIp, port), rt.transport);
      }
    }
    if (probesSent < params.probeCount() && probed.size() < range) {
      timer = rt.schedule(() -> probe(hardIp), PROBE_TICK_MILLIS);
    } else {
      log.debug("birthday: {} probes sent to {}", probesSent, hardIp.getHostAddress());
    }
  }

  // --------------------------------------------------------------------------------------------- stop

  /** The first PUNCH success won (or the session ended): no more probes or sweeps; every extra socket but {@code keep} closes. */
  void stop(DatagramTransport keep) {
    stopped = true;
    if (timer != null) {
      timer.cancel(false);
    }
    List<DatagramTransport> closing = new ArrayList<>(sockets);
    sockets.clear();
    for (DatagramTransport t : closing) {
      if (t == keep) {
        sockets.add(t);
      } else {
        close(t);
      }
    }
  }

  private static void close(DatagramTransport t) {
    try {
      t.close();
    } catch (IOException e) {
      log.debug("closing a birthday socket: {}", e.toString());
    }
  }
}
