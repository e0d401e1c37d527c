package dev.remap.operator.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.operator.transfer.ProgressParser.Progress;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What the operator reads from a Job pod's log tail and termination message. */
class ProgressParserTest {

  @Test
  void theNewestProgressLineWinsAndOtherLinesAreIgnored() {
    String tail = """
        Picked up JAVA_TOOL_OPTIONS: -Xmx256m
        progress copied=0 total=3145728
        progress copied=1048576 total=3145728
        ress copied=99 total=3
        WARNING: something else
        """;
    assertThat(ProgressParser.last(tail)).contains(new Progress(1048576, 3145728, false, false));
    assertThat(ProgressParser.last(tail).orElseThrow().percent()).isEqualTo(33);
  }

  @Test
  void theDoneLineIsComplete() {
    assertThat(ProgressParser.last("done copied=10 total=10")).contains(new Progress(10, 10, true, false));
    Progress existing = ProgressParser.last("progress copied=0 total=5\ndone copied=0 total=5 existing=true\n").orElseThrow();
    assertThat(existing.existing()).isTrue();
    assertThat(existing.percent()).as("nothing to copy is all copied").isEqualTo(100);
  }

  @Test
  void nothingUsableIsEmpty() {
    assertThat(ProgressParser.last(null)).isEmpty();
    assertThat(ProgressParser.last("")).isEmpty();
    assertThat(ProgressParser.last("the export in s3://b/p holds a different export already")).isEmpty();
    assertThat(ProgressParser.last("progress copied=-1 total=4")).isEmpty();
    assertThat(ProgressParser.last("progress copied=99999999999999999999 total=4")).isEqualTo(Optional.empty());
    assertThat(ProgressParser.last("progress copied=0 total=0").orElseThrow().percent()).isEqualTo(100);
  }
}
