package dev.remap.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The progress lines the operator parses and the bar a person sees: pure formatting and timing. */
class TransferProgressTest {

  @Test
  void linesAreKeyValuePairsInBytes() {
    assertThat(TransferProgress.progressLine(0, 3 << 20)).isEqualTo("progress copied=0 total=3145728");
    assertThat(TransferProgress.doneLine(10, 10, false)).isEqualTo("done copied=10 total=10");
    assertThat(TransferProgress.doneLine(0, 10, true)).isEqualTo("done copied=0 total=10 existing=true");
  }

  @Test
  void percentRoundsDownAndAnEmptyCopyIsComplete() {
    assertThat(TransferProgress.percent(0, 200)).isZero();
    assertThat(TransferProgress.percent(199, 200)).isEqualTo(99);
    assertThat(TransferProgress.percent(200, 200)).isEqualTo(100);
    assertThat(TransferProgress.percent(300, 200)).isEqualTo(100);
    assertThat(TransferProgress.percent(0, 0)).isEqualTo(100);
    assertThat(TransferProgress.percent(Long.MAX_VALUE / 200, Long.MAX_VALUE / 100)).isEqualTo(50);
  }

  @Test
  void theBarFillsWithTheCopyAndSaysHowMuchInUnitsAPersonReads() {
    assertThat(TransferProgress.bar(0, 1 << 30, 10)).isEqualTo("[..........]   0%  0B of 1.0GiB");
    assertThat(TransferProgress.bar(3L << 29, 1L << 31, 10)).isEqualTo("[#######...]  75%  1.5GiB of 2.0GiB");
    assertThat(TransferProgress.bar(512, 512, 4)).isEqualTo("[####] 100%  512B of 512B");
    assertThat(TransferProgress.human(1536)).isEqualTo("1.5KiB");
  }

  @Test
  void atMostOneLineASecondOnStdoutAndTheDoneLineAlways() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    AtomicLong now = new AtomicLong(0);
    TransferProgress p = new TransferProgress(new PrintWriter(out), new PrintWriter(err), false, now::get, 1000);
    p.start();
    for (int i = 0; i < 10; i++) {
      now.addAndGet(300_000_000L); // 0.3 s per object
      p.add(100);
    }
    assertThat(p.done(false)).isEqualTo("done copied=1000 total=1000");
    assertThat(out.toString().lines().toList()).containsExactly("progress copied=0 total=1000",
        "progress copied=400 total=1000", "progress copied=800 total=1000", "done copied=1000 total=1000");
    assertThat(err.toString()).as("no bar when stderr is not a terminal").isEmpty();
  }

  @Test
  void onATerminalTheBarIsRedrawnInPlaceOnStderr() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    AtomicLong now = new AtomicLong(0);
    TransferProgress p = new TransferProgress(new PrintWriter(out), new PrintWriter(err), true, now::get, 100);
    p.start();
    now.addAndGet(250_000_000L);
    p.add(50);
    p.add(50); // within 0.2 s of the last redraw: drawn by done
    p.done(false);
    assertThat(err.toString()).startsWith("\r[").contains("\r[###############...............]  50%")
        .endsWith("] 100%  100B of 100B\n");
    assertThat(out.toString().lines().filter(l -> l.startsWith("progress"))).as("stdout keeps its own pace").hasSize(1);
  }
}
