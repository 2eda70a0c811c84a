package io.introducer.rendezvous;

import io.introducer.protocol.StunMessage;
import io.introducer.protocol.StunMessage.Builder;
import java.util.List;

/** Builds responses the way docs/PROTOCOL.md section 3 wants them signed, and counts the errors. */
final class Replies {
  private final IntroducerCounters counters;

  Replies(IntroducerCounters counters) {
    this.counters = counters;
  }

  /** For requests whose key is unknown or unverified: no integrity, only FINGERPRINT. */
  byte[] unsignedError(StunMessage request, int code, String reason) {
    counters.error(code);
    return StunMessage.errorFor(request, code, reason).fingerprint().encode();
  }

  byte[] error(Caller caller, StunMessage request, int code, String reason) {
    counters.error(code);
    return sign(StunMessage.errorFor(request, code, reason), caller.key());
  }

  byte[] unknownAttributes(Caller caller, StunMessage request, List<Integer> unknown) {
    counters.error(420);
    return sign(StunMessage.errorFor(request, 420, "unknown attribute").addUnknownAttributes(unknown), caller.key());
  }

  static byte[] sign(Builder builder, byte[] key) {
    return builder.integritySha256(key).fingerprint().encode();
  }

  /** ROLE and STRATEGY: one byte then three reserved. */
  static byte[] oneByteValue(int value) {
    return new byte[] {(byte) value, 0, 0, 0};
  }
}
