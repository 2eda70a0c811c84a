package io.introducer.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.introducer.client.transport.UdpTransportFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The retransmission timeout of requests to the introducer (RFC 6298 estimates, within 50-250 ms). */
class TransactionsTest {

  @Test
  void theRtoStartsAt250MsThenFollowsTheMeasuredRoundTrips() throws Exception {
    ClientConfig config = ClientConfig.builder().server("127.0.0.1", 3478).appId("game").appSecret("s")
        .peerId("rto").bindAddress(new InetSocketAddress("127.0.0.1", 0)).build();
    try (var transport = new UdpTransportFactory().open(config.bindAddress())) {
      ClientRuntime rt = new ClientRuntime(config, transport);
      Transactions t = new Transactions(rt);
      assertThat(t.rto()).isEqualTo(250);
      t.sample(TimeUnit.MILLISECONDS.toNanos(10)); // SRTT 10, RTTVAR 5: 30 ms, raised to the 50 ms floor
      assertThat(t.rto()).isEqualTo(50);
      for (int i = 0; i < 20; i++) {
        t.sample(TimeUnit.MILLISECONDS.toNanos(40));
      }
      assertThat(t.rto()).isBetween(50L, 60L); // converges on SRTT 40 with a small variance
      for (int i = 0; i < 20; i++) {
        t.sample(TimeUnit.MILLISECONDS.toNanos(400));
      }
      assertThat(t.rto()).isEqualTo(250); // a slow path never waits longer than before the first sample
      rt.shutdownThreads();
    }
  }
}
