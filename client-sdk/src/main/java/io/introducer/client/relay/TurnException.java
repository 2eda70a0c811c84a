package io.introducer.client.relay;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** A TURN request was refused or went unanswered; the message says which and why (e.g. the relay's error). */
public final class TurnException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception with a short reason. */
  public TurnException(String reason) {
    super(reason);
  }

  /** Creates the exception with a short reason and the failure behind it. */
  public TurnException(String reason, Throwable cause) {
    super(reason, cause);
  }

  /** The message of {@code t} once completion wrappers are peeled off, for logs and failure reasons. */
  public static String reasonOf(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
      c = c.getCause();
    }
    return c.getMessage() != null ? c.getMessage() : c.toString();
  }
}
