package dev.remap.engine.queue;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.block.ForwardingBlockDevice;
import dev.remap.engine.core.RequestMerger;
import dev.remap.engine.core.RequestMerger.Kind;
import dev.remap.engine.core.RequestMerger.Merged;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The request array of a volume and the transfer workers bound to it (seed 001): front-ends
 * submit requests and go on; each worker takes a batch, sorts and merges adjacent requests of
 * the same kind ({@link RequestMerger}), runs the merged operations on {@code next}, and
 * completes every request it served. The array is bounded: when it is full, submitters wait.
 *
 * <p>Ordering: requests of one batch are only reordered where the merger proves it invisible;
 * requests in different workers' batches run concurrently, which is what a block device promises
 * for requests in flight at the same time.
 */
public final class RequestQueue extends ForwardingBlockDevice {

  /** Counters by request kind (index = {@link Kind#ordinal()}), and merges. */
  public record Counters(long[] requests, long[] bytes, long mergedAway) {}

  private record Pending(Kind kind, long offset, long length, ByteBuffer buffer, boolean fua, CompletableFuture<Void> done) {}

  private static final int MAX_BATCH = 64;

  private final ArrayBlockingQueue<Pending> array;
  private final RequestMerger merger;
  private final List<Thread> workers = new ArrayList<>();
  private final AtomicLongArray requests = new AtomicLongArray(Kind.values().length);
  private final AtomicLongArray bytes = new AtomicLongArray(Kind.values().length);
  private final AtomicLongArray mergedAway = new AtomicLongArray(1);
  private volatile boolean closed;
  /** Set once the workers are gone: whatever is in the array then is refused, not left waiting. */
  private volatile boolean stopped;

  public RequestQueue(BlockDevice next, String name, int workerCount, int capacity, int maxMerged) {
    super(next);
    this.array = new ArrayBlockingQueue<>(capacity);
    this.merger = new RequestMerger(maxMerged);
    for (int i = 0; i < workerCount; i++) {
      Thread worker = new Thread(this::work, "remap-worker-" + name + "-" + i);
      worker.setDaemon(true);
      worker.start();
      workers.add(worker);
    }
  }

  public Counters counters() {
    long[] r = new long[Kind.values().length];
    long[] b = new long[Kind.values().length];
    for (int i = 0; i < r.length; i++) {
      r[i] = requests.get(i);
      b[i] = bytes.get(i);
    }
    return new Counters(r, b, mergedAway.get(0));
  }

  /** Counts requests a front-end ran past the queue on its own thread, as if the queue had served them. */
  public void countServedElsewhere(Kind kind, int count, long byteCount) {
    requests.addAndGet(kind.ordinal(), count);
    bytes.addAndGet(kind.ordinal(), byteCount);
  }

  /** Queues a read into dst's remaining bytes; completes when they are filled. */
  public CompletableFuture<Void> submitRead(long offset, ByteBuffer dst) {
    return submit(Kind.READ, offset, dst.remaining(), dst, false);
  }

  public CompletableFuture<Void> submitWrite(long offset, ByteBuffer src, boolean fua) {
    return submit(Kind.WRITE, offset, src.remaining(), src, fua);
  }

  /** A trim, or (zero = true) a write of zeroes that keeps the range allocated. */
  public CompletableFuture<Void> submitDiscard(long offset, long length, boolean zero, boolean fua) {
    return submit(zero ? Kind.ZERO : Kind.TRIM, offset, length, null, fua);
  }

  public CompletableFuture<Void> submitFlush() {
    return submit(Kind.FLUSH, 0, 0, null, false);
  }

  private CompletableFuture<Void> submit(Kind kind, long offset, long length, ByteBuffer buffer, boolean fua) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (closed) {
      done.completeExceptionally(dev.remap.engine.block.DeviceException.closed("the request queue is closed"));
      return done;
    }
    if (kind != Kind.FLUSH && (offset < 0 || length < 0 || offset + length > size())) {
      done.completeExceptionally(new IllegalArgumentException("range offset=" + offset + " length=" + length
          + " is outside the device of size " + size()));
      return done;
    }
    try {
      Pending pending = new Pending(kind, offset, length, buffer, fua, done);
      array.put(pending);
      // A close between the check above and the put may have let the workers go already: then
      // nobody would run it. Whichever of this and close's sweep takes it out refuses it.
      if (stopped && array.remove(pending)) {
        refuse(pending);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      done.completeExceptionally(new InterruptedIOException("interrupted while the request array was full"));
    }
    return done;
  }

