package dev.remap.engine.swap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.block.PagedDevice;
import dev.remap.engine.store.NoSpaceException;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One swap disk's page table, seen through the counters a user reads and the pages themselves. */
class SwapDiskTest {

  private static final int PAGE = PagePool.PAGE;

  @TempDir Path tmp;
  private final PagePool pool = new PagePool(64L << 20);
  private final List<Integer> received = new ArrayList<>();
  private final List<SwapDisk> disks = new ArrayList<>();

  @AfterEach
  void close() throws IOException {
    for (SwapDisk d : disks) {
      d.close();
    }
  }

  private SwapDisk disk(long size, long memory, boolean spill) throws IOException {
    Optional<SwapSpec.Spill> tier = spill ? Optional.of(new SwapSpec.Spill(tmp, size)) : Optional.empty();
    SwapDisk d = SwapDisk.create(pool, new SwapSpec("swap" + disks.size(), size, memory, tier, true, Optional.empty()),
        received::add);
    disks.add(d);
    return d;
  }

  private static byte[] pattern(int length, long seed) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** A write the way the NBD front-end does it: the payload goes into the pages it is given. */
  private static void writePaged(SwapDisk d, long offset, byte[] data) throws IOException {
    PagedDevice.Incoming in = d.receive(offset, data.length);
    int at = 0;
    for (ByteBuffer b : in.buffers()) {
      int n = b.remaining();
      b.put(data, at, n);
      at += n;
    }
    in.commit();
  }

  private static byte[] readPaged(SwapDisk d, long offset, int length) throws IOException {
    ByteBuffer out = ByteBuffer.allocate(length);
    try (PagedDevice.Outgoing pages = d.send(offset, length)) {
      for (ByteBuffer b : pages.buffers()) {
        out.put(b);
      }
    }
    return out.array();
  }

  @Test
  void aSwappedOutPageIsThePageItWasReceivedIntoAndNothingIsCopied() throws IOException {
    SwapDisk d = disk(1 << 20, 1 << 20, false);
    byte[] data = pattern(16 * PAGE, 1);
    writePaged(d, 8 * PAGE, data);

    int[] mapped = d.mappedPages(8 * PAGE, 16 * PAGE);
    assertThat(Arrays.stream(mapped).boxed().toList()).isEqualTo(received);
    for (int i = 0; i < 16; i++) {
      ByteBuffer page = pool.view(mapped[i]);
      assertThat(page.equals(ByteBuffer.wrap(data, i * PAGE, PAGE))).as("pool page %d holds disk page %d", mapped[i], 8 + i)
          .isTrue();
    }
    assertThat(readPaged(d, 8 * PAGE, 16 * PAGE)).isEqualTo(data);
    SwapCounters c = d.counters();
    assertThat(c.swapOuts()).isEqualTo(16);
    assertThat(c.swapIns()).isEqualTo(16);
    assertThat(c.remaps()).isEqualTo(16);
    assertThat(c.bytesCopied()).isZero();
    assertThat(c.residentBytes()).isEqualTo(16 * PAGE);
  }

  @Test
  void anOverwriteReleasesTheOldPagesAndAReadReleasesNothing() throws IOException {
    SwapDisk d = disk(1 << 20, 1 << 20, false);
    writePaged(d, 0, pattern(100 * PAGE, 1));
    long inUse = pool.pagesInUse();
    int[] before = d.mappedPages(0, 100 * PAGE);

    readPaged(d, 0, 100 * PAGE);
    readPaged(d, 0, 100 * PAGE);
    assertThat(d.mappedPages(0, 100 * PAGE)).isEqualTo(before);
    assertThat(d.counters().pagesReleased()).isZero();

    byte[] second = pattern(100 * PAGE, 2);
    writePaged(d, 0, second);
    SwapCounters c = d.counters();
    assertThat(c.pagesReleased()).isEqualTo(100);
    assertThat(c.residentBytes()).isEqualTo(100 * PAGE);
    assertThat(pool.pagesInUse()).isEqualTo(inUse);
    assertThat(readPaged(d, 0, 100 * PAGE)).isEqualTo(second);
  }

