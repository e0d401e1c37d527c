package dev.remap.engine.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class ObjectKeysTest {

  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@-";

  @Provide
  Arbitrary<String> keys() {
    Arbitrary<String> segment = Arbitraries.strings().withChars(ALPHABET.toCharArray()).ofMinLength(1).ofMaxLength(12)
        .filter(s -> !s.equals(".") && !s.equals(".."));
    return segment.list().ofMinSize(1).ofMaxSize(6).map(list -> String.join("/", list));
  }

  @Property
  void keysOfAllowedSegmentsAreValid(@ForAll("keys") String key) {
    assertThat(ObjectKeys.requireValid(key)).isEqualTo(key);
  }

  @Property
  void everyBeginningOfAValidKeyIsAValidPrefix(@ForAll("keys") String key) {
    for (int i = 0; i <= key.length(); i++) {
      String prefix = key.substring(0, i);
      assertThat(ObjectKeys.requireValidPrefix(prefix)).isEqualTo(prefix);
    }
  }

  @Property
  void aCharacterOutsideTheAlphabetMakesAKeyInvalid(@ForAll("keys") String key, @ForAll char c,
      @ForAll @IntRange(min = 0, max = 1000) int at) {
    if (ALPHABET.indexOf(c) >= 0 || c == '/') {
      return;
    }
    int position = at % (key.length() + 1);
    String bad = key.substring(0, position) + c + key.substring(position);
    assertThat(ObjectKeys.isValid(bad)).isFalse();
    assertThatThrownBy(() -> ObjectKeys.requireValidPrefix(bad)).isInstanceOf(IllegalArgumentException.class);
  }

  @Property
  void dotSegmentsAndEmptySegmentsAreInvalid(@ForAll("keys") String key) {
    for (String bad : new String[] {"../" + key, key + "/..", key + "/./x", "/" + key, key + "/", key + "//x"}) {
      assertThat(ObjectKeys.isValid(bad)).as(bad).isFalse();
    }
  }
}
