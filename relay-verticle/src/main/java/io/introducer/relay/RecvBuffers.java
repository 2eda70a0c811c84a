package io.introducer.relay;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.channel.DefaultMaxMessagesRecvByteBufAllocator;
import java.util.ArrayDeque;

/**
 * Receive buffers for every socket of one event loop: one direct buffer of {@code slots} x 64 KiB that
 * recvmmsg scatters up to {@code slots} datagrams into, handed out again as soon as its datagrams have
 * been handled. The relay handles each datagram synchronously and copies what it forwards, so the
 * buffer comes back before the next read and one or two buffers serve the whole loop: no allocation,
 * zeroing or pool round trip per read, whatever the datagram size.
 *
 * <p>Slots are 64 KiB because recvmmsg truncates a datagram larger than its slot without telling
 * netty; 64 KiB holds any UDP payload, so nothing is ever cut. Confined to its event loop.
 */
final class RecvBuffers extends DefaultMaxMessagesRecvByteBufAllocator {
  /** Larger than any UDP payload (65,507 over IPv4, 65,527 over IPv6). */
  static final int SLOT = 65_536;
  /** Buffers kept for reuse; more exist only while a datagram is held across reads (never, in the relay). */
  private static final int KEEP = 4;

  private final int capacity;
  private final ArrayDeque<Buf> free = new ArrayDeque<>(KEEP);

  RecvBuffers(int slots) {
    // One recvmmsg per readiness: level-triggered epoll reports the socket again if more is queued, and a
    // second call in the same round would mostly come back empty (a wasted syscall).
    super(1);
    this.capacity = slots * SLOT;
  }

  @Override
  public Handle newHandle() {
    return new MaxMessageHandle() {
      @Override
      public ByteBuf allocate(ByteBufAllocator alloc) {
        return take();
      }

      @Override
      public int guess() {
        return capacity;
      }
    };
  }

  private ByteBuf take() {
    Buf b = free.poll();
    return b == null ? new Buf() : b.reuse();
  }

  private final class Buf extends UnpooledDirectByteBuf {
    Buf() {
      super(UnpooledByteBufAllocator.DEFAULT, capacity, capacity);
    }

    Buf reuse() {
      resetRefCnt();
      clear();
      return this;
    }

    @Override
    protected void deallocate() {
      if (free.size() < KEEP) {
        free.push(this); // the memory stays ours for the next read
      } else {
        super.deallocate();
      }
    }
  }
}
