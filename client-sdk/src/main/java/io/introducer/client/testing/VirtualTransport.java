package io.introducer.client.testing;

import io.introducer.client.transport.DatagramTransport;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.LinkedBlockingQueue;

/** A socket of a simulated host: sends go to its NAT, receives come from a queue the NAT fills. */
final class VirtualTransport implements DatagramTransport {
  /** Like a socket's receive buffer: datagrams beyond this many waiting are dropped. */
  static final int QUEUE_LIMIT = 4096;
  private static final Datagram CLOSED = new Datagram(new byte[0], null);

  record Datagram(byte[] data, InetSocketAddress source) {}

  private final SimulatedNat nat;
  private final InetSocketAddress local;
  private final LinkedBlockingQueue<Datagram> queue = new LinkedBlockingQueue<>();
  private volatile boolean closed;

  VirtualTransport(SimulatedNat nat, InetSocketAddress local) {
    this.nat = nat;
    this.local = local;
  }

  @Override
  public InetSocketAddress localAddress() {
    return local;
  }

  @Override
  public void send(ByteBuffer data, InetSocketAddress target) throws IOException {
    if (closed) {
      throw new ClosedChannelException();
    }
    if (target == null || target.isUnresolved()) {
      throw new IOException("unresolved target " + target);
    }
    byte[] copy = new byte[data.remaining()];
    data.get(copy);
    nat.outbound(this, copy, target);
  }

  @Override
  public InetSocketAddress receive(ByteBuffer dst) throws IOException {
    if (closed) {
      throw new ClosedChannelException();
    }
    Datagram d;
    try {
      d = queue.take();
    } catch (InterruptedException e) {
      close();
      Thread.currentThread().interrupt();
      throw new ClosedByInterruptException();
    }
    if (d == CLOSED) {
      queue.offer(CLOSED); // wake any other receiver too
      throw new AsynchronousCloseException();
    }
    dst.put(d.data(), 0, Math.min(d.data().length, dst.remaining()));
    return d.source();
  }

  /** Called by the NAT (any thread): queues a datagram unless closed or the queue is full. */
  boolean deliver(byte[] data, InetSocketAddress source) {
    if (closed || queue.size() >= QUEUE_LIMIT) {
      return false;
    }
    queue.offer(new Datagram(data, source));
    return true;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    queue.clear();
    queue.offer(CLOSED);
    nat.released(this);
  }

  @Override
  public String toString() {
    return "virtual:" + local + " behind " + nat;
  }
}
