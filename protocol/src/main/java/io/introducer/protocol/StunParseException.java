package io.introducer.protocol;

/**
 * A datagram that is not a well-formed STUN message. Servers drop such packets silently
 * (RFC 8489 section 6.3); {@link #reason()} is a short, stable token used as a drop-counter label.
 */
public final class StunParseException extends Exception {
  private static final long serialVersionUID = 1L;
  private final String reason;

  public StunParseException(String reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  /** Stable machine-readable reason, e.g. {@code "truncated"}, {@code "bad-cookie"}. */
  public String reason() {
    return reason;
  }
}
