package dev.remap.engine.swap;

import dev.remap.engine.block.PagedDevice;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A write being received by a {@link SwapDisk}: the pages its payload goes into (fresh ones, or
 * the ones it overwrites when filled in place), committed or abandoned once. Not thread-safe: the
 * connection that received it ends it.
 */
final class SwapWrite implements PagedDevice.Incoming {

  /** Maps the received pages at disk page first (the disk's commit). */
  @FunctionalInterface
  interface Commit {
    void map(int first, int[] pages, boolean[] inPlace) throws IOException;
  }

  /** Lets the received pages go (the disk's abandon). */
  @FunctionalInterface
  interface Abandon {
    void giveBack(int[] pages, boolean[] inPlace);
  }

  private final int first;
  private final int[] pages;
  private final boolean[] inPlace;
  private final ByteBuffer[] buffers;
  private final Commit commit;
  private final Abandon abandon;
  private boolean done;

  SwapWrite(int first, int[] pages, boolean[] inPlace, ByteBuffer[] buffers, Commit commit, Abandon abandon) {
    this.first = first;
    this.pages = pages;
    this.inPlace = inPlace;
    this.buffers = buffers;
    this.commit = commit;
    this.abandon = abandon;
  }

  @Override
  public ByteBuffer[] buffers() {
    return buffers;
  }

  @Override
  public void commit() throws IOException {
    if (done) {
      throw new IllegalStateException("a write's pages are committed once");
    }
    done = true;
    commit.map(first, pages, inPlace);
  }

  @Override
  public void abandon() {
    if (!done) {
      done = true;
      abandon.giveBack(pages, inPlace);
    }
  }
}
