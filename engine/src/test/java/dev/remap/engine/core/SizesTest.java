package dev.remap.engine.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

class SizesTest {

  @Test
  void suffixesArePowersOf1024() {
    assertThat(Sizes.parse("512")).isEqualTo(512);
    assertThat(Sizes.parse("64K")).isEqualTo(64 << 10);
    assertThat(Sizes.parse("1m")).isEqualTo(1 << 20);
    assertThat(Sizes.parse("10G")).isEqualTo(10L << 30);
    assertThat(Sizes.parse("2T")).isEqualTo(2L << 40);
    assertThat(Sizes.parse("4GiB")).isEqualTo(4L << 30);
  }

  @Test
  void badSizesSayWhatIsExpected() {
    assertThatThrownBy(() -> Sizes.parse("ten gigs")).hasMessageContaining("'ten gigs' is not a size");
    assertThatThrownBy(() -> Sizes.parse("-1G")).hasMessageContaining("is not a size");
    assertThatThrownBy(() -> Sizes.parse("99999999999T")).hasMessageContaining("too large");
  }

  @Property
  void formatThenParseIsIdentity(@ForAll @LongRange(min = 0, max = 1L << 50) long bytes) {
    assertThat(Sizes.parse(Sizes.format(bytes))).isEqualTo(bytes);
  }

  @Test
  void geometryErrorsNameTheField() {
    assertThatThrownBy(() -> new Geometry(1 << 20, 1000, 1 << 20)).hasMessageContaining("block size");
    assertThatThrownBy(() -> new Geometry(1 << 20, 512, 3 << 20)).hasMessageContaining("chunk size");
    assertThatThrownBy(() -> new Geometry(1000, 512, 1 << 20)).hasMessageContaining("not a multiple of the block size");
    assertThatThrownBy(() -> new Geometry(1 << 20, 512, 1 << 20).resize(512)).hasMessageContaining("can only grow");
  }
}
