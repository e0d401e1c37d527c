package dev.remap.engine.swap;

import dev.remap.engine.store.NoSpaceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The slower tier of one swap disk: a local file of 4 KiB slots that pages evicted from the pool
 * are written to and loaded back from. Slots are reused (a free list, then the high-water mark),
 * so the file grows to the most pages ever spilled at once and no further. Not durable, like
 * everything of a swap disk: the file is created empty, never synced, and deleted on close.
 *
 * <p>Not thread-safe: its disk calls it under the disk's lock.
 */
final class SpillFile implements AutoCloseable {

  private final Path path;
  private final FileChannel channel;
  private final int capacity;
  private int[] free = new int[64];
  private int freeCount;
  private int highWater;
  private int used;

  private SpillFile(Path path, FileChannel channel, int capacity) {
    this.path = path;
    this.channel = channel;
    this.capacity = capacity;
  }

  /**
   * Creates the disk's spill file in the spec's directory.
   *
   * @throws IOException naming the directory and why it cannot hold the file
   */
  static SpillFile create(String disk, SwapSpec.Spill spec) throws IOException {
    Path dir = spec.directory();
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(dir.toString(), null,
          "spill.location of swap disk " + disk + " is not a directory");
    }
    Path path = dir.resolve("remap-swap-" + disk.replaceAll("[^A-Za-z0-9._-]", "_") + ".spill");
    FileChannel channel;
    try {
      channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (AccessDeniedException e) {
      throw new AccessDeniedException(dir.toString(), null, "spill.location of swap disk " + disk
          + " is not writable");
    }
    // Slots stay below 2^31 - 1: the disk's table encodes a slot as -(slot + 1) and keeps MIN_VALUE for itself.
    long slots = Math.min(Integer.MAX_VALUE - 1, spec.size() / PagePool.PAGE);
    return new SpillFile(path, channel, (int) slots);
  }

  Path path() {
    return path;
  }

  int used() {
    return used;
  }

  int capacity() {
    return capacity;
  }

  boolean full() {
    return used >= capacity;
  }

  /** Writes a page into a free slot and returns the slot. */
  int write(ByteBuffer page) throws IOException {
    if (full()) {
      throw new NoSpaceException("the spill file " + path + " holds all " + capacity + " pages spill.size allows");
    }
    int slot = freeCount > 0 ? free[--freeCount] : highWater++;
    try {
      writeFully(page.duplicate(), (long) slot * PagePool.PAGE);
    } catch (IOException e) {
      free(slot, false);
      throw NoSpaceException.convert(e, "spilling a page to " + path);
    }
    used++;
    return slot;
  }

  /** Reads the page in slot into dst (4096 bytes from its position); the slot stays taken. */
  void read(int slot, ByteBuffer dst) throws IOException {
    ByteBuffer d = dst.duplicate();
    long at = (long) slot * PagePool.PAGE;
    while (d.hasRemaining()) {
      int n = channel.read(d, at);
      if (n < 0) {
        throw new IOException("the spill file " + path + " ends before slot " + slot);
      }
      at += n;
    }
  }

  /** The slot's page is no longer needed. */
  void free(int slot) {
    free(slot, true);
  }

  private void free(int slot, boolean wasUsed) {
    if (freeCount == free.length) {
      free = java.util.Arrays.copyOf(free, free.length * 2);
    }
    free[freeCount++] = slot;
    if (wasUsed) {
      used--;
    }
  }

  private void writeFully(ByteBuffer src, long at) throws IOException {
    while (src.hasRemaining()) {
      at += channel.write(src, at);
    }
  }

  @Override
  public void close() throws IOException {
    try {
      channel.close();
    } finally {
      Files.deleteIfExists(path);
    }
  }
}
