package dev.remap.engine.share.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Ext4Journal} on logs written by hand in every tag layout jbd2 has (plain, 64bit,
 * checksum v2 and v3, with and without 64bit), with what the kernel's own logs rarely show: a
 * log that wraps past s_maxlen, a tag carrying its UUID, an escaped block, a revoke, and a
 * transaction without its commit block. The kernel-made logs are in {@link Ext4JournalTest}.
 */
class Ext4JournalLayoutTest {

  private static final int BLOCK = 1024;
  private static final int LOG = 16;
  private static final int REVOKE = 0x1;
  private static final int WIDE = 0x2;
  private static final int CSUM_V2 = 0x8;
  private static final int CSUM_V3 = 0x10;
  private static final int ESCAPE = 0x1;
  private static final int SAME_UUID = 0x2;
  private static final int LAST = 0x8;

  /** A 16-block journal at the start of an image; the log runs from block 12, wrapping to 1. */
  private static final class Log {
    final ByteBuffer bytes = ByteBuffer.allocate(LOG * BLOCK);
    final int features;
    final long base;

    Log(int features) {
      this.features = features;
      // Targets above 2^32 where tags can say so, to check the high half is read.
      this.base = (features & WIDE) != 0 ? 1L << 32 : 0;
      header(0, 4, 0);
      bytes.putInt(12, BLOCK).putInt(16, LOG).putInt(20, 1).putInt(24, 7).putInt(28, 12).putInt(0x28, features);
    }

    void header(int block, int type, int sequence) {
      bytes.putInt(block * BLOCK, Ext4Journal.MAGIC).putInt(block * BLOCK + 4, type)
          .putInt(block * BLOCK + 8, sequence);
    }

    int tagBytes() {
      if ((features & CSUM_V3) != 0) {
        return 16;
      }
      return 8 + ((features & CSUM_V2) != 0 ? 2 : 0) + ((features & WIDE) != 0 ? 4 : 0);
    }

    /** A descriptor block; targets[i] with flags[i] (a tag without SAME_UUID carries 16 bytes). */
    void descriptor(int block, int sequence, long[] targets, int[] flags) {
      header(block, 1, sequence);
      int at = block * BLOCK + 12;
      for (int i = 0; i < targets.length; i++) {
        long target = base + targets[i];
        bytes.putInt(at, (int) target).putShort(at + 6, (short) flags[i]);
        if ((features & WIDE) != 0) {
          bytes.putInt(at + 8, (int) (target >>> 32));
        }
        at += tagBytes() + ((flags[i] & SAME_UUID) == 0 ? 16 : 0);
      }
    }

    void revoke(int block, int sequence, long target) {
      header(block, 5, sequence);
      boolean wide = (features & WIDE) != 0;
      bytes.putInt(block * BLOCK + 12, 16 + (wide ? 8 : 4));
      if (wide) {
        bytes.putLong(block * BLOCK + 16, base + target);
      } else {
        bytes.putInt(block * BLOCK + 16, (int) target);
      }
    }

    Ext4Journal replay() throws IOException {
      ImageReader.Blocks image = new ImageReader.Blocks() {
        @Override
        public long size() {
          return bytes.capacity();
        }

        @Override
        public void read(long offset, ByteBuffer dst) {
          dst.put(bytes.duplicate().position((int) offset).limit((int) offset + dst.remaining()));
        }
      };
      return Ext4Journal.replay(image, BLOCK, Long.MAX_VALUE,
          List.of(new ImageReader.Extent(0, 0, (long) LOG * BLOCK)));
    }
  }

  /**
   * Transaction 7 (blocks 12-15, commit wrapped to 1) writes 100, 101 (escaped), 102; 8 revokes
   * 100 and writes 102 and 103 again; 9 writes 100 but has no commit block unless committed.
   */
  private static Log threeTransactions(int features, boolean lastCommitted) {
    Log log = new Log(features);
    log.descriptor(12, 7, new long[] {100, 101, 102}, new int[] {0, SAME_UUID | ESCAPE, SAME_UUID | LAST});
    log.header(1, 2, 7);
    log.revoke(2, 8, 100);
    log.descriptor(3, 8, new long[] {102, 103}, new int[] {SAME_UUID, SAME_UUID | LAST});
    log.header(6, 2, 8);
    log.descriptor(7, 9, new long[] {100}, new int[] {SAME_UUID | LAST});
    if (lastCommitted) {
      log.header(9, 2, 9);
    }
    return log;
  }

  @ParameterizedTest
  @ValueSource(ints = {0, REVOKE, REVOKE | WIDE, REVOKE | CSUM_V2, REVOKE | CSUM_V2 | WIDE, REVOKE | CSUM_V3,
      REVOKE | CSUM_V3 | WIDE})
  void replaysEveryTagLayoutAcrossTheWrapHonouringRevokesAndCommits(int features) throws IOException {
    Log log = threeTransactions(features, false);
    Ext4Journal journal = log.replay();
    long b = log.base;
    assertThat(journal.transactions).isEqualTo(2);
    assertThat(journal.revoked).containsExactly(b + 100);
    // 100 was revoked by transaction 8, so 7's copy is not replayed, and 9 never committed.
    assertThat(journal.overlay()).isEqualTo(Map.of(
        b + 101, new Ext4Journal.Copy(14L * BLOCK, true),
        b + 102, new Ext4Journal.Copy(4L * BLOCK, false),
        b + 103, new Ext4Journal.Copy(5L * BLOCK, false)));

    Ext4Journal committed = threeTransactions(features, true).replay();
    assertThat(committed.transactions).isEqualTo(3);
    // A revoke covers its own and earlier transactions only: 9's copy of 100 is replayed.
    assertThat(committed.overlay()).containsEntry(b + 100, new Ext4Journal.Copy(8L * BLOCK, false)).hasSize(4);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 12})
  void anEmptyLogOrAWrongSequenceReplaysNothing(int start) throws IOException {
    Log log = threeTransactions(REVOKE, true);
    log.bytes.putInt(28, start);
    // From block 12 the log expects sequence 7; saying 6 makes the first block a stale one.
    log.bytes.putInt(24, 6);
    Ext4Journal journal = log.replay();
    assertThat(journal.overlay()).isEmpty();
    assertThat(journal.transactions).isZero();
  }

  @ParameterizedTest
  @ValueSource(ints = {0x20, 0x40})
  void refusesFastCommitsAndUnknownFeatures(int feature) {
    Log log = threeTransactions(REVOKE | feature, true);
    assertThatThrownBy(log::replay).isInstanceOf(IOException.class)
        .hasMessageContaining(feature == 0x20 ? "fast commits" : "0x" + Integer.toHexString(feature));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 17})
  void refusesALogOutsideTheJournal(int maxlen) {
    Log log = threeTransactions(REVOKE, true);
    log.bytes.putInt(16, maxlen);
    assertThatThrownBy(log::replay).isInstanceOf(IOException.class).hasMessageContaining("impossible log");
  }
}
