package io.introducer.relay;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.DatagramPacket;
import java.util.Arrays;

/**
 * Flushes the sockets of one event loop in batches instead of once per datagram. Writes are queued; a
 * socket is flushed as soon as {@link Target#batch} datagrams wait on it, and whatever is left at the
 * end of the loop iteration (the first queued write schedules this task, which netty runs after the I/O
 * events of the iteration). A socket with several datagrams waiting sends them with one sendmmsg; the
 * batch bounds how long the first of them waits for the iteration to end. Write failures reach the
 * channel's pipeline as exceptions (void promises: nothing is allocated per datagram to track them).
 * Confined to its event loop.
 */
final class Flusher implements Runnable {
  /** A socket, how many datagrams it sends at once, and what waits on it. */
  static final class Target {
    final Channel channel;
    /** Datagrams that trigger a flush at once: 1 = never wait, else at most one sendmmsg's worth waits. */
    final int batch;
    boolean queued;
    int waiting;

    Target(Channel channel, int batch) {
      this.channel = channel;
      this.batch = batch;
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
    if (t.batch <= 1) {
      t.channel.writeAndFlush(packet, t.channel.voidPromise());
      return;
    }
    t.channel.write(packet, t.channel.voidPromise());
    if (++t.waiting >= t.batch) {
      t.waiting = 0;
      t.channel.flush();
    }
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
      t.waiting = 0;
      t.channel.flush();
    }
  }
}
