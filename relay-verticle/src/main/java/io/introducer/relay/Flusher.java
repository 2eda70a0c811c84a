package io.introducer.relay;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPromise;
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
 *
 * <p>Datagrams go straight to the channel's {@link Channel.Unsafe} (what the pipeline's head does with a write), not
 * through the pipeline: the relay's channels have no outbound handler, and walking the pipeline per datagram
 * (finding each outbound context, touching the message for the leak detector, re-checking the event loop) showed in
 * the profile of the relay's event loops. Confined to its event loop, where the unsafe may be used.
 */
final class Flusher implements Runnable {
  /** A socket, how many datagrams it sends at once, and what waits on it. */
  static final class Target {
    final Channel channel;
    final Channel.Unsafe unsafe;
    final ChannelPromise voidPromise;
    /** Datagrams that trigger a flush at once: 1 = never wait, else at most one sendmmsg's worth waits. */
    final int batch;
    boolean queued;
    int waiting;

    Target(Channel channel, int batch) {
      this.channel = channel;
      this.unsafe = channel.unsafe();
      this.voidPromise = channel.voidPromise();
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
    if (!loop.inEventLoop()) { // not expected (everything of a shard runs on its loop), but never unsafe elsewhere
      t.channel.writeAndFlush(packet, t.voidPromise);
      return;
    }
    if (t.batch <= 1) {
      t.unsafe.write(packet, t.voidPromise);
      t.unsafe.flush();
      return;
    }
    t.unsafe.write(packet, t.voidPromise);
    if (++t.waiting >= t.batch) {
      t.waiting = 0;
      t.unsafe.flush();
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
      t.unsafe.flush();
    }
  }
}
