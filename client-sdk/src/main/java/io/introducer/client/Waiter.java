package io.introducer.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/** One connect() call waiting for a channel; settled once on the control thread, completed on the callback thread. */
final class Waiter {
  private final CompletableFuture<PeerChannel> future;
  private boolean settled;
  private ScheduledFuture<?> timer;

  Waiter(CompletableFuture<PeerChannel> future) {
    this.future = future;
  }

  void timer(ScheduledFuture<?> timer) {
    this.timer = timer;
  }

  /** Still waiting: not settled here and not cancelled by the user. */
  boolean live() {
    return !settled && !future.isDone();
  }

  void succeed(ClientRuntime rt, PeerChannel channel) {
    if (settle()) {
      rt.callback(() -> future.complete(channel));
    }
  }

  void fail(ClientRuntime rt, String reason) {
    if (settle()) {
      ConnectException e = new ConnectException(reason);
      rt.callback(() -> future.completeExceptionally(e));
    }
  }

  private boolean settle() {
    if (settled) {
      return false;
    }
    settled = true;
    if (timer != null) {
      timer.cancel(false);
    }
    return true;
  }
}
