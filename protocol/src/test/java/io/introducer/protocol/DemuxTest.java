package io.introducer.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** First-byte demultiplexing of one UDP socket (RFC 7983, docs/PROTOCOL.md). */
class DemuxTest {

  @ParameterizedTest(name = "first byte {0} is {1}")
  @CsvSource({
      "0, STUN", "1, STUN", "3, STUN",
      "4, OTHER", "19, OTHER", "20, OTHER", "63, OTHER",
      "64, CHANNEL_DATA", "71, CHANNEL_DATA", "79, CHANNEL_DATA",
      "80, OTHER", "127, OTHER", "128, OTHER",
      "217, OTHER", "218, APP_DATA", "219, OTHER", "255, OTHER"})
  void classifiesByFirstByte(int firstByte, Demux.Kind kind) {
    assertThat(Demux.classify(firstByte)).isEqualTo(kind);
  }

  @ParameterizedTest(name = "signed byte {0} is {1}")
  @CsvSource({"-38, APP_DATA", "-1, OTHER", "-128, OTHER"})
  void acceptsTheFirstByteAsASignedJavaByte(byte firstByte, Demux.Kind kind) {
    assertThat(Demux.classify(firstByte)).isEqualTo(kind);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource({"256, STUN", "474, APP_DATA"})
  void looksOnlyAtTheLowEightBits(int value, Demux.Kind kind) {
    assertThat(Demux.classify(value)).isEqualTo(kind);
  }
}
