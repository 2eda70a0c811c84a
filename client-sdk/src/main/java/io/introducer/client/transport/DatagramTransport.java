package io.introducer.client.transport;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * One UDP endpoint as the client SDK sees it. The default implementation wraps a
 * {@link java.nio.channels.DatagramChannel}; the NAT simulator supplies virtual ones.
 *
 * <p>Implementations must allow {@link #send} to be called from several threads while another thread
 * is blocked in {@link #receive}, and {@link #close()} to unblock that receiver.
 */
public interface DatagramTransport extends Closeable {

  /** The address this transport is bound to (may be a wildcard address with the bound port). */
  InetSocketAddress localAddress();

  /**
   * Sends the remaining bytes of {@code data} as one datagram to {@code target}. Delivery is not
   * guaranteed, as with UDP.
   *
   * @throws java.nio.channels.ClosedChannelException if the transport is closed
   * @throws IOException on any other I/O failure
   */
  void send(ByteBuffer data, InetSocketAddress target) throws IOException;

  /**
   * Blocks until a datagram arrives, copies it into {@code dst} (truncating what does not fit) and
   * returns its source address.
   *
   * @throws java.nio.channels.ClosedChannelException (or a subclass such as
   *     {@link java.nio.channels.AsynchronousCloseException}) once the transport is closed
   * @throws IOException on any other I/O failure
   */
  InetSocketAddress receive(ByteBuffer dst) throws IOException;
}
