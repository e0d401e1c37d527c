package dev.remap.engine.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When a connection stops serving reads on its own thread, and when it starts again (times given). */
class SlowReadsTest {

  private static final long FAST = 10_000;
  private static final long DISK = 120_000;

  @Test
  void eightSlowReadsOfTheLastSixteenHandReadsOverForThePause() {
    long now = 1_000_000;
    SlowReads reads = new SlowReads(now);
    assertThat(reads.readHere(now)).isTrue();
    // 7 slow of 16, spread among fast ones: a thread that lost its core now and then.
    for (int i = 0; i < 16; i++) {
      assertThat(reads.note(now, i % 2 == 0 && i < 14 ? DISK : FAST, 4096)).isFalse();
      now += DISK;
    }
    assertThat(reads.readHere(now)).isTrue();
    boolean handedOver = false;
    int slowOnes = 0;
    while (!handedOver) {
      slowOnes++;
      handedOver = reads.note(now, DISK, 4096);
      now += DISK;
    }
    assertThat(slowOnes).as("the window still held slow reads").isLessThanOrEqualTo(8);
    assertThat(reads.readHere(now)).isFalse();
    assertThat(reads.readHere(now + SlowReads.PAUSE)).as("tried again after the pause").isTrue();
  }

  @Test
  void aLargeReadMayTakeLongerBeforeItCountsAsSlow() {
    SlowReads reads = new SlowReads(0);
    for (int i = 0; i < 64; i++) {
      // 128 KiB in 150 µs: a page-cache copy of that size, not a disk read (limit 50 + 32 µs).
      assertThat(reads.note(i * 1_000_000L, 70_000, 128 << 10)).isFalse();
    }
    boolean handedOver = false;
    for (int i = 0; i < 8; i++) {
      handedOver = reads.note(100_000_000L + i, 90_000, 4096);
    }
    assertThat(handedOver).as("8 slow 4 KiB reads in a row").isTrue();
  }

  @Test
  void afterThePauseTheCountStartsAfresh() {
    SlowReads reads = new SlowReads(0);
    long now = 0;
    for (int i = 0; i < 8; i++) {
      reads.note(now, DISK, 4096);
    }
    now += SlowReads.PAUSE + DISK;
    assertThat(reads.readHere(now)).isTrue();
    for (int i = 0; i < 7; i++) {
      assertThat(reads.note(now, DISK, 4096)).as("slow read %d after the pause", i + 1).isFalse();
    }
    assertThat(reads.note(now, DISK, 4096)).isTrue();
  }
}
