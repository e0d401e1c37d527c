package dev.remap.engine.nbd;

import static dev.remap.engine.nbd.NbdProtocol.*;

import dev.remap.engine.block.PagedDevice;
import dev.remap.engine.core.RequestMerger.Kind;
import dev.remap.engine.nbd.RequestCodec.Request;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Requests to a paged export (a swap disk), served on the connection's reader thread without a
 * copy of any payload: a WRITE's payload is read from the socket straight into the pages the
 * device hands out, which then become the disk's pages; a READ's reply is one gathered write of
 * its header and views of the pages that hold the data. There is no queue and no worker:
 * everything is memory (a spilled page is one local read), and handing a request to another
 * thread would cost more than serving it.
 *
 * <p>The connection reads request headers exactly (never past a header), so that no payload ever
 * lands in the connection's read-ahead buffer first ({@link Transmission}).
 */
final class PagedRequests {

  /** Reads and drops a payload the device could not take, to stay in step with the client. */
  @FunctionalInterface
  interface Skip {
    void skip(long length) throws IOException;
  }

  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  private final Wire wire;
  private final ServedExport export;
  private final PagedDevice paged;
  private final boolean structured;

  PagedRequests(Wire wire, ServedExport export, PagedDevice paged, boolean structured) {
    this.wire = wire;
    this.export = export;
    this.paged = paged;
    this.structured = structured;
  }

  /** Serves r if it is a command of the data path; false for the others (block status). */
  boolean serve(Request r, Skip skip) throws IOException {
    long start = System.nanoTime();
    Throwable failure = null;
    Kind kind;
    switch (r.type()) {
      case CMD_WRITE -> {
        kind = Kind.WRITE;
        failure = write(r, skip);
      }
      case CMD_READ -> {
        kind = Kind.READ;
        failure = read(r);
      }
      case CMD_TRIM, CMD_WRITE_ZEROES -> {
        kind = r.type() == CMD_TRIM ? Kind.TRIM : Kind.ZERO;
        failure = discard(r);
      }
      case CMD_FLUSH -> {
        kind = Kind.FLUSH;
        failure = run(paged::flush);
      }
      default -> {
        return false;
      }
    }
    export.meters().completed(kind, r.length(), System.nanoTime() - start, failure != null);
    if (failure != null) {
      wire.send(NbdErrors.reply(r, failure, structured));
    } else if (r.type() != CMD_READ) {
      wire.send(RequestCodec.done(r.handle(), structured));
    }
    return true;
  }

  /**
   * Null on success, the failure otherwise; an IOException of the socket ends the connection. A
   * request larger than the device takes at once is served piece by piece, at page boundaries
   * (a failed write may have changed part of its range, as NBD allows).
   */
  private Throwable write(Request r, Skip skip) throws IOException {
    long end = r.offset() + r.length();
    int max = paged.maxRequest();
    for (long at = r.offset(); at < end; ) {
      long to = PagedDevice.pieceEnd(at, end, max, paged.blockSize());
      PagedDevice.Incoming in;
      try {
        in = paged.receive(at, (int) (to - at));
      } catch (IOException | RuntimeException e) {
        skip.skip(end - at);
        return e;
      }
      try {
        wire.readFully(in.buffers(), 0);
      } catch (IOException | RuntimeException e) {
        in.abandon();
        throw e;
      }
      if (wire.transportCopies()) {
        paged.copied(to - at);
      }
      try {
        in.commit();
      } catch (IOException | RuntimeException e) {
        skip.skip(end - to);
        return e;
      }
      at = to;
    }
    return null;
  }

  /**
   * The reply goes out piece by piece, each straight from its pages. A piece that fails after the
   * header went out cannot be reported any more (the client counts on the data): the connection ends.
   */
  private Throwable read(Request r) throws IOException {
    long end = r.offset() + r.length();
    int max = paged.maxRequest();
    ByteBuffer header = RequestCodec.readReplyHeader(r.handle(), r.offset(), (int) r.length(), structured);
    for (long at = r.offset(); at < end; ) {
      long to = PagedDevice.pieceEnd(at, end, max, paged.blockSize());
      PagedDevice.Outgoing out;
      try {
        out = paged.send(at, (int) (to - at));
      } catch (IOException | RuntimeException e) {
        if (at == r.offset()) {
          return e;
        }
        throw new IOException("reading " + commandName(r.type()) + " data failed after its reply began: " + e, e);
      }
      try (out) {
        wire.sendFrom(header, out.buffers());
      }
      if (wire.transportCopies()) {
        paged.copied(to - at);
      }
      header = EMPTY;
      at = to;
    }
    return null;
  }

  private Throwable discard(Request r) {
    return run(() -> {
      if (r.type() == CMD_TRIM) {
        paged.trim(r.offset(), r.length(), r.fua());
      } else {
        paged.writeZeroes(r.offset(), r.length(), r.has(CMD_FLAG_NO_HOLE), r.fua());
      }
    });
  }

  private interface Action {
    void run() throws IOException;
  }

  private static Throwable run(Action action) {
    try {
      action.run();
      return null;
    } catch (IOException | RuntimeException e) {
      return e;
    }
  }
}
