package io.introducer.client.testing;

import io.introducer.client.transport.DatagramTransport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/** Test helpers: a real loopback "server" socket and bounded receives on virtual transports. */
final class Udp implements AutoCloseable {
  record Received(String text, InetSocketAddress source) {}

  private final DatagramSocket socket;

  Udp(String ip) {
    try {
      socket = new DatagramSocket(new InetSocketAddress(ip, 0));
      socket.setSoTimeout(3_000);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  InetSocketAddress address() {
    return (InetSocketAddress) socket.getLocalSocketAddress();
  }

  void send(String text, InetSocketAddress to) throws IOException {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    socket.send(new DatagramPacket(b, b.length, to));
  }

  /** Waits (at most 3 s) for one datagram. */
  Received receive() throws IOException {
    DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
    try {
      socket.receive(p);
    } catch (SocketTimeoutException e) {
      throw new AssertionError("nothing arrived at " + address() + " within 3 s");
    }
    return new Received(new String(p.getData(), 0, p.getLength(), StandardCharsets.UTF_8),
        (InetSocketAddress) p.getSocketAddress());
  }

  @Override
  public void close() {
    socket.close();
  }

  static void send(DatagramTransport t, String text, InetSocketAddress to) throws IOException {
    t.send(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), to);
  }

  /** Receives on a virtual transport, failing after 3 s. */
  static Received receive(DatagramTransport t) throws Exception {
    CompletableFuture<Received> f = CompletableFuture.supplyAsync(() -> {
      ByteBuffer buf = ByteBuffer.allocate(2048);
      try {
        InetSocketAddress src = t.receive(buf);
        buf.flip();
        return new Received(StandardCharsets.UTF_8.decode(buf).toString(), src);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    try {
      return f.get(3, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      t.close(); // unblocks the helper thread
      throw new AssertionError("nothing arrived at " + t.localAddress() + " within 3 s");
    } catch (ExecutionException e) {
      throw new AssertionError(e.getCause());
    }
  }

  /** Polls {@code counter} until it reaches {@code expected} (at most 3 s); returns the last value. */
  static long awaitCount(LongSupplier counter, long expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    long v = counter.getAsLong();
    while (v < expected && System.nanoTime() < deadline) {
      Thread.sleep(10);
      v = counter.getAsLong();
    }
    return v;
  }
}
