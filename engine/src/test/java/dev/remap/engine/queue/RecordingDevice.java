package dev.remap.engine.queue;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.core.RequestMerger.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The layer below a request queue in its tests: bytes in memory that record every call, keep
 * what a flush or FUA made durable apart from what was only written, can hold calls at a gate (so
 * that a test decides what one batch holds), and can fail every call that touches one offset.
 * It is the queue's neighbour, not a stand-in for the queue.
 */
final class RecordingDevice implements BlockDevice {

  /** One call the queue made, in the order it was made. */
  record Call(Kind kind, long offset, long length, boolean fua) {}

  private final byte[] written;
  private final byte[] durable;
  private final List<Call> calls = new ArrayList<>();
  private final Semaphore arrivals = new Semaphore(0);
  private volatile CountDownLatch gate;
  private volatile long failingOffset = -1;
  private volatile Thread heldInSize;
  private volatile CountDownLatch sizeGate;
  private volatile int callsWhenClosed = -1;

  RecordingDevice(int size) {
    this.written = new byte[size];
    this.durable = new byte[size];
  }

  /** From now on every call waits at the gate until {@link #open()}. */
  void hold() {
    gate = new CountDownLatch(1);
  }

  void open() {
    CountDownLatch held = gate;
    gate = null;
    if (held != null) {
      held.countDown();
    }
  }

  /** Waits until a call has reached the device (and, if held, is waiting at the gate). */
  void awaitCall() throws InterruptedException {
    if (!arrivals.tryAcquire(10, TimeUnit.SECONDS)) {
      throw new AssertionError("no call reached the device within 10 s");
    }
  }

  /** Every call touching offset fails, as a disk with a bad sector there would. */
  void failAt(long offset) {
    failingOffset = offset;
  }

  /** Makes thread wait in {@link #size()} until {@link #releaseSize()}: a slow moment inside a submit. */
  void holdSizeFor(Thread thread) {
    sizeGate = new CountDownLatch(1);
    heldInSize = thread;
  }

  void releaseSize() {
    heldInSize = null;
    sizeGate.countDown();
  }

  /** Puts bytes on the device as if they had always been there: no call is recorded. */
  synchronized void preset(long offset, byte[] bytes) {
    System.arraycopy(bytes, 0, written, (int) offset, bytes.length);
    System.arraycopy(bytes, 0, durable, (int) offset, bytes.length);
  }

  synchronized List<Call> calls() {
    return List.copyOf(calls);
  }

  synchronized byte[] written(long offset, int length) {
    return Arrays.copyOfRange(written, (int) offset, (int) offset + length);
  }

  synchronized byte[] durable(long offset, int length) {
    return Arrays.copyOfRange(durable, (int) offset, (int) offset + length);
  }

  /** How many calls had been made when the device was closed; -1 while it is open. */
  int callsWhenClosed() {
    return callsWhenClosed;
  }

  @Override
  public long size() {
    CountDownLatch held = sizeGate;
    if (Thread.currentThread() == heldInSize && held != null) {
      await(held);
    }
    return written.length;
  }

  @Override
  public int blockSize() {
    return 4096;
  }

  @Override
  public boolean isReadOnly() {
    return false;
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    int length = dst.remaining();
    arrive(Kind.READ, offset, length, false);
    synchronized (this) {
      dst.put(written, (int) offset, length);
    }
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    int length = src.remaining();
    arrive(Kind.WRITE, offset, length, fua);
    synchronized (this) {
      src.get(written, (int) offset, length);
      if (fua) {
        System.arraycopy(written, (int) offset, durable, (int) offset, length);
      }
    }
  }

  @Override
  public void trim(long offset, long length, boolean fua) throws IOException {
    arrive(Kind.TRIM, offset, length, fua);
    zero(offset, length, fua);
  }

  @Override
  public void writeZeroes(long offset, long length, boolean noHole, boolean fua) throws IOException {
    arrive(Kind.ZERO, offset, length, fua);
    zero(offset, length, fua);
  }

  private synchronized void zero(long offset, long length, boolean fua) {
    Arrays.fill(written, (int) offset, (int) (offset + length), (byte) 0);
    if (fua) {
      Arrays.fill(durable, (int) offset, (int) (offset + length), (byte) 0);
    }
  }

  @Override
  public void flush() throws IOException {
    arrive(Kind.FLUSH, 0, 0, false);
    synchronized (this) {
      System.arraycopy(written, 0, durable, 0, written.length);
    }
  }

  @Override
  public List<Extent> extents(long offset, long length) {
    return List.of(new Extent(offset, length, false, false));
  }

  @Override
  public synchronized void close() {
    callsWhenClosed = calls.size();
  }

  /** Records the call, waits at the gate if it is held, then fails it if it touches the bad offset. */
  private void arrive(Kind kind, long offset, long length, boolean fua) throws IOException {
    synchronized (this) {
      calls.add(new Call(kind, offset, length, fua));
    }
    arrivals.release();
    CountDownLatch held = gate;
    if (held != null) {
      await(held);
    }
    long bad = failingOffset;
    if (bad >= 0 && offset <= bad && bad < offset + length) {
      throw new IOException("medium error at offset " + bad);
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new AssertionError("a held call was not let through within 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while held", e);
    }
  }
}
