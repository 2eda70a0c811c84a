package io.introducer.client;

import io.introducer.client.transport.DatagramTransportFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/** Starts clients against a {@link TestIntroducer} and closes them after each test. */
final class Peers implements AutoCloseable {
  private static final AtomicInteger IDS = new AtomicInteger();
  static final long WAIT_SECONDS = 10;

  private final TestIntroducer introducer;
  private final List<IntroducerClient> started = java.util.Collections.synchronizedList(new ArrayList<>());

  Peers(TestIntroducer introducer) {
    this.introducer = introducer;
  }

  /** A peer id no other test uses. */
  static String id(String prefix) {
    return prefix + "-" + IDS.incrementAndGet();
  }

  IntroducerClient start(String peerId, DatagramTransportFactory transports) throws Exception {
    return start(peerId, transports, b -> b);
  }

  IntroducerClient start(String peerId, DatagramTransportFactory transports, UnaryOperator<ClientConfig.Builder> tweak)
      throws Exception {
    IntroducerClient c = IntroducerClient.start(tweak.apply(introducer.client(peerId, transports)).build())
        .get(WAIT_SECONDS, TimeUnit.SECONDS);
    started.add(c);
    return c;
  }

  /** Collects the channels other peers open to {@code client}. */
  static BlockingQueue<PeerChannel> incoming(IntroducerClient client) {
    BlockingQueue<PeerChannel> q = new LinkedBlockingQueue<>();
    client.onIncoming(q::add);
    return q;
  }

  static PeerChannel take(BlockingQueue<PeerChannel> q) throws InterruptedException {
    PeerChannel ch = q.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    if (ch == null) {
      throw new AssertionError("no incoming channel within " + WAIT_SECONDS + " s");
    }
    return ch;
  }

  static PeerChannel connect(IntroducerClient from, String to) throws Exception {
    return from.connect(to).get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /** Collects a channel's messages as strings. */
  static BlockingQueue<String> messages(PeerChannel ch) {
    BlockingQueue<String> q = new LinkedBlockingQueue<>();
    ch.onMessage(b -> q.add(new String(b, java.nio.charset.StandardCharsets.UTF_8)));
    return q;
  }

  static String next(BlockingQueue<String> q) throws InterruptedException {
    String s = q.poll(WAIT_SECONDS, TimeUnit.SECONDS);
    if (s == null) {
      throw new AssertionError("no message within " + WAIT_SECONDS + " s");
    }
    return s;
  }

  static CompletableFuture<String> closeReason(PeerChannel ch) {
    CompletableFuture<String> f = new CompletableFuture<>();
    ch.onClose(f::complete);
    return f;
  }

  @Override
  public void close() {
    started.forEach(IntroducerClient::close);
    started.clear();
  }
}
