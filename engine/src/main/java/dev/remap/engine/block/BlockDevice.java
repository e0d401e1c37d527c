package dev.remap.engine.block;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * One interface for every layer of the data path (RAM cache, request queue, volume) so that
 * layers stack by wrapping {@code next} and one contract suite tests them all.
 *
 * <p>Calls are synchronous and may come from many threads at once; concurrency between
 * requests is the job of the request queue in front. Offsets and lengths must lie inside the
 * device ({@link IllegalArgumentException} otherwise, naming the range).
 *
 * <p>Durability: a write returns when its data is readable by every later read; it is durable
 * (survives a crash of the process and of the machine) when {@code fua} was set or after a
 * later {@link #flush()} returns. That is the contract NBD, virtio and SCSI clients expect.
 */
public interface BlockDevice extends AutoCloseable {

  /** Size in bytes (a multiple of the block size). */
  long size();

  /** The logical block size clients should align to (512 or 4096). */
  int blockSize();

  boolean isReadOnly();

  /**
   * What this device can do. The default fits a fixed-size device: read-only, or writable with
   * trim, zeroes and FUA; a device that can do less, or grow, says so.
   */
  default Capabilities capabilities() {
    return isReadOnly() ? Capabilities.readOnly(size()) : Capabilities.writable(size());
  }

  /** Fills dst's remaining bytes with the device's bytes from offset. Holes read as zeros. */
  void read(long offset, ByteBuffer dst) throws IOException;

  /** Writes src's remaining bytes at offset; durable on return when fua. */
  void write(long offset, ByteBuffer src, boolean fua) throws IOException;

  /**
   * Writes count ranges (without FUA) in order, as {@link #write} would one after the other. A
   * device that can take them cheaper together (one journal append, its locks taken once)
   * overrides it. Returns how many were written, from the first: fewer than count only when a
   * later one failed (the caller writes the rest one by one to learn why); throws only when the
   * first failed.
   */
  default int writeAll(long[] offsets, ByteBuffer[] payloads, int count) throws IOException {
    for (int i = 0; i < count; i++) {
      try {
        write(offsets[i], payloads[i], false);
      } catch (IOException | RuntimeException e) {
        if (i == 0) {
          throw e;
        }
        return i;
      }
    }
    return count;
  }

  /**
   * Whether a write returns after local work only (memory and the local disk's page cache), never
   * waiting on a network or on other requests: a front-end may then run writes on its own thread
   * instead of handing them to workers. False unless a device knows better.
   */
  default boolean writesAreLocal() {
    return false;
  }

  /**
   * Whether a read returns after local work only (memory, the page cache, local files), never
   * waiting on a network: a front-end may then run reads on its own thread. False unless known.
   */
  default boolean readsAreLocal() {
    return false;
  }

  /**
   * Reads as {@link #read} does if this read needs local work only (decided per read, where
   * {@link #readsAreLocal} is for every read: a local-disk tier holding every block asked for);
   * otherwise returns false at once, dst's position unchanged and its remaining bytes unspecified,
   * and the read is to be made where waiting is allowed. The default reads when every read is
   * local: a layer that changes what is read must answer for itself, never pass this on unchanged.
   */
  default boolean readIfLocal(long offset, ByteBuffer dst) throws IOException {
    if (!readsAreLocal()) {
      return false;
    }
    read(offset, dst);
    return true;
  }

  /** Deallocates the range: it reads as zeros and reports as a hole. */
  void trim(long offset, long length, boolean fua) throws IOException;

  /** Makes the range read as zeros; noHole keeps it allocated (reported as data, not hole). */
  void writeZeroes(long offset, long length, boolean noHole, boolean fua) throws IOException;

  /** Makes every write that returned before this call durable. */
  void flush() throws IOException;

  /**
   * Whether every write that returned before this call is durable already, so that a flush now
   * would have nothing to wait for: a front-end may then answer a FLUSH at once on its own thread
   * instead of queueing it. True only when certain (it counts as a flush: a device may record that
   * one came); false says nothing. False unless a device knows better; a layer that holds writes
   * of its own must not pass the question down.
   */
  default boolean flushedAlready() {
    return false;
  }

  /** Allocation status of the range, covering it exactly, in order. */
  List<Extent> extents(long offset, long length) throws IOException;

  @Override
  void close() throws IOException;

  /** A run of bytes and its allocation status (NBD base:allocation: hole and zero flags). */
  record Extent(long offset, long length, boolean hole, boolean zero) {}
}
