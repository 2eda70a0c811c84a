package io.introducer.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** The relay's socket setup gives back what it took when it fails (issue 8 point 5: nothing left allocated). */
class UdpChannelsTest {
  private Vertx vertx;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx(); // NIO: its socket refuses a receive buffer size of 0 while it is being set up
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  void aSocketWhoseSetupFailsIsClosedNotLeaked() throws Exception {
    VertxInternal vx = (VertxInternal) vertx;
    EventLoop loop = vx.nettyEventLoopGroup().next();
    RecvBuffers recv = new RecvBuffers(UdpChannels.BATCH);
    InetSocketAddress local = new InetSocketAddress("127.0.0.1", 0);
    // One good bind first, so that whatever the transport opens once (selector, pipes) is open before counting.
    UdpChannels.bind(vx, loop, local, false, 65536, recv, new ChannelInboundHandlerAdapter())
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).close().sync();
    long before = openDescriptors();
    int failed = 0;
    for (int i = 0; i < 50; i++) {
      Future<?> f = UdpChannels.bind(vx, loop, local, false, 0, recv, new ChannelInboundHandlerAdapter());
      try {
        f.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        failed++;
      }
    }
    assertThat(failed).as("every setup with an invalid receive buffer fails").isEqualTo(50);
    // Without the fix each failure kept its socket open: 50 more descriptors.
    assertThat(openDescriptors()).isLessThanOrEqualTo(before + 5);
  }

  private static long openDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }
}