  @Test
  void pagesOverTheMemoryLimitSpillAndLoadBackIntoFreshPages() throws IOException {
    SwapDisk d = disk(1 << 20, 16 * PAGE, true);
    byte[] data = pattern(64 * PAGE, 3);
    for (int i = 0; i < 64; i += 8) {
      writePaged(d, (long) i * PAGE, Arrays.copyOfRange(data, i * PAGE, (i + 8) * PAGE));
    }
    SwapCounters c = d.counters();
    assertThat(c.residentBytes()).isLessThanOrEqualTo(16 * PAGE);
    assertThat(c.residentBytes() + c.spilledBytes()).isEqualTo(64 * PAGE);
    assertThat(c.spillWrites()).isGreaterThanOrEqualTo(48);

    for (int i = 0; i < 64; i += 4) {
      assertThat(readPaged(d, (long) i * PAGE, 4 * PAGE)).isEqualTo(Arrays.copyOfRange(data, i * PAGE, (i + 4) * PAGE));
    }
    c = d.counters();
    assertThat(c.spillLoads()).isGreaterThanOrEqualTo(48);
    assertThat(c.residentBytes()).isLessThanOrEqualTo(16 * PAGE);
    assertThat(c.residentBytes() + c.spilledBytes()).isEqualTo(64 * PAGE);
    assertThat(c.bytesCopied()).isZero();
  }

  @Test
  void discardsFreePagesAndSpillSlots() throws IOException {
    SwapDisk d = disk(1 << 20, 16 * PAGE, true);
    for (int i = 0; i < 64; i += 8) {
      writePaged(d, (long) i * PAGE, pattern(8 * PAGE, i));
    }
    d.trim(0, 32 * PAGE, false);
    d.writeZeroes(32 * PAGE, 32 * PAGE, false, false);
    SwapCounters c = d.counters();
    assertThat(c.residentBytes()).isZero();
    assertThat(c.spilledBytes()).isZero();
    assertThat(c.discards()).isEqualTo(64);
    assertThat(pool.pagesInUse()).isZero();
    assertThat(readPaged(d, 0, 64 * PAGE)).containsOnly(0);
  }

  @Test
  void aPartialPageWriteKeepsTheRestOfThePageAndCountsWhatItCopied() throws IOException {
    SwapDisk d = disk(1 << 20, 1 << 20, false);
    byte[] page = pattern(PAGE, 5);
    writePaged(d, 0, page);
    byte[] middle = pattern(1000, 6);
    writePaged(d, 100, middle);
    System.arraycopy(middle, 0, page, 100, 1000);
    assertThat(readPaged(d, 0, PAGE)).isEqualTo(page);
    assertThat(d.counters().bytesCopied()).isEqualTo(PAGE - 1000);
  }

  /** A disk without a spill tier, every page of it written once: its share has no page free. */
  private SwapDisk fullDiskWithoutSpill(byte[] data) throws IOException {
    SwapDisk d = disk(64 * PAGE, 64 * PAGE, false);
    writePaged(d, 0, data);
    writePaged(d, 32 * PAGE, data);
    assertThat(pool.pagesInUse()).isEqualTo(64);
    return d;
  }

  @Test
  void aFullDiskWithoutSpillTakesOverwritesIntoThePagesTheyReplace() throws IOException {
    byte[] data = pattern(32 * PAGE, 7);
    SwapDisk d = fullDiskWithoutSpill(data);
    int[] before = d.mappedPages(0, 64 * PAGE);
    received.clear();

    // A guest that has used every slot once swaps out again, partial pages at both ends included.
    byte[] second = pattern(40 * PAGE - 200, 8);
    writePaged(d, 100, second);
    byte[] expected = new byte[64 * PAGE];
    System.arraycopy(data, 0, expected, 0, 32 * PAGE);
    System.arraycopy(data, 0, expected, 32 * PAGE, 32 * PAGE);
    System.arraycopy(second, 0, expected, 100, second.length);
    assertThat(readPaged(d, 0, 64 * PAGE)).isEqualTo(expected);
    assertThat(d.mappedPages(0, 64 * PAGE)).as("every disk page still in its pool page").isEqualTo(before);
    assertThat(received).isEqualTo(Arrays.stream(before, 0, 40).boxed().toList());
    assertThat(pool.pagesInUse()).isEqualTo(64);
    SwapCounters c = d.counters();
    assertThat(c.bytesCopied()).as("nothing copied, not even the rest of the partial pages").isZero();
    assertThat(c.pagesReleased()).isZero();
    assertThat(c.swapOuts()).isEqualTo(64 + 40);
    assertThat(c.remaps()).as("only the first writes mapped new pages").isEqualTo(64);

    // Once a discard frees pages, overwrites take fresh pages again.
    d.trim(48 * PAGE, 16 * PAGE, false);
    byte[] third = pattern(16 * PAGE, 12);
    writePaged(d, 0, third);
    assertThat(d.counters().remaps()).isEqualTo(64 + 16);
    assertThat(d.counters().pagesReleased()).isEqualTo(16);
    assertThat(readPaged(d, 0, 16 * PAGE)).isEqualTo(third);
    assertThat(pool.pagesInUse()).isEqualTo(48);
  }

