package io.introducer.bench;

import io.introducer.protocol.LongTermCredentials;
import io.introducer.protocol.StunAttributes;
import io.introducer.protocol.StunClass;
import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMethods;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A latency probe through a TURN server, run alongside the load: one allocation with a channel to the
 * echo peer, pinging at a low fixed rate with a nanosecond timestamp in each ChannelData, so round-trip
 * percentiles are known at microsecond resolution (turnutils_uclient reports only a millisecond average
 * and maximum). The probe's own Java overhead is in every figure, for both servers alike.
 */
final class TurnProbe implements AutoCloseable {
  private static final int CHANNEL = 0x4000;
  private static final int PAYLOAD = 100;
  private static final int MAX_SAMPLES = 200_000;

  private final DatagramSocket socket;
  private final InetSocketAddress server;
  private final long[] sentAt = new long[MAX_SAMPLES];
  private final long[] rtt = new long[MAX_SAMPLES];
  private volatile boolean running;
  private volatile int sent;
  private Thread sender;
  private Thread receiver;

  private TurnProbe(DatagramSocket socket, InetSocketAddress server) {
    this.socket = socket;
    this.server = server;
    Arrays.fill(rtt, -1);
  }

  /** Allocates on {@code server} with long-term credentials and binds a channel to {@code peer}. */
  static TurnProbe connect(InetSocketAddress server, String user, String password, InetSocketAddress peer)
      throws IOException {
    DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    s.setSoTimeout(2000);
    TurnProbe p = new TurnProbe(s, server);
    try {
      StunMessage challenge = p.exchange(StunMessage.builder(StunMethods.ALLOCATE, StunClass.REQUEST)
          .add(StunAttributes.REQUESTED_TRANSPORT, new byte[] {17, 0, 0, 0}).encode());
      String realm = challenge.getString(StunAttributes.REALM);
      String nonce = challenge.getString(StunAttributes.NONCE);
      byte[] key = LongTermCredentials.md5Key(user, realm, password);
      StunMessage alloc = p.exchange(StunMessage.builder(StunMethods.ALLOCATE, StunClass.REQUEST)
          .add(StunAttributes.REQUESTED_TRANSPORT, new byte[] {17, 0, 0, 0})
          .addString(StunAttributes.USERNAME, user).addString(StunAttributes.REALM, realm)
          .addString(StunAttributes.NONCE, nonce).integrity(key).fingerprint().encode());
      if (alloc.messageClass() != StunClass.SUCCESS_RESPONSE) {
        throw new IOException("Allocate failed: " + alloc);
      }
      StunMessage bind = p.exchange(StunMessage.builder(StunMethods.CHANNEL_BIND, StunClass.REQUEST)
          .add(StunAttributes.CHANNEL_NUMBER, new byte[] {0x40, 0, 0, 0})
          .addXorAddress(StunAttributes.XOR_PEER_ADDRESS, peer)
          .addString(StunAttributes.USERNAME, user).addString(StunAttributes.REALM, realm)
          .addString(StunAttributes.NONCE, nonce).integrity(key).fingerprint().encode());
      if (bind.messageClass() != StunClass.SUCCESS_RESPONSE) {
        throw new IOException("ChannelBind failed: " + bind);
      }
    } catch (IOException | RuntimeException e) {
      s.close();
      throw e;
    }
    return p;
  }

  private StunMessage exchange(byte[] request) throws IOException {
    socket.send(new DatagramPacket(request, request.length, server));
    byte[] buf = new byte[2048];
    long deadline = System.nanoTime() + 3_000_000_000L;
    while (System.nanoTime() < deadline) {
      DatagramPacket p = new DatagramPacket(buf, buf.length);
      try {
        socket.receive(p);
      } catch (SocketTimeoutException e) {
        break;
      }
      if (p.getLength() >= 20 && Arrays.equals(buf, 8, 20, request, 8, 20)) {
        try {
          return StunMessage.decode(Arrays.copyOf(buf, p.getLength()));
        } catch (Exception e) {
          throw new IOException("bad response", e);
        }
      }
    }
    throw new IOException("no response from " + server);
  }

  /** Starts pinging every {@code intervalMicros}. */
  void start(long intervalMicros) {
    running = true;
    receiver = new Thread(this::receiveLoop, "turn-probe-rx");
    receiver.setDaemon(true);
    receiver.start();
    sender = new Thread(() -> sendLoop(intervalMicros), "turn-probe-tx");
    sender.setDaemon(true);
    sender.start();
  }

  private void sendLoop(long intervalMicros) {
    byte[] frame = new byte[4 + PAYLOAD];
    ByteBuffer b = ByteBuffer.wrap(frame);
    b.putShort(0, (short) CHANNEL).putShort(2, (short) PAYLOAD);
    DatagramPacket packet = new DatagramPacket(frame, frame.length, server);
    long next = System.nanoTime();
    int seq = 0;
    while (running && seq < MAX_SAMPLES) {
      long now = System.nanoTime();
      if (now < next) {
        long sleep = next - now;
        try {
          Thread.sleep(sleep / 1_000_000, (int) (sleep % 1_000_000));
        } catch (InterruptedException e) {
          return;
        }
        continue;
      }
      next += intervalMicros * 1000;
      b.putInt(4, seq);
      long t = System.nanoTime();
      b.putLong(8, t);
      sentAt[seq] = t;
      try {
        socket.send(packet);
      } catch (IOException e) {
        return;
      }
      seq++;
      sent = seq;
    }
  }

  private void receiveLoop() {
    byte[] buf = new byte[2048];
    DatagramPacket p = new DatagramPacket(buf, buf.length);
    ByteBuffer b = ByteBuffer.wrap(buf);
    while (running) {
      try {
        p.setLength(buf.length);
        socket.receive(p);
      } catch (SocketTimeoutException e) {
        continue;
      } catch (IOException e) {
        return;
      }
      long t = System.nanoTime();
      if (p.getLength() >= 4 + 12 && (buf[0] & 0xC0) == 0x40 && (b.getShort(0) & 0xFFFF) == CHANNEL) {
        int seq = b.getInt(4);
        if (seq >= 0 && seq < MAX_SAMPLES && sentAt[seq] == b.getLong(8)) {
          rtt[seq] = t - sentAt[seq];
        }
      }
    }
  }

  /** Stops pinging; waits a little for the last answers. */
  void stop() throws InterruptedException {
    Thread.sleep(200);
    running = false;
    sender.join(2000);
    receiver.join(3000);
  }

  /** Percentiles (microseconds) of the pings sent in [fromNanos, toNanos), lost ones counted as infinitely slow. */
  Stats stats(long fromNanos, long toNanos) {
    int n = sent;
    long[] in = new long[n];
    int count = 0;
    int lost = 0;
    for (int i = 0; i < n; i++) {
      if (sentAt[i] >= fromNanos && sentAt[i] < toNanos) {
        if (rtt[i] < 0) {
          lost++;
          in[count++] = Long.MAX_VALUE;
        } else {
          in[count++] = rtt[i];
        }
      }
    }
    long[] s = Arrays.copyOf(in, count);
    Arrays.sort(s);
    return new Stats(count, lost, pct(s, 0.50), pct(s, 0.99));
  }

  private static double pct(long[] sorted, double p) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    long v = sorted[Math.min(sorted.length - 1, (int) (sorted.length * p))];
    return v == Long.MAX_VALUE ? Double.POSITIVE_INFINITY : v / 1000.0;
  }

  record Stats(int samples, int lost, double p50Micros, double p99Micros) {}

  @Override
  public void close() {
    running = false;
    socket.close();
  }
}
