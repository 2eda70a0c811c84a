package io.introducer.protocol;

/** ERROR-CODE value: a 300-699 code and its reason phrase. Common codes as constants. */
public record ErrorCode(int code, String reason) {
  public static final int TRY_ALTERNATE = 300;
  public static final int BAD_REQUEST = 400;
  public static final int UNAUTHORIZED = 401;
  public static final int FORBIDDEN = 403;
  public static final int NOT_FOUND = 404;
  public static final int UNKNOWN_ATTRIBUTE = 420;
  public static final int ALLOCATION_MISMATCH = 437;
  public static final int STALE_NONCE = 438;
  public static final int ADDRESS_FAMILY_NOT_SUPPORTED = 440;
  public static final int WRONG_CREDENTIALS = 441;
  public static final int UNSUPPORTED_TRANSPORT = 442;
  public static final int ALLOCATION_QUOTA_REACHED = 486;
  public static final int SERVER_ERROR = 500;
  public static final int INSUFFICIENT_CAPACITY = 508;

  @Override
  public String toString() {
    return code + " " + reason;
  }
}
