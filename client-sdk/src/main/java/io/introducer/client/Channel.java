package io.introducer.client;

import io.introducer.client.relay.RelayPool;
import io.introducer.client.transport.DatagramTransport;
import io.introducer.protocol.Demux;
import io.introducer.protocol.rendezvous.Strategy;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The {@link PeerChannel} handed to users; the protocol side lives in its {@link Session}. */
final class Channel implements PeerChannel {
  private static final Logger log = LoggerFactory.getLogger(Channel.class);
  /** Largest UDP payload (65507) minus the one-byte 0xDA tag. */
  static final int MAX_PAYLOAD = 65507 - 1;
  /** Largest payload through a relay: a ChannelData header must fit in the datagram too. */
  static final int MAX_RELAYED_PAYLOAD = RelayPool.MAX_RELAYED_DATAGRAM - 1;
  /** Messages kept while no listener is set; more are dropped. */
  static final int MAX_EARLY_MESSAGES = 256;

  private final ClientRuntime rt;
  private final Session session;
  /** Where datagrams go and how; replaced as a whole when the session moves between a relay and a direct path. */
  private volatile Route route;
  private volatile boolean open = true;
  private volatile long srttNanos;
  private volatile Consumer<byte[]> messageListener;
  private final ArrayDeque<byte[]> early = new ArrayDeque<>(); // guarded by this
  private Consumer<String> closeListener; // guarded by this
  private String closeReason; // guarded by this
  private Consumer<Path> pathListener; // guarded by this
  /** The socket direct datagrams leave from: the client's, or the birthday socket the session got through on. */
  private volatile DatagramTransport socket;

  /** The path, its address, and for one of our allocations the tunnel datagrams go through. */
  private record Route(InetSocketAddress remote, Path path, RelayPool.Tunnel tunnel) {}

  Channel(ClientRuntime rt, Session session, InetSocketAddress remote, long srttNanos, DatagramTransport socket) {
    this.rt = rt;
    this.session = session;
    this.route = new Route(remote, Path.DIRECT, null);
    this.srttNanos = srttNanos;
    this.socket = socket;
  }

  /** Control thread: direct datagrams leave from {@code socket} from now on. */
  void useSocket(DatagramTransport socket) {
    this.socket = socket;
  }

  @Override
  public Strategy strategy() {
    return session.strategyUsed();
  }

  @Override
  public String remotePeerId() {
    return session.remotePeerId();
  }

  @Override
  public String sessionId() {
    return session.id();
  }

  @Override
  public Path path() {
    return route.path();
  }

  @Override
  public InetSocketAddress remoteAddress() {
    Route r = route;
    if (r.tunnel() != null) {
      return r.tunnel().peer(); // the peer's address as our relay sees it
    }
    return r.remote();
  }

  /**
   * Control thread: datagrams go to {@code remote} over {@code path} from now on (a tunnel address means
   * through one of our allocations). Tells the path listener when the path changed.
   */
  void moveTo(InetSocketAddress remote, Path path) {
    RelayPool.Tunnel tunnel = RelayPool.isTunnel(remote) ? rt.relays.tunnel(remote) : null;
    Path before = route.path();
    route = new Route(remote, path, tunnel);
    Consumer<Path> l;
    synchronized (this) {
      l = pathListener;
    }
    if (path != before && l != null && open) {
      rt.callback(() -> l.accept(path));
    }
  }

  @Override
  public void onPathChange(Consumer<Path> listener) {
    Objects.requireNonNull(listener, "listener");
    synchronized (this) {
      pathListener = listener;
    }
  }

  @Override
  public Duration rtt() {
    return Duration.ofNanos(srttNanos);
  }

  void rtt(long nanos) {
    srttNanos = nanos;
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void send(byte[] data) {
    send(data, 0, data.length);
  }

  @Override
  public void send(byte[] data, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, data.length);
    if (length > MAX_PAYLOAD) {
      throw new IllegalArgumentException("payload of " + length + " bytes exceeds the maximum of " + MAX_PAYLOAD);
    }
    if (!open) {
      throw new IllegalStateException("channel to " + remotePeerId() + " is closed");
    }
    Route r = route;
    if (r.path() == Path.RELAY && length > MAX_RELAYED_PAYLOAD) {
      throw new IllegalArgumentException("payload of " + length + " bytes exceeds the maximum of "
          + MAX_RELAYED_PAYLOAD + " through a relay");
    }
    ByteBuffer frame = ByteBuffer.allocate(length + 1);
    frame.put((byte) Demux.APP_DATA).put(data, offset, length).flip();
    if (RelayPool.isTunnel(r.remote())) {
      if (r.tunnel() != null) {
        r.tunnel().send(frame.array()); // wrapped in ChannelData (or a Send indication) by our allocation
      }
      return;
    }
    InetSocketAddress remote = r.remote();
    try {
      socket.send(frame, remote);
    } catch (ClosedChannelException e) {
      throw new IllegalStateException("client is closed", e);
    } catch (IOException e) {
      // UDP is best effort: a failed send is a lost datagram, not an error for the game loop.
      log.debug("send to {} failed: {}", remote, e.toString());
    }
  }

  /** Receiver thread: hands a payload to the listener, or keeps it until one is set. */
  void deliver(byte[] payload) {
    if (!open) {
      return;
    }
    Consumer<byte[]> l = messageListener;
    if (l == null) {
      synchronized (this) {
        l = messageListener;
        if (l == null) {
          if (early.size() < MAX_EARLY_MESSAGES) {
            early.add(payload);
          }
          return;
        }
      }
    }
    invoke(l, payload);
  }

  @Override
  public void onMessage(Consumer<byte[]> listener) {
    Objects.requireNonNull(listener, "listener");
    // Flushing under the lock keeps order: the receiver waits on it before delivering anything newer.
    synchronized (this) {
      while (!early.isEmpty()) {
        invoke(listener, early.poll());
      }
      messageListener = listener;
    }
  }

  private static void invoke(Consumer<byte[]> l, byte[] payload) {
    try {
      l.accept(payload);
    } catch (RuntimeException e) {
      log.warn("message listener threw", e);
    }
  }

  @Override
  public void onClose(Consumer<String> listener) {
    Objects.requireNonNull(listener, "listener");
    String reason;
    synchronized (this) {
      closeListener = listener;
      reason = closeReason;
    }
    if (reason != null) {
      rt.callback(() -> listener.accept(reason));
    }
  }

  /** Control thread: the channel is closed, for {@code reason}; tells the close listener once. */
  void markClosed(String reason) {
    Consumer<String> l;
    synchronized (this) {
      if (closeReason != null) {
        return;
      }
      closeReason = reason;
      open = false;
      early.clear();
      l = closeListener;
    }
    log.info("channel {} to {} closed: {}", sessionId(), remotePeerId(), reason);
    if (l != null) {
      rt.callback(() -> l.accept(reason));
    }
  }

  @Override
  public void close() {
    if (!open) {
      return;
    }
    open = false;
    if (!rt.execute(() -> session.close("closed locally", true))) {
      markClosed("client closed");
    }
  }

  @Override
  public String toString() {
    return "PeerChannel[" + remotePeerId() + " via " + route.remote() + " (" + route.path() + "), session " + sessionId()
        + (open ? "" : ", closed") + "]";
  }
}
