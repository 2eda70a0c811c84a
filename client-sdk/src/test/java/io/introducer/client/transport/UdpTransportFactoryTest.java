package io.introducer.client.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class UdpTransportFactoryTest {
  private final UdpTransportFactory factory = new UdpTransportFactory();

  @Test
  void sendsAndReceivesOneDatagramWithItsSource() throws Exception {
    try (DatagramTransport a = factory.open(new InetSocketAddress("127.0.0.1", 0));
         DatagramTransport b = factory.open(new InetSocketAddress("127.0.0.1", 0))) {
      a.send(ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8)), b.localAddress());
      ByteBuffer buf = ByteBuffer.allocate(64);
      InetSocketAddress source = CompletableFuture.supplyAsync(() -> {
        try {
          return b.receive(buf);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }).get(3, TimeUnit.SECONDS);
      buf.flip();
      assertThat(source).isEqualTo(a.localAddress());
      assertThat(StandardCharsets.UTF_8.decode(buf).toString()).isEqualTo("hello");
    }
  }

  @Test
  void closeUnblocksABlockedReceive() throws Exception {
    DatagramTransport t = factory.open(new InetSocketAddress("127.0.0.1", 0));
    CompletableFuture<Throwable> blocked = CompletableFuture.supplyAsync(() -> {
      try {
        t.receive(ByteBuffer.allocate(16));
        return null;
      } catch (Exception e) {
        return e;
      }
    });
    Thread.sleep(50);
    t.close();
    assertThat(blocked.get(3, TimeUnit.SECONDS)).isInstanceOf(ClosedChannelException.class);
    assertThatThrownBy(() -> t.send(ByteBuffer.allocate(1), new InetSocketAddress("127.0.0.1", 9)))
        .isInstanceOf(ClosedChannelException.class);
  }

  @Test
  void hostAddressesLeaveOutLoopbackAndLinkLocal() {
    assertThat(factory.hostAddresses()).noneMatch(a -> a.isLoopbackAddress() || a.isLinkLocalAddress());
  }
}
