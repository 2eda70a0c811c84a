package io.introducer.dashboard.impl;

/** A request parameter that is missing, malformed or out of range; answered 400 with its message. */
public final class BadRequest extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BadRequest(String message) {
    super(message, null, false, false);
  }
}
