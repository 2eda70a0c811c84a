package io.introducer.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** TURN ChannelData framing (RFC 8656 section 12.4-12.5). */
class ChannelDataTest {

  @Test
  void encodesChannelNumberLengthAndDataUnpadded() {
    byte[] wire = new ChannelData(0x4001, "hello".getBytes(StandardCharsets.US_ASCII)).encode();
    assertThat(Wire.hex(wire)).isEqualTo("40010005" + "68656c6c6f");
  }

  @Test
  void padsToFourBytesWhenAsked() {
    byte[] wire = new ChannelData(0x4FFF, new byte[] {1, 2, 3, 4, 5}).encode(true);
    assertThat(Wire.hex(wire)).isEqualTo("4fff0005" + "0102030405000000");
  }

  @Test
  void decodesPaddedAndUnpaddedDatagramsAlike() throws Exception {
    byte[] padded = Wire.hex("4001 0003 616263 00");
    byte[] unpadded = Wire.hex("4001 0003 616263");
    assertThat(ChannelData.decode(padded, 0, padded.length)).isEqualTo(new ChannelData(0x4001, Wire.hex("616263")));
    assertThat(ChannelData.decode(unpadded, 0, unpadded.length)).isEqualTo(new ChannelData(0x4001, Wire.hex("616263")));
  }

  @Test
  void decodesAnEmptyPayload() throws Exception {
    byte[] wire = Wire.hex("40000000");
    assertThat(ChannelData.decode(wire, 0, wire.length).data()).isEmpty();
  }

  @Test
  void refusesADatagramShorterThanItsLength() {
    byte[] wire = Wire.hex("4001 0008 616263");
    assertThatThrownBy(() -> ChannelData.decode(wire, 0, wire.length))
        .isInstanceOfSatisfying(StunParseException.class, e -> assertThat(e.reason()).isEqualTo("channel-data-truncated"));
  }

  @Test
  void refusesATruncatedHeader() {
    byte[] wire = Wire.hex("4001 00");
    assertThatThrownBy(() -> ChannelData.decode(wire, 0, wire.length))
        .isInstanceOfSatisfying(StunParseException.class, e -> assertThat(e.reason()).isEqualTo("channel-data-truncated"));
  }

  @Test
  void refusesReservedChannelNumbers() {
    byte[] wire = Wire.hex("5000 0000");
    assertThatThrownBy(() -> ChannelData.decode(wire, 0, wire.length))
        .isInstanceOfSatisfying(StunParseException.class, e -> assertThat(e.reason()).isEqualTo("bad-channel"));
    assertThatThrownBy(() -> new ChannelData(0x3FFF, new byte[0])).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void validChannelRangeIs4000To4FFF() {
    assertThat(ChannelData.isValidChannel(0x4000)).isTrue();
    assertThat(ChannelData.isValidChannel(0x4FFF)).isTrue();
    assertThat(ChannelData.isValidChannel(0x3FFF)).isFalse();
    assertThat(ChannelData.isValidChannel(0x5000)).isFalse();
  }
}
