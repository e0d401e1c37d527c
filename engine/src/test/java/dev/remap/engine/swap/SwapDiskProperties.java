package dev.remap.engine.swap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.block.PagedDevice;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

/**
 * Any sequence of swap-outs, swap-ins, partial writes, trims and zeroings, on a disk whose
 * memory limit is a few pages and whose spill tier takes the rest, or on one without a spill tier
 * that holds every page in memory, leaves every byte as a plain
 * array would, and keeps the books: each disk page is in exactly one place (pool, spill or
 * nowhere), the pool holds no page the disk does not map, the disk never holds more than its
 * memory limit, and whole-page traffic copies nothing.
 */
class SwapDiskProperties {

  private static final int PAGE = PagePool.PAGE;
  private static final int PAGES = 48;

  /** kind 0-3 write, 4 partial write, 5-6 read, 7 trim, 8 zeroes; first page; pages; seed. */
  record Op(int kind, int first, int count, int seed) {}

  @Provide
  Arbitrary<List<Op>> ops() {
    Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 8),
        Arbitraries.integers().between(0, PAGES - 1), Arbitraries.integers().between(1, 6),
        Arbitraries.integers()).as((k, f, n, s) -> new Op(k, f, Math.min(n, PAGES - f), s));
    return op.list().ofMinSize(1).ofMaxSize(80);
  }

  @Property(tries = 200)
  void everyByteMatchesAnArrayAndEveryPageIsInOnePlace(@ForAll("ops") List<Op> ops,
      @ForAll @IntRange(min = 8, max = 24) int spillingPages, @ForAll boolean withSpill) throws IOException {
    Path dir = Files.createTempDirectory("swap-props");
    PagePool pool = new PagePool(1L << 20);
    // Without a spill tier the disk holds its whole size, and overwrites of a full disk fill pages in place.
    int memoryPages = withSpill ? spillingPages : PAGES;
    SwapDisk disk = SwapDisk.create(pool, new SwapSpec("p", (long) PAGES * PAGE, (long) memoryPages * PAGE,
        withSpill ? Optional.of(new SwapSpec.Spill(dir, (long) PAGES * PAGE)) : Optional.empty(), true,
        Optional.empty()));
    byte[] model = new byte[PAGES * PAGE];
    try {
      for (Op op : ops) {
        long offset = (long) op.first() * PAGE;
        int length = op.count() * PAGE;
        switch (op.kind()) {
          case 0, 1, 2, 3 -> write(disk, offset, bytes(length, op.seed()), model);
          case 4 -> {
            int from = Math.floorMod(op.seed(), PAGE);
            int n = Math.min(length - from, 1 + Math.floorMod(op.seed() >> 12, 3 * PAGE));
            write(disk, offset + from, bytes(n, op.seed()), model);
          }
          case 5, 6 -> assertThat(read(disk, offset, length))
              .isEqualTo(Arrays.copyOfRange(model, (int) offset, (int) offset + length));
          case 7 -> {
            disk.trim(offset, length, false);
            Arrays.fill(model, (int) offset, (int) offset + length, (byte) 0);
          }
          default -> {
            disk.writeZeroes(offset, length, op.seed() % 2 == 0, false);
            Arrays.fill(model, (int) offset, (int) offset + length, (byte) 0);
          }
        }
        SwapCounters c = disk.counters();
        int[] mapped = disk.mappedPages(0, (long) PAGES * PAGE);
        long resident = Arrays.stream(mapped).filter(p -> p >= 0).count();
        assertThat(c.residentBytes()).isEqualTo(resident * PAGE).isLessThanOrEqualTo((long) memoryPages * PAGE);
        assertThat(pool.pagesInUse()).as("pool pages no disk page maps").isEqualTo(resident);
        assertThat(Arrays.stream(mapped).filter(p -> p >= 0).distinct().count()).isEqualTo(resident);
      }
      assertThat(read(disk, 0, PAGES * PAGE)).isEqualTo(model);
      boolean anyPartial = ops.stream().anyMatch(o -> o.kind() == 4);
      if (!anyPartial) {
        assertThat(disk.counters().bytesCopied()).isZero();
      }
    } finally {
      disk.close();
      assertThat(pool.pagesInUse()).isZero();
      assertThat(pool.reservedBytes()).isZero();
      try (var files = Files.list(dir)) {
        assertThat(files.toList()).as("the spill file is gone").isEmpty();
      }
      Files.delete(dir);
    }
  }

  private static byte[] bytes(int length, int seed) {
    byte[] b = new byte[length];
    new java.util.Random(seed).nextBytes(b);
    return b;
  }

  /** The paged path a front-end takes, piece by piece as it does. */
  private static void write(SwapDisk disk, long offset, byte[] data, byte[] model) throws IOException {
    SwapDisk.pieces(offset, data.length, disk.maxRequest(), (at, n) -> {
      PagedDevice.Incoming in = disk.receive(at, n);
      int from = (int) (at - offset);
      for (ByteBuffer b : in.buffers()) {
        int k = b.remaining();
        b.put(data, from, k);
        from += k;
      }
      in.commit();
    });
    System.arraycopy(data, 0, model, (int) offset, data.length);
  }

  private static byte[] read(SwapDisk disk, long offset, int length) throws IOException {
    ByteBuffer out = ByteBuffer.allocate(length);
    SwapDisk.pieces(offset, length, disk.maxRequest(), (at, n) -> {
      try (PagedDevice.Outgoing pages = disk.send(at, n)) {
        for (ByteBuffer b : pages.buffers()) {
          out.put(b.duplicate());
        }
      }
    });
    return out.array();
  }
}