  @Test
  void aFullDiskWithoutSpillRefusesToOverwriteAPageBeingSentAndKeepsTheReplyWhole() throws IOException {
    byte[] data = pattern(32 * PAGE, 7);
    SwapDisk d = fullDiskWithoutSpill(data);
    try (PagedDevice.Outgoing reply = d.send(0, 2 * PAGE)) {
      // The write's first page is where the reply's bytes are: filling it would tear the reply.
      assertThatThrownBy(() -> d.receive(PAGE, 4 * PAGE)).isInstanceOf(NoSpaceException.class)
          .hasMessageContaining("swap disk " + d.spec().name()).hasMessageContaining("no spill tier");
      writePaged(d, 8 * PAGE, pattern(4 * PAGE, 9));
      ByteBuffer sent = ByteBuffer.allocate(2 * PAGE);
      for (ByteBuffer b : reply.buffers()) {
        sent.put(b.duplicate());
      }
      assertThat(sent.array()).isEqualTo(Arrays.copyOf(data, 2 * PAGE));
    }
    assertThat(readPaged(d, 0, 8 * PAGE)).isEqualTo(Arrays.copyOf(data, 8 * PAGE));
    assertThat(readPaged(d, 8 * PAGE, 4 * PAGE)).isEqualTo(pattern(4 * PAGE, 9));
    assertThat(pool.pagesInUse()).isEqualTo(64);
  }

  @Test
  void aFillInPlaceThatAnotherWriteOvertakesLeavesNoPageBehind() throws IOException {
    byte[] data = pattern(32 * PAGE, 7);
    SwapDisk d = fullDiskWithoutSpill(data);
    PagedDevice.Incoming slow = d.receive(0, PAGE);
    // A discard frees a page, so a second write to the same disk page takes a fresh one and commits first.
    d.trim(63 * PAGE, PAGE, false);
    writePaged(d, 0, pattern(PAGE, 10));
    slow.buffers()[0].put(0, pattern(PAGE, 11));
    slow.commit();
    assertThat(readPaged(d, 0, PAGE)).as("the write committed last into a page still mapped wins")
        .isEqualTo(pattern(PAGE, 10));
    assertThat(pool.pagesInUse()).isEqualTo(63);

    // A fill abandoned (the payload never came whole) keeps the page mapped and leaks nothing.
    PagedDevice.Incoming broken = d.receive(PAGE, 2 * PAGE);
    broken.abandon();
    assertThat(d.mappedPages(PAGE, 2 * PAGE)).doesNotContain(-1);
    assertThat(pool.pagesInUse()).isEqualTo(63);
    d.close();
    assertThat(pool.pagesInUse()).isZero();
  }

