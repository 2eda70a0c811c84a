package io.introducer.relay;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import java.util.Arrays;

/**
 * Flushes the sockets of one event loop once per loop iteration instead of once per datagram. Writes
 * are queued; the first one of an iteration schedules this task, which netty runs after the I/O events
 * of the iteration have been handled. A socket that got several datagrams sends them with one
 * sendmmsg. Write failures reach the channel's pipeline as exceptions (void promises: nothing is
 * allocated per datagram to track them). Confined to its event loop.
 */
final class Flusher implements Runnable {
  /** A socket with its "already queued for this iteration" flag. */
  static final class Target {
    final Channel channel;
    boolean queued;

    Target(Channel channel) {
      this.channel = channel;
    }
  }

  private final EventLoop loop;
  private Target[] pending = new Target[64];
  private int count;
  private boolean scheduled;

  Flusher(EventLoop loop) {
    this.loop = loop;
  }

  /** Queues {@code packet} on {@code t}; it leaves at the end of this loop iteration. */
  void write(Target t, DatagramPacket packet) {
    t.channel.write(packet, t.channel.voidPromise());
    if (t.queued) {
      return;
    }
    t.queued = true;
    if (count == pending.length) {
      pending = Arrays.copyOf(pending, count * 2);
    }
    pending[count++] = t;
    if (!scheduled) {
      scheduled = true;
      loop.execute(this);
    }
  }

  @Override
  public void run() {
    scheduled = false;
    int n = count;
    count = 0;
    for (int i = 0; i < n; i++) {
      Target t = pending[i];
      pending[i] = null;
      t.queued = false;
      t.channel.flush();
    }
  }
}
