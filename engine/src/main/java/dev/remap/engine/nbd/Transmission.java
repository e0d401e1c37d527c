package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;

import dev.remap.engine.block.BlockDevice.Extent;
import dev.remap.engine.core.RequestMerger.Kind;
import dev.remap.engine.nbd.Negotiation.Session;
import dev.remap.engine.nbd.RequestCodec.Rejection;
import dev.remap.engine.nbd.RequestCodec.Request;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The transmission phase of one connection. The reader thread parses each request, refuses the
 * invalid ones at once, answers reads the RAM cache holds at once, and submits everything else
 * to the export's request queue without waiting; each reply is sent by whichever thread
 * completes the request (replies may go out of order, as the protocol allows).
 *
 * <p>Bounds: at most {@link #MAX_INFLIGHT} requests and {@link #MAX_INFLIGHT_BYTES} of their
 * buffers per connection, and at most {@link #MAX_QUEUED_OUTPUT} of replies the client has not
 * taken yet; past those the reader stops reading until completions or the socket catch up. So a
 * client can make the server hold only a bounded amount of memory, however it behaves.
 *
 * <p>Threads: {@link #run} is the reader thread; completions run on transfer workers and only
 * touch the atomic counters and {@link Wire#send}.
 */
final class Transmission {

  static final int MAX_INFLIGHT = 512;
  static final long MAX_INFLIGHT_BYTES = 128L << 20;
  static final long MAX_QUEUED_OUTPUT = 64L << 20;
  private static final long STATUS_WINDOW = 256L << 20;
  private static final long DRAIN_TIMEOUT = TimeUnit.SECONDS.toNanos(60);
  /**
   * Reads up to this size are run by the reader thread when the export reads local files: for
   * them a hand-over costs more than the read. Larger ones go to the workers, which copy several
   * at once (1 MiB reads QD8 on the reader thread alone ran at 0.6x of the workers' rate).
   */
  static final long READ_HERE_MAX = 128 << 10;

  private final Wire wire;
  private final ServedExport export;
  private final Session session;
  private final boolean structured;
  private final BooleanSupplier stopping;
  /** Where read data goes: large reads into kept direct buffers, which the wire gives back. */
  private final ReadBuffers buffers;
  private final ByteBuffer in = ByteBuffer.allocateDirect(256 << 10).flip();
  private final AtomicInteger inflight = new AtomicInteger();
  private final AtomicLong inflightBytes = new AtomicLong();
  private volatile boolean readerWaiting;
  /** Whether reads are served here now: not while they wait for the disk. */
  private final SlowReads slowReads = new SlowReads(System.nanoTime());
  /** Set for a paged export: its requests are served by the reader thread, headers read exactly. */
  private final PagedRequests paged;
  /** What this reader thread serves itself from one socket read; null for a paged export. */
  private final ReaderBatch batch;
  /** Plain writes are run by this thread (the export only journals them locally). */
  private final boolean writesHere;
  /** Reads are run by this thread (the export reads local files only). */
  private final boolean readsHere;

  Transmission(Wire wire, ServedExport export, Session session, ReadBuffers buffers, BooleanSupplier stopping) {
    this.wire = wire;
    this.buffers = buffers;
    this.export = export;
    this.session = session;
    this.structured = session.structuredReplies();
    this.stopping = stopping;
    this.paged = export.stack().paged().map(p -> new PagedRequests(wire, export, p, structured)).orElse(null);
    this.batch = paged == null ? new ReaderBatch(wire, export, structured, this::flushFor) : null;
    this.writesHere = batch != null && export.stack().writesOnCaller();
    this.readsHere = batch != null && export.stack().readsOnCaller();
  }

  /**
   * Serves requests until the client disconnects (NBD_CMD_DISC, or by closing) or the server
   * stops; then waits for the requests in flight, so that nothing of this connection still runs
   * when it returns.
   */
  void run() throws IOException {
    try {
      while (!stopping.getAsBoolean()) {
        if (in.remaining() < REQUEST_HEADER) {
          // Every request that arrived with the last read is parsed: the writes among them are
          // run now, together, before the buffer their payloads sit in is compacted.
          runWrites();
        }
        throttle();
        if (!fill(REQUEST_HEADER)) {
          break;
        }
        Request r;
        try {
          r = RequestCodec.parse(in);
        } catch (RequestCodec.BadMagicException e) {
          throw new IOException(e.getMessage() + ": closing the connection", e);
        }
        if (r.type() == CMD_DISC) {
          break;
        }
        Rejection rejection = RequestCodec.check(r, session);
        if (rejection != null) {
          runWrites();
          skip(r.payloadLength());
          wire.send(RequestCodec.error(r.handle(), rejection.error(), rejection.message(), structured));
          continue;
        }
        if (paged == null || !paged.serve(r, this::skip)) {
          dispatch(r);
        }
      }
      runWrites();
      if (stopping.getAsBoolean()) {
        refuseArrived();
      }
    } finally {
      drain();
    }
  }

  /**
   * The server is stopping: requests that have already arrived are answered ESHUTDOWN (as the
   * protocol recommends) instead of being left without a reply; nothing more is waited for.
   */
  private void refuseArrived() {
    try {
      while (true) {
        if (in.remaining() < REQUEST_HEADER) {
          in.compact();
          wire.readNow(in);
          in.flip();
          if (in.remaining() < REQUEST_HEADER) {
            return;
          }
        }
        Request r = RequestCodec.parse(in);
        if (r.type() == CMD_DISC || !skipArrived(r.payloadLength())) {
          return;
        }
        wire.send(RequestCodec.error(r.handle(), ESHUTDOWN, "the server is shutting down", structured));
      }
    } catch (IOException | RequestCodec.BadMagicException e) {
      // The connection closes now anyway.
    }
  }

  /** Skips a payload if all of it has arrived; false if the rest is still on its way. */
  private boolean skipArrived(long length) throws IOException {
    long left = length;
    while (left > 0) {
      if (!in.hasRemaining()) {
        in.clear();
        int n = wire.readNow(in);
        in.flip();
        if (n == 0) {
          return false;
        }
      }
      int n = (int) Math.min(left, in.remaining());
      in.position(in.position() + n);
      left -= n;
    }
    return true;
  }

  private void dispatch(Request r) throws IOException {
    if (r.type() == CMD_WRITE && writesHere) {
      int length = (int) r.length();
      if (length <= in.remaining() && !batch.isFull()) {
        // The payload is here already: it is written from the read buffer itself, no copy.
        batch.add(r, in.slice(in.position(), length), System.nanoTime());
        in.position(in.position() + length);
        return;
      }
      runWrites();
      ByteBuffer payload = batch.payloadBuffer(length);
      int ready = Math.min(in.remaining(), length);
      payload.put(in.slice(in.position(), ready));
      in.position(in.position() + ready);
      wire.readFully(payload, 0);
      batch.add(r, payload.flip(), System.nanoTime());
      runWrites(); // before the buffer is reused
      return;
    }
    // Tried here first: then the RAM tier was asked already (a RAM miss is counted once).
    boolean triedHere = r.type() == CMD_READ && batch != null && r.length() <= READ_HERE_MAX
        && slowReads.readHere(System.nanoTime());
    if (triedHere && readHere(r, !readsHere)) {
      return;
    }
    if (r.type() != CMD_READ) {
      // A flush, trim, zeroing or status query comes after the writes that arrived before it.
      runWrites();
    }
    ByteBuffer payload = null;
    if (r.type() == CMD_WRITE) {
      payload = ByteBuffer.allocate((int) r.length());
      int ready = Math.min(in.remaining(), payload.capacity());
      payload.put(in.slice().limit(ready));
      in.position(in.position() + ready);
      wire.readFully(payload, 0);
      payload.flip();
    }
    long bytes = r.type() == CMD_READ || r.type() == CMD_WRITE ? r.length() : 0;
    long start = System.nanoTime();
    inflight.incrementAndGet();
    inflightBytes.addAndGet(bytes);
    var stack = export.stack();
    switch (r.type()) {
      case CMD_READ -> {
        ByteBuffer data = buffers.take((int) r.length());
        if (!triedHere && stack.tryRead(r.offset(), data.duplicate())) {
          complete(r, bytes, start, null, data);
        } else {
          stack.submitRead(r.offset(), data).whenComplete((v, e) -> complete(r, bytes, start, e, data));
        }
      }
      case CMD_WRITE -> after(r, bytes, start, stack.submitWrite(r.offset(), payload, r.fua()));
      case CMD_FLUSH -> {
        if (stack.flushedAlready()) {
          complete(r, bytes, start, null, null); // nothing to wait for: not queued behind other FLUSHes
        } else {
          after(r, bytes, start, stack.submitFlush());
        }
      }
      case CMD_TRIM -> after(r, bytes, start, stack.submitDiscard(r.offset(), r.length(), false, r.fua()));
      case CMD_WRITE_ZEROES ->
          after(r, bytes, start, stack.submitDiscard(r.offset(), r.length(), r.has(CMD_FLAG_NO_HOLE), r.fua()));
      case CMD_BLOCK_STATUS -> blockStatus(r, start);
      default -> throw new IllegalStateException("unchecked command " + r.type());
    }
  }

  private void runWrites() {
    if (batch != null) {
      batch.run();
    }
  }

  /**
   * A read of local data, served by this thread; its reply goes out with the batch's. With
   * onlyIfLocal, an export whose reads are not all local is asked whether this one is (its bytes
   * in the journal or the local-disk tier), and false returned, nothing sent, if it is not.
   */
  private boolean readHere(Request r, boolean onlyIfLocal) {
    long start = System.nanoTime();
    ByteBuffer data = buffers.take((int) r.length());
    var stack = export.stack();
    Throwable failure = null;
    // A RAM hit is never slow: only what the reads below RAM take decides where reads run.
    if (!stack.tryRead(r.offset(), data.duplicate())) {
      try {
        if (!onlyIfLocal) {
          stack.readNow(r.offset(), data.duplicate());
        } else if (!stack.readIfLocal(r.offset(), data.duplicate())) {
          buffers.give(data);
          return false;
        }
      } catch (IOException | RuntimeException e) {
        failure = e;
      }
      if (slowReads.note(start, System.nanoTime() - start, r.length())) {
        export.meters().readsHandedOver();
      }
    }
    long took = System.nanoTime() - start;
    export.meters().completed(Kind.READ, r.length(), took, failure != null);
    if (failure == null) {
      batch.replyWith(RequestCodec.readReplyHeader(r.handle(), r.offset(), data.remaining(), structured), data);
    } else {
      buffers.give(data);
      batch.reply(NbdErrors.reply(r, failure, structured));
    }
    if (batch.heldBytes() >= ReaderBatch.MAX_HELD_BYTES) {
      runWrites(); // a burst of large reads is sent as it goes, not held whole
    }
    return true;
  }

  /** A FUA write of a batch is journaled: it is answered once a flush made it durable. */
  private void flushFor(Request r, long start) {
    inflight.incrementAndGet();
    inflightBytes.addAndGet(r.length());
    after(r, r.length(), start, export.stack().submitFlush());
  }

  private void after(Request r, long bytes, long start, CompletableFuture<Void> done) {
    done.whenComplete((v, e) -> complete(r, bytes, start, e, null));
  }

  /**
   * Answered from the mapping by the reader thread: it is memory only, nothing to queue. The
   * mapping is asked window by window, and only until the reply is full, so that a query over
   * gigabytes of a fragmented volume costs no more than the descriptors it returns.
   */
  private void blockStatus(Request r, long start) {
    Throwable failure = null;
    try {
      int wanted = r.has(CMD_FLAG_REQ_ONE) ? 1 : MAX_EXTENTS;
      List<Extent> extents = new ArrayList<>();
      long at = r.offset();
      long end = r.offset() + r.length();
      while (at < end && extents.size() <= wanted) {
        long window = Math.min(end - at, STATUS_WINDOW);
        extents.addAll(export.stack().extents(at, window));
        at += window;
      }
      wire.send(RequestCodec.blockStatus(r.handle(), r.offset(), r.length(), extents, r.has(CMD_FLAG_REQ_ONE)));
    } catch (IOException | RuntimeException e) {
      failure = e;
    }
    complete(r, 0, start, failure, null);
  }

  /**
   * Sends the reply of a finished request (unless blockStatus already did), counts it in the
   * export's meters, and frees its slot.
   */
  private void complete(Request r, long bytes, long start, Throwable failure, ByteBuffer data) {
    Kind kind = kindOf(r.type());
    if (kind != null) {
      export.meters().completed(kind, r.length(), System.nanoTime() - start, failure != null);
    }
    try {
      if (failure != null) {
        if (data != null) {
          buffers.give(data); // the read is over: nothing writes to it any more
        }
        wire.send(NbdErrors.reply(r, failure, structured));
      } else if (r.type() == CMD_READ) {
        ByteBuffer header = RequestCodec.readReplyHeader(r.handle(), r.offset(), data.remaining(), structured);
        wire.send(List.of(header, data), ReadBuffers.lent(data) ? List.of(data) : List.of());
      } else if (r.type() != CMD_BLOCK_STATUS) {
        wire.send(RequestCodec.done(r.handle(), structured));
      }
    } finally {
      inflight.decrementAndGet();
      inflightBytes.addAndGet(-bytes);
      if (readerWaiting) {
        wire.wakeup();
      }
    }
  }

  /** The kind a request is counted under; null for block status (memory only, not I/O). */
  private static Kind kindOf(int type) {
    return switch (type) {
      case CMD_READ -> Kind.READ;
      case CMD_WRITE -> Kind.WRITE;
      case CMD_FLUSH -> Kind.FLUSH;
      case CMD_TRIM -> Kind.TRIM;
      case CMD_WRITE_ZEROES -> Kind.ZERO;
      default -> null;
    };
  }

  /** Waits while this connection holds as much as it may; completions and the socket wake it. */
  private void throttle() throws IOException {
    while (overLimits()) {
      readerWaiting = true;
      try {
        if (overLimits()) { // checked again after announcing the wait, so no wakeup is missed
          wire.await(false, 0);
        }
      } finally {
        readerWaiting = false;
      }
    }
  }

  private boolean overLimits() {
    return inflight.get() >= MAX_INFLIGHT || inflightBytes.get() >= MAX_INFLIGHT_BYTES
        || wire.pendingBytes() >= MAX_QUEUED_OUTPUT;
  }

  /**
   * Makes at least n unread bytes available in {@code in}; false if the server stops first. For a
   * paged export exactly n are read, so that a payload after them stays in the socket for the
   * device's pages.
   */
  private boolean fill(int n) throws IOException {
    if (in.remaining() >= n) {
      return true;
    }
    in.compact();
    if (paged != null) {
      in.limit(n);
    }
    try {
      while (in.position() < n) {
        if (wire.readNow(in) == 0) {
          if (stopping.getAsBoolean()) {
            return false;
          }
          wire.await(true, 0);
        }
      }
    } finally {
      in.flip();
    }
    return true;
  }

  /** Reads and drops a payload this server refused, to stay in step with the client. */
  private void skip(long length) throws IOException {
    long left = length;
    while (left > 0) {
      if (!in.hasRemaining() && !fill((int) Math.min(left, in.capacity()))) {
        throw new IOException("the server is stopping");
      }
      int n = (int) Math.min(left, in.remaining());
      in.position(in.position() + n);
      left -= n;
    }
  }

  /** Waits for the requests in flight and for their replies to reach the socket (bounded). */
  private void drain() {
    long deadline = System.nanoTime() + DRAIN_TIMEOUT;
    try {
      while ((inflight.get() > 0 || wire.hasPending()) && System.nanoTime() < deadline) {
        readerWaiting = true;
        try {
          if (inflight.get() > 0 || wire.hasPending()) {
            wire.await(false, deadline);
          }
        } finally {
          readerWaiting = false;
        }
      }
    } catch (IOException clientGone) {
      // A client that is gone takes no replies, but its requests still finish before we return,
      // so that the export is never closed under them.
      while (inflight.get() > 0 && System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2));
      }
    }
  }
}
