package io.introducer.client;

/**
 * A connection to a peer, or the registration with the introducer, could not be made. {@link #reason()}
 * is a short phrase such as {@code "unknown peer"}, {@code "punch timed out"} or the introducer's error
 * reason, suitable for logs and for the RESULT report.
 */
public class ConnectException extends Exception {
  private static final long serialVersionUID = 1L; // no fields beyond the reason; format is stable
  private final String reason;

  /** Creates the exception; the message is the reason. */
  public ConnectException(String reason) {
    super(reason);
    this.reason = reason;
  }

  /** Creates the exception with the failure that caused it. */
  public ConnectException(String reason, Throwable cause) {
    super(reason, cause);
    this.reason = reason;
  }

  /** Why the attempt failed, e.g. {@code "unknown peer"}. */
  public String reason() {
    return reason;
  }
}
