package io.introducer.client.relay;

import io.introducer.client.transport.DatagramTransport;
import io.introducer.client.transport.DatagramTransportFactory;
import io.introducer.protocol.Demux;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunParseException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A minimal owner for a {@link TurnClient} in tests: one socket, a receiver thread, and one control
 * thread, demultiplexing as the SDK does. Relayed datagrams are queued for the test.
 */
final class TurnEndpoint implements TurnClient.Io, AutoCloseable {
  final DatagramTransport transport;
  final ScheduledThreadPoolExecutor control = new ScheduledThreadPoolExecutor(1);
  final BlockingQueue<TurnClient.Relayed> relayed = new LinkedBlockingQueue<>();
  final AtomicInteger channelDataReceived = new AtomicInteger();
  final AtomicInteger indicationsReceived = new AtomicInteger();
  final AtomicInteger sent = new AtomicInteger();
  volatile TurnClient client;
  /** Runs on the control thread right after the client took a response (tests use it to act mid-exchange). */
  volatile Runnable afterResponse = () -> { };
  private final Thread receiver;

  TurnEndpoint(DatagramTransportFactory factory) throws IOException {
    this(factory, new InetSocketAddress("127.0.0.1", 0));
  }

  TurnEndpoint(DatagramTransportFactory factory, InetSocketAddress bind) throws IOException {
    transport = factory.open(bind);
    control.setRemoveOnCancelPolicy(true);
    receiver = new Thread(this::receive, "turn-endpoint-receiver");
    receiver.setDaemon(true);
    receiver.start();
  }

  TurnClient client(InetSocketAddress server, String user, String password, TurnClient.Settings settings) {
    client = new TurnClient(this, server, user, password, settings);
    return client;
  }

  /** Runs {@code task} on the control thread and waits for its result (TurnClient methods run there). */
  <T> T onControl(java.util.concurrent.Callable<T> task) throws Exception {
    return control.submit(task).get(10, TimeUnit.SECONDS);
  }

  TurnClient.Relayed next(Duration timeout) throws InterruptedException {
    return relayed.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void send(byte[] datagram, InetSocketAddress target) {
    try {
      sent.incrementAndGet();
      transport.send(ByteBuffer.wrap(datagram), target);
    } catch (IOException e) {
      // lost datagram
    }
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable task, long delayMillis) {
    try {
      return control.schedule(task, Math.max(0, delayMillis), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      return null;
    }
  }

  @Override
  public boolean execute(Runnable task) {
    try {
      control.execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      return false;
    }
  }

  private void receive() {
    ByteBuffer buf = ByteBuffer.allocate(65536);
    while (true) {
      buf.clear();
      InetSocketAddress source;
      try {
        source = transport.receive(buf);
      } catch (IOException e) {
        return;
      }
      buf.flip();
      byte[] d = new byte[buf.remaining()];
      buf.get(d);
      TurnClient c = client;
      if (c == null || d.length == 0 || !source.equals(c.server())) {
        continue;
      }
      if (Demux.classify(d[0]) == Demux.Kind.CHANNEL_DATA) {
        TurnClient.Relayed r = c.onChannelData(d);
        if (r != null) {
          channelDataReceived.incrementAndGet();
          relayed.add(r);
        }
      } else if (Demux.classify(d[0]) == Demux.Kind.STUN) {
        try {
          StunMessage m = StunMessage.decode(d);
          execute(() -> {
            if (c.onResponse(m)) {
              afterResponse.run();
            } else {
              TurnClient.Relayed r = c.onDataIndication(m);
              if (r != null) {
                indicationsReceived.incrementAndGet();
                relayed.add(r);
              }
            }
          });
        } catch (StunParseException e) {
          // dropped
        }
      }
    }
  }

  @Override
  public void close() throws Exception {
    control.shutdownNow();
    transport.close();
    receiver.join(2_000);
  }
}
