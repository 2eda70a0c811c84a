package io.introducer.client;

import io.introducer.protocol.rendezvous.Strategy;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * A datagram channel to one other peer, opened by hole punching. Unreliable and unordered like UDP;
 * each {@link #send} is one datagram.
 *
 * <p>Message listeners are called on the client's receiver thread, for latency: they must return
 * quickly and never block (hand work to your own executor). Messages that arrive before a listener is
 * set are kept (up to 256) and delivered, in order, when it is set. Close listeners run on the client's
 * callback executor.
 */
public interface PeerChannel extends AutoCloseable {

  /** The peer id at the other end. */
  String remotePeerId();

  /** The introducer's session id of this channel, as lower-case hex. */
  String sessionId();

  /**
   * Whether datagrams travel directly or through a relay now. A channel opened with
   * {@link ConnectPolicy#RELAY_FIRST} starts on {@link Path#RELAY} and may move to {@link Path#DIRECT} later
   * (see {@link #onPathChange}); the channel object stays the same.
   */
  Path path();

  /**
   * The peer's address on the current path: its direct address, the relay address it is reached at, or,
   * when this peer relays through its own allocation, the peer's address as the relay sees it.
   */
  InetSocketAddress remoteAddress();

  /**
   * How the connection was made (docs/PROTOCOL.md section 7): the strategy the introducer chose for the two NATs
   * ({@link Strategy#SIMULTANEOUS}, {@link Strategy#HARD_SIDE_FIRST}, {@link Strategy#PORT_PREDICTION},
   * {@link Strategy#BIRTHDAY}), or {@link Strategy#RELAY} while the channel travels through a relay.
   */
  Strategy strategy();

  /** Smoothed round-trip time (RFC 6298 style) of the connectivity probes; positive once connected. */
  Duration rtt();

  /** True until the channel is closed by either side, the client is closed, or the peer stops answering. */
  boolean isOpen();

  /**
   * Sends {@code data} as one datagram.
   *
   * @throws IllegalStateException if the channel is closed
   * @throws IllegalArgumentException if the payload is longer than 65506 bytes (65502 through a relay)
   */
  void send(byte[] data);

  /**
   * Sends {@code length} bytes of {@code data} from {@code offset} as one datagram.
   *
   * @throws IllegalStateException if the channel is closed
   * @throws IllegalArgumentException if the payload is longer than 65506 bytes (65502 through a relay)
   * @throws IndexOutOfBoundsException if the range is outside {@code data}
   */
  void send(byte[] data, int offset, int length);

  /** Sets the listener for incoming datagrams (replacing any earlier one). Must not block; see above. */
  void onMessage(Consumer<byte[]> listener);

  /**
   * Sets the listener told once, with a reason, when the channel closes ({@code "closed by peer"},
   * {@code "peer unreachable"}, {@code "closed locally"}, {@code "client closed"}, ...). If the channel is
   * already closed the listener is called at once.
   */
  void onClose(Consumer<String> listener);

  /**
   * Sets the listener told, with the new path, each time the channel moves between a relay and a direct
   * path (replacing any earlier one). Messages keep flowing across the move. Runs on the callback executor.
   */
  void onPathChange(Consumer<Path> listener);

  /** Closes the channel and tells the peer (CLOSE). Idempotent. */
  @Override
  void close();
}
