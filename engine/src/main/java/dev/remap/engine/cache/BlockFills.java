package dev.remap.engine.cache;

import dev.remap.engine.queue.BackgroundThreads;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The misses of a local-disk tier: each block fetched from the store once however many readers
 * miss it at the same time, and its file written by a background thread, so that a cold read
 * waits for the store and not also for the local disk. Until its file is in, the block is served
 * from the fetched bytes (the readers that come meanwhile find it here).
 *
 * <p>At most {@link #MOST_PENDING} bytes wait to be written: past that, the reader that fetched a
 * block writes it itself (the disk is slower than the store: reads slow down to its pace rather
 * than memory filling up). A block file that cannot be written (a full disk) is not cached; the
 * read it was fetched for is answered all the same, and the failure is logged once per kind.
 *
 * <p>Thread-safe: the map of blocks in flight is concurrent; a block is in it from its fetch until
 * its file is written or given up. The writer thread stops when idle and on {@link #close}.
 */
final class BlockFills implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(DiskCache.class.getName());

  /** Bytes of fetched blocks waiting for their files at most. */
  static final long MOST_PENDING = 64L << 20;

  /** Writes a block's file. */
  @FunctionalInterface
  interface Writer {
    void write(String name, ByteBuffer data) throws IOException;
  }

  /** Fetches a block's bytes from the store. */
  @FunctionalInterface
  interface Fetch {
    ByteBuffer get() throws IOException;
  }

  private final Writer writer;
  private final Map<String, CompletableFuture<ByteBuffer>> inFlight = new ConcurrentHashMap<>();
  private final AtomicLong pending = new AtomicLong();
  private final ThreadPoolExecutor background;
  private volatile String lastFailure = "";
  /** Blocks in flight (fetching, or waiting for their file); guarded by this, waited on by awaitIdle. */
  private int busy;

  BlockFills(Writer writer) {
    this.writer = writer;
    this.background = new ThreadPoolExecutor(1, 1, 10, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        task -> BackgroundThreads.create(task, "remap-disk-fill"));
    background.allowCoreThreadTimeOut(true);
  }

  /**
   * The block's bytes, read only (take a duplicate): fetched now, or by the reader that missed it
   * first (waiting for that fetch, and failing as it failed), or still waiting for its file. Null
   * when the fetch found no need to fetch (it returned null: the block's file is in now), for this
   * reader and those that waited for it.
   */
  ByteBuffer fetch(String name, Fetch fetch) throws IOException {
    CompletableFuture<ByteBuffer> mine = new CompletableFuture<>();
    CompletableFuture<ByteBuffer> running = inFlight.putIfAbsent(name, mine);
    if (running != null) {
      return join(running);
    }
    changeBusy(1);
    ByteBuffer whole;
    try {
      whole = fetch.get();
    } catch (IOException | RuntimeException | Error e) {
      inFlight.remove(name, mine);
      changeBusy(-1);
      mine.completeExceptionally(e);
      throw e;
    }
    if (whole == null) {
      inFlight.remove(name, mine);
      changeBusy(-1);
      mine.complete(null);
      return null;
    }
    mine.complete(whole);
    write(name, mine, whole);
    return whole;
  }

  /** The block's bytes (read only) if fetched and not yet in its file; null if not fetched (or failed). */
  ByteBuffer ready(String name) {
    CompletableFuture<ByteBuffer> fill = inFlight.get(name);
    return fill != null && fill.isDone() && !fill.isCompletedExceptionally() ? fill.join() : null;
  }

  private void write(String name, CompletableFuture<ByteBuffer> fill, ByteBuffer whole) {
    long size = whole.remaining();
    if (pending.addAndGet(size) <= MOST_PENDING) {
      try {
        background.execute(() -> writeNow(name, fill, whole, size));
        return;
      } catch (RejectedExecutionException closed) {
        // Closed: written here, as when too much is pending.
      }
    }
    writeNow(name, fill, whole, size);
  }

  private void writeNow(String name, CompletableFuture<ByteBuffer> fill, ByteBuffer whole, long size) {
    try {
      writer.write(name, whole.duplicate());
    } catch (IOException | RuntimeException e) {
      String kind = e.getClass().getSimpleName();
      if (!kind.equals(lastFailure)) {
        lastFailure = kind;
        LOG.log(System.Logger.Level.WARNING, "a block of the local-disk tier could not be written (read from the store"
            + " instead until it can): " + e);
      }
    } finally {
      pending.addAndGet(-size);
      inFlight.remove(name, fill);
      changeBusy(-1);
    }
  }

  private synchronized void changeBusy(int by) {
    busy += by;
    if (busy == 0) {
      notifyAll();
    }
  }

  private static ByteBuffer join(CompletableFuture<ByteBuffer> running) throws IOException {
    try {
      return running.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw new IOException(io.getMessage(), io);
      }
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw e;
    }
  }

  /** Waits until no block is in flight: every one fetched so far is in its file or given up. */
  synchronized void awaitIdle() throws InterruptedException {
    while (busy > 0) {
      wait();
    }
  }

  /** Lets queued block files be written (briefly), then stops the writer. */
  @Override
  public void close() {
    background.shutdown();
    try {
      background.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