  @Test
  void aFullSpillTierIsNamedAndSpilledPagesStillReadBack() throws IOException {
    Optional<SwapSpec.Spill> tier = Optional.of(new SwapSpec.Spill(tmp, 8 * PAGE));
    SwapDisk d = SwapDisk.create(pool, new SwapSpec("small", 64 * PAGE, 8 * PAGE, tier, true, Optional.empty()));
    disks.add(d);
    // 8 pages of memory (one kept free for loads) and 8 slots: 15 pages fit.
    for (int i = 0; i < 15; i += 3) {
      writePaged(d, (long) i * PAGE, pattern(3 * PAGE, i));
    }
    assertThatThrownBy(() -> writePaged(d, 15 * PAGE, pattern(3 * PAGE, 15))).isInstanceOf(NoSpaceException.class)
        .hasMessageContaining("swap disk small").hasMessageContaining("spill tier");
    assertThat(d.counters().spilledBytes()).isEqualTo(8 * PAGE);
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < 15; i += 3) {
        assertThat(readPaged(d, (long) i * PAGE, 3 * PAGE)).as("pages %d-%d", i, i + 2).isEqualTo(pattern(3 * PAGE, i));
      }
    }
    assertThat(d.counters().spillLoads()).isGreaterThan(8);
  }

  @Test
  void thePoolPromisesNoMoreThanItsCapAndTakesBackWhatARemovedDiskHad() throws IOException {
    PagePool small = new PagePool(1 << 20);
    SwapExports exports = new SwapExports(small);
    try {
      exports.create(new SwapSpec("a", 768 << 10, 768 << 10, Optional.empty(), true, Optional.empty()));
      assertThatThrownBy(() -> exports.create(
          new SwapSpec("b", 512 << 10, 512 << 10, Optional.empty(), true, Optional.empty())))
          .isInstanceOf(PoolExhaustedException.class).hasMessageContaining("swap disk b")
          .hasMessageContaining("1048576").hasMessageContaining("786432");
      assertThat(exports.names()).containsExactly("a");
      exports.remove("a");
      exports.create(new SwapSpec("b", 512 << 10, 512 << 10, Optional.empty(), true, Optional.empty()));
      assertThat(small.reservedBytes()).isEqualTo(512 << 10);
    } finally {
      exports.close();
    }
  }

  @Test
  void aSpillLocationThatIsNotADirectoryIsNamedAndNothingIsReserved() throws IOException {
    Path file = Files.writeString(tmp.resolve("plain-file"), "x");
    SwapSpec spec = new SwapSpec("s", 1 << 20, 64 << 10, Optional.of(new SwapSpec.Spill(file, 1 << 20)), true,
        Optional.empty());
    assertThatThrownBy(() -> SwapDisk.create(pool, spec)).isInstanceOf(IOException.class)
        .hasMessageContaining(file.toString()).hasMessageContaining("spill.location");
    assertThat(pool.reservedBytes()).isZero();
  }

  @Test
  void badSpecsAreRefusedNamingTheField() {
    assertThatThrownBy(() -> new SwapSpec("s", 4097, 4096, Optional.empty(), true, Optional.empty()))
        .hasMessageContaining("size").hasMessageContaining("4096");
    assertThatThrownBy(() -> new SwapSpec("s", 1 << 20, 4096, Optional.empty(), true, Optional.empty()))
        .hasMessageContaining("memoryLimit").hasMessageContaining("spill");
    assertThatThrownBy(() -> new SwapSpec("s", 1 << 20, 1 << 20, Optional.empty(), true,
        Optional.of("a-label-longer-than-16"))).hasMessageContaining("label");
  }

  @Test
  void aLabelledDiskStartsAsASwapAreaThatBlkidAndSwaplabelRecognise() throws IOException {
    SwapDisk d = SwapDisk.create(pool, new SwapSpec("labelled", 4 << 20, 4 << 20, Optional.empty(), true,
        Optional.of("remapswap")));
    disks.add(d);
    Path image = tmp.resolve("swap.img");
    Files.write(image, readPaged(d, 0, 4 << 20));
    String blkid = Proc.run(Duration.ofSeconds(30), RemapPaths.command("blkid").toString(), "-p", image.toString())
        .requireSuccess().output();
    assertThat(blkid).contains("TYPE=\"swap\"").contains("LABEL=\"remapswap\"");
    String swaplabel = Proc.run(Duration.ofSeconds(30), RemapPaths.command("swaplabel").toString(), image.toString())
        .requireSuccess().output();
    assertThat(swaplabel).contains("LABEL: remapswap").containsPattern("UUID: +[0-9a-f-]{36}");
    assertThat(d.counters().residentBytes()).isEqualTo(PAGE);
  }
}
