package dev.remap.engine.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * A layer of the data path: every call goes to {@code next} unless the layer overrides it, so a
 * layer states only what it changes (a cache overrides reads and invalidates on writes, a queue
 * overrides the requests it schedules).
 */
public abstract class ForwardingBlockDevice implements BlockDevice {

  protected final BlockDevice next;

  protected ForwardingBlockDevice(BlockDevice next) {
    this.next = next;
  }

  @Override
  public long size() {
    return next.size();
  }

  @Override
  public int blockSize() {
    return next.blockSize();
  }

  @Override
  public boolean isReadOnly() {
    return next.isReadOnly();
  }

  @Override
  public Capabilities capabilities() {
    return next.capabilities();
  }

  /**
   * A layer that does its work on the caller's thread, as most do, is as local as the device below
   * it; forwarding here, rather than in each layer, keeps a layer that forgets to ask from hiding a
   * local device from the front-end. A layer that waits on something else (a queue's workers)
   * overrides both.
   */
  @Override
  public boolean writesAreLocal() {
    return next.writesAreLocal();
  }

  /** As {@link #writesAreLocal}: as local as the device below, unless the layer overrides it. */
  @Override
  public boolean readsAreLocal() {
    return next.readsAreLocal();
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    next.read(offset, dst);
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    next.write(offset, src, fua);
  }

  @Override
  public void trim(long offset, long length, boolean fua) throws IOException {
    next.trim(offset, length, fua);
  }

  @Override
  public void writeZeroes(long offset, long length, boolean noHole, boolean fua) throws IOException {
    next.writeZeroes(offset, length, noHole, fua);
  }

  @Override
  public void flush() throws IOException {
    next.flush();
  }

  @Override
  public List<Extent> extents(long offset, long length) throws IOException {
    return next.extents(offset, length);
  }

  @Override
  public void close() throws IOException {
    next.close();
  }
}
