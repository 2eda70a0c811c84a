package io.introducer.protocol.rendezvous;

/** The result a peer reports for a session (RESULT request, OUTCOME attribute). */
public enum Outcome {
  CONNECTED_DIRECT(0),
  CONNECTED_RELAY(1),
  FAILED(2);

  private final int code;

  Outcome(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static Outcome of(int code) {
    for (Outcome o : values()) {
      if (o.code == code) {
        return o;
      }
    }
    return null;
  }

  public String wireName() {
    return name().toLowerCase().replace('_', '-');
  }
}
