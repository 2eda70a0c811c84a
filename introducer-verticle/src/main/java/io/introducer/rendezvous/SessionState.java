package io.introducer.rendezvous;

/** Where a session stands, derived from what its peers reported (see {@link Session#state}). */
public enum SessionState {
  PENDING,
  CONNECTED_DIRECT,
  CONNECTED_RELAY,
  FAILED,
  /** Nobody reported before the session's deadline. */
  EXPIRED;

  public String wireName() {
    return name().toLowerCase().replace('_', '-');
  }
}
