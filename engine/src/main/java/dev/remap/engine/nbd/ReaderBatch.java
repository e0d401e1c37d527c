package dev.remap.engine.nbd;

import dev.remap.engine.core.RequestMerger.Kind;
import dev.remap.engine.nbd.RequestCodec.Request;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * What a connection's reader thread serves itself from one read of the socket. Writes, when the
 * export only journals them locally ({@link dev.remap.engine.export.ExportStack#writesOnCaller}),
 * are collected, then written together ({@code writeNow}: one journal append, its locks taken
 * once); reads it ran itself (up to {@code Transmission.READ_HERE_MAX} when the export reads
 * local files only) leave their replies here; and all the replies go out in one send. Handing each request to a
 * worker instead cost two thread switches, a heap copy of the payload and a send per 4 KiB write.
 *
 * <p>A FUA write is journaled with the batch and answered once a flush on the export's workers
 * made it durable, so the reader thread never waits for the disk.
 *
 * <p>Threads: the reader thread only. Payloads are slices of its read buffer (or of
 * {@link #payloadBuffer}), valid until it reads again: {@link #run} comes before that.
 */
final class ReaderBatch {

  /** Answers a journaled FUA write once a flush has made it durable. */
  @FunctionalInterface
  interface FlushThen {
    void answer(Request r, long startNanos);
  }

  static final int MAX_WRITES = 256;
  /** Replies held for the batch's send past this many bytes are sent at once. */
  static final long MAX_HELD_BYTES = 8L << 20;
  /** A payload buffer larger than this is not kept for the next large write. */
  private static final int KEEP_PAYLOAD_BUFFER = 8 << 20;

  private final Wire wire;
  private final ServedExport export;
  private final boolean structured;
  private final FlushThen flushThen;
  private final long[] offsets = new long[MAX_WRITES];
  private final ByteBuffer[] payloads = new ByteBuffer[MAX_WRITES];
  private final Request[] requests = new Request[MAX_WRITES];
  private final long[] starts = new long[MAX_WRITES];
  private int count;
  private ByteBuffer large;
  /** Replies of requests already served, sent with the batch's, and their bytes. */
  private final List<ByteBuffer> ready = new ArrayList<>();
  /** The read buffers among them, given back by the wire once sent. */
  private final List<ByteBuffer> lent = new ArrayList<>();
  private long readyBytes;

  ReaderBatch(Wire wire, ServedExport export, boolean structured, FlushThen flushThen) {
    this.wire = wire;
    this.export = export;
    this.structured = structured;
    this.flushThen = flushThen;
  }

  boolean isFull() {
    return count == MAX_WRITES;
  }

  void add(Request r, ByteBuffer payload, long startNanos) {
    offsets[count] = r.offset();
    payloads[count] = payload;
    requests[count] = r;
    starts[count] = startNanos;
    count++;
  }

  /**
   * A direct buffer for a payload that did not arrive with its header, reused from one large
   * write to the next (the write is run before the buffer is used again).
   */
  ByteBuffer payloadBuffer(int length) {
    if (large == null || large.capacity() < length) {
      large = ByteBuffer.allocateDirect(length);
    }
    return large.clear().limit(length);
  }

  /** A reply (its parts contiguous) to send with the batch's; the buffers must not change. */
  void reply(ByteBuffer... parts) {
    for (ByteBuffer part : parts) {
      ready.add(part);
      readyBytes += part.remaining();
    }
  }

  /** A read's reply: its header, then its data, which goes back to the pool once sent if lent. */
  void replyWith(ByteBuffer header, ByteBuffer data) {
    reply(header, data);
    if (ReadBuffers.lent(data)) {
      lent.add(data);
    }
  }

  long heldBytes() {
    return readyBytes;
  }

  /** Writes and answers what was collected, and sends the replies left here; nothing when nothing was. */
  void run() {
    if (count == 0) {
      if (!ready.isEmpty()) {
        sendReady();
      }
      return;
    }
    int n = count;
    count = 0;
    int done;
    Throwable failure = null;
    try {
      done = export.stack().writeNow(offsets, payloads, n);
    } catch (IOException | RuntimeException e) {
      done = 0;
      failure = e;
    }
    List<ByteBuffer> replies = ready;
    for (int i = 0; i < n; i++) {
      Request r = requests[i];
      Throwable failed = null;
      if (i >= done) {
        // The batch stopped before this one: written alone, it tells its own outcome.
        failed = i == done && failure != null ? failure : writeAlone(i);
      }
      if (failed == null && r.fua()) {
        flushThen.answer(r, starts[i]);
      } else {
        export.meters().completed(Kind.WRITE, r.length(), System.nanoTime() - starts[i], failed != null);
        replies.add(failed == null ? RequestCodec.done(r.handle(), structured) : NbdErrors.reply(r, failed, structured));
      }
      payloads[i] = null;
      requests[i] = null;
    }
    if (!replies.isEmpty()) {
      sendReady();
    }
    if (large != null && large.capacity() > KEEP_PAYLOAD_BUFFER) {
      large = null;
    }
  }

  private void sendReady() {
    wire.send(ready, lent);
    ready.clear();
    lent.clear();
    readyBytes = 0;
  }

  private Throwable writeAlone(int i) {
    try {
      export.stack().writeNow(new long[] {offsets[i]}, new ByteBuffer[] {payloads[i]}, 1);
      return null;
    } catch (IOException | RuntimeException e) {
      return e;
    }
  }
}