  private void work() {
    List<Pending> batch = new ArrayList<>(MAX_BATCH);
    while (!closed || !array.isEmpty()) {
      try {
        Pending first = array.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        array.drainTo(batch, MAX_BATCH - 1);
        run(batch);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } finally {
        batch.clear();
      }
    }
  }

  private void run(List<Pending> batch) {
    List<RequestMerger.Request> plain = new ArrayList<>(batch.size());
    for (int i = 0; i < batch.size(); i++) {
      Pending p = batch.get(i);
      plain.add(new RequestMerger.Request(i, p.kind(), p.offset(), p.length()));
    }
    for (Merged merged : merger.plan(plain)) {
      List<Pending> parts = new ArrayList<>(merged.parts().size());
      for (RequestMerger.Request r : merged.parts()) {
        parts.add(batch.get(r.index()));
      }
      mergedAway.addAndGet(0, parts.size() - 1);
      try {
        execute(merged, parts);
        for (Pending p : parts) {
          requests.incrementAndGet(p.kind().ordinal());
          bytes.addAndGet(p.kind().ordinal(), p.length());
          p.done().complete(null);
        }
      } catch (IOException | RuntimeException e) {
        for (Pending p : parts) {
          p.done().completeExceptionally(e);
        }
      }
    }
  }

  private void execute(Merged merged, List<Pending> parts) throws IOException {
    boolean fua = parts.stream().anyMatch(Pending::fua);
    switch (merged.kind()) {
      case FLUSH -> next.flush();
      case TRIM -> next.trim(merged.offset(), merged.length(), fua);
      case ZERO -> next.writeZeroes(merged.offset(), merged.length(), true, fua);
      case WRITE -> {
        if (parts.size() == 1) {
          next.write(merged.offset(), parts.get(0).buffer().duplicate(), fua);
        } else {
          ByteBuffer joined = ByteBuffer.allocate((int) merged.length());
          for (Pending p : parts) {
            joined.put(p.buffer().duplicate());
          }
          next.write(merged.offset(), joined.flip(), fua);
        }
      }
      case READ -> {
        if (parts.size() == 1) {
          next.read(merged.offset(), parts.get(0).buffer().duplicate());
        } else {
          ByteBuffer whole = ByteBuffer.allocate((int) merged.length());
          next.read(merged.offset(), whole);
          for (Pending p : parts) {
            ByteBuffer slice = whole.duplicate();
            slice.position((int) (p.offset() - merged.offset())).limit((int) (p.offset() - merged.offset() + p.length()));
            p.buffer().duplicate().put(slice);
          }
        }
      }
    }
  }

  // The synchronous BlockDevice view: submit and wait.

  /**
   * False whatever next says: a request here waits for a worker and for the requests queued ahead
   * of it, which is the queue's point (moving the work off the caller's thread). A front-end that
   * may run requests on its own thread asks the device below the queue and goes past it, as
   * ExportStack does.
   */
  @Override
  public boolean writesAreLocal() {
    return false;
  }

  /** False whatever next says, for the same reason as {@link #writesAreLocal}. */
  @Override
  public boolean readsAreLocal() {
    return false;
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    int length = dst.remaining();
    await(submitRead(offset, dst));
    dst.position(dst.position() + length);
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    int length = src.remaining();
    await(submitWrite(offset, src, fua));
    src.position(src.position() + length);
  }

  @Override
  public void trim(long offset, long length, boolean fua) throws IOException {
    await(submitDiscard(offset, length, false, fua));
  }

  @Override
  public void writeZeroes(long offset, long length, boolean noHole, boolean fua) throws IOException {
    await(submitDiscard(offset, length, noHole, fua));
  }

  @Override
  public void flush() throws IOException {
    await(submitFlush());
  }


  /**
   * Lets queued requests finish, stops the workers, then closes next. A request submitted while
   * it closes is either run or refused as closed, never left waiting.
   */
  @Override
  public void close() throws IOException {
    closed = true;
    for (Thread worker : workers) {
      try {
        worker.join(TimeUnit.SECONDS.toMillis(30));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    stopped = true;
    List<Pending> left = new ArrayList<>();
    array.drainTo(left);
    left.forEach(RequestQueue::refuse);
    next.close();
  }

  private static void refuse(Pending pending) {
    pending.done().completeExceptionally(
        dev.remap.engine.block.DeviceException.closed("the request queue is closed"));
  }

  private static void await(CompletableFuture<Void> done) throws IOException {
    try {
      done.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for a request");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new UncheckedIOException(new IOException(cause));
    }
  }
}
