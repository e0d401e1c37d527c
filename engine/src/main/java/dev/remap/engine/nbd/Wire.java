package dev.remap.engine.nbd;

import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One connection's socket, non-blocking, with the two disciplines NBD needs: the reader thread
 * waits for input (and meanwhile pushes out queued output), and any thread may send a reply
 * without ever blocking.
 *
 * <p>Why non-blocking: replies are sent by the transfer workers that complete requests, and the
 * workers are shared by every connection to an export. A client that stops reading its replies
 * must not be able to park a worker on a full socket: {@link #send} writes what the socket takes
 * and queues the rest, which the reader thread writes once the socket drains. The reader stops
 * taking new requests while too much is queued, so the queue is bounded.
 *
 * <p>Locking: {@code out} guards {@code pending}, {@code lent} and every write to the transport,
 * which keeps each reply contiguous on the wire; lent buffers are given back under it. Only the
 * reader thread reads, selects and closes.
 */
final class Wire implements Closeable {

  /**
   * Output goes through one direct buffer: the JDK would otherwise copy each heap buffer whole
   * into a temporary direct buffer on every write attempt, which on a full socket (Unix sockets
   * hold ~200 KiB) copies a 1 MiB reply again and again. Staging copies each byte once and lets
   * one write carry many small replies. Large direct buffers (pooled read data) skip it: they are
   * written in place, gathered with what is staged before them.
   */
  private static final int STAGING = 256 << 10;
  /** A direct buffer with at least this much left is written in place, not staged. */
  private static final int IN_PLACE_MIN = 64 << 10;

  private Transport transport;
  private final Selector selector;
  private final SelectionKey key;
  private final ReentrantLock out = new ReentrantLock();
  private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
  private final ByteBuffer staging = ByteBuffer.allocateDirect(STAGING).flip();
  private final ByteBuffer[] stagingArray = {staging};
  private final ByteBuffer[] withInPlace = new ByteBuffer[2];
  /** Queued buffers lent by their owner, given back to it once written or dropped (by identity). */
  private final IdentityHashMap<ByteBuffer, Boolean> lent = new IdentityHashMap<>();
  private final Consumer<ByteBuffer> giveBack;
  private volatile long pendingBytes;
  private volatile boolean transportHolds;
  private volatile boolean broken;

  /** A wire whose lent buffers (see {@link #send(List, List)}) go back through giveBack. */
  Wire(SocketChannel channel, Consumer<ByteBuffer> giveBack) throws IOException {
    this.giveBack = giveBack;
    channel.configureBlocking(false);
    this.transport = Transport.plain(channel);
    this.selector = Selector.open();
    this.key = channel.register(selector, 0);
  }

  SocketChannel channel() {
    return transport.channel();
  }

  /** Replaces the transport (STARTTLS); reader thread only, with no output queued. */
  void upgrade(Transport upgraded) {
    out.lock();
    try {
      transport = upgraded;
    } finally {
      out.unlock();
    }
  }

  /** Reads what is there now; 0 when nothing is. Reader thread only. */
  int readNow(ByteBuffer dst) throws IOException {
    int n = transport.read(dst);
    if (n < 0) {
      throw new EOFException("the client closed the connection");
    }
    return n;
  }

  /** Fills dst, waiting as long as it takes (deadline in System.nanoTime, or 0 for none). */
  void readFully(ByteBuffer dst, long deadline) throws IOException {
    while (dst.hasRemaining()) {
      if (readNow(dst) == 0) {
        await(true, deadline);
      }
    }
  }

  /**
   * Fills every buffer of dsts in order, straight from the socket (one scatter read per wakeup
   * on a plain socket), waiting as long as it takes. Reader thread only.
   */
  void readFully(ByteBuffer[] dsts, long deadline) throws IOException {
    int first = 0;
    while (first < dsts.length) {
      if (!dsts[first].hasRemaining()) {
        first++;
        continue;
      }
      long n = transport.read(first == 0 ? dsts : java.util.Arrays.copyOfRange(dsts, first, dsts.length));
      if (n < 0) {
        throw new EOFException("the client closed the connection");
      }
      if (n == 0) {
        await(true, deadline);
      }
    }
  }

  /** Whether payloads pass through the transport's own buffers (TLS), not straight to the socket. */
  boolean transportCopies() {
    return transport.copies();
  }

  /**
   * Sends a reply straight from views of memory the caller frees when this returns (a paged
   * device's pages): one gathered write when the socket takes it all, else it waits on the socket
   * until it has, so that nothing is copied into the queue. Replies queued before it go first.
   * Reader thread only (it owns the selector); a client that stops reading stops this
   * connection's reader, as a full queue would.
   */
  void sendFrom(ByteBuffer header, ByteBuffer[] payload) throws IOException {
    ByteBuffer[] parts = new ByteBuffer[payload.length + 1];
    parts[0] = header;
    System.arraycopy(payload, 0, parts, 1, payload.length);
    while (hasPending()) {
      await(false, 0);
    }
    while (true) {
      boolean done;
      out.lock();
      try {
        if (broken) {
          throw new EOFException("the client stopped taking replies");
        }
        try {
          if (transport.flush()) {
            transport.write(parts);
          }
          done = !parts[parts.length - 1].hasRemaining() && transport.flush();
        } catch (IOException e) {
          failLocked();
          throw e;
        }
      } finally {
        out.unlock();
      }
      if (done) {
        return;
      }
      key.interestOps(SelectionKey.OP_WRITE);
      selector.select();
      selector.selectedKeys().clear();
    }
  }

  /**
   * Waits until input may be read (if wantInput) or someone calls {@link #wakeup}, writing
   * queued output whenever the socket takes it. Reader thread only.
   */
  void await(boolean wantInput, long deadline) throws IOException {
    if (wantInput && transport.hasBufferedInput()) {
      return;
    }
    int ops = (wantInput ? SelectionKey.OP_READ : 0) | (hasPending() ? SelectionKey.OP_WRITE : 0);
    key.interestOps(ops);
    long timeout = 0; // select(0) waits without a limit
    if (deadline != 0) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new SocketTimeoutException("the client sent nothing in time");
      }
      timeout = Math.max(1, TimeUnit.NANOSECONDS.toMillis(left));
    }
    selector.select(timeout);
    selector.selectedKeys().clear();
    if (hasPending()) {
      flushPending();
    }
    if (broken) {
      throw new EOFException("the client stopped taking replies");
    }
  }

  /** Waits for the raw socket to be ready for ops (the TLS handshake). Reader thread only. */
  void awaitSocket(int ops, long deadline) throws IOException {
    key.interestOps(ops);
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new SocketTimeoutException("the TLS handshake took too long");
    }
    selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
    selector.selectedKeys().clear();
  }

  /** Wakes the reader thread from {@link #await}. Any thread. */
  void wakeup() {
    selector.wakeup();
  }

  /** True while replies wait to be written (queued here or held by the transport). */
  boolean hasPending() {
    return pendingBytes > 0 || transportHolds;
  }

  long pendingBytes() {
    return pendingBytes;
  }

  /**
   * Sends one message (its parts in order, contiguous on the wire) without blocking: what the
   * socket does not take now is queued for the reader thread. A message to a connection that has
   * failed is dropped: its client is gone. Any thread; the buffers must not change afterwards.
   */
  void send(ByteBuffer... parts) {
    send(parts, List.of());
  }

  void send(List<ByteBuffer> parts) {
    send(parts.toArray(ByteBuffer[]::new), List.of());
  }

  /**
   * The same as {@link #send(List)}, and the buffers in lent (some of the parts) go back to the
   * wire's owner once the socket has taken them, or at once when they are dropped unsent.
   */
  void send(List<ByteBuffer> parts, List<ByteBuffer> lentParts) {
    send(parts.toArray(ByteBuffer[]::new), lentParts);
  }

  private void send(ByteBuffer[] parts, List<ByteBuffer> lentParts) {
    boolean left;
    out.lock();
    try {
      if (broken) {
        lentParts.forEach(giveBack);
        return;
      }
      for (ByteBuffer b : lentParts) {
        if (b.hasRemaining()) {
          lent.put(b, Boolean.TRUE);
        } else {
          giveBack.accept(b); // not queued, so never taken from the queue
        }
      }
      for (ByteBuffer part : parts) {
        if (part.hasRemaining()) {
          pending.add(part);
          pendingBytes += part.remaining();
        }
      }
      left = !flushLocked();
    } finally {
      out.unlock();
    }
    if (left) {
      selector.wakeup();
    }
  }

  /** Sends the messages and waits until the socket has taken them (the option phase). */
  void sendAndDrain(List<ByteBuffer> messages, long deadline) throws IOException {
    send(messages);
    while (hasPending() && !broken) {
      await(false, deadline);
    }
    if (broken) {
      throw new EOFException("the client closed the connection");
    }
  }

  private void flushPending() {
    out.lock();
    try {
      flushLocked();
    } finally {
      out.unlock();
    }
  }

  /**
   * Moves queued bytes into the empty staging buffer, up to a queued buffer that is written in
   * place.
   */
  private void stage() {
    staging.clear();
    while (staging.hasRemaining() && !pending.isEmpty() && !inPlace(pending.peekFirst())) {
      ByteBuffer head = pending.peekFirst();
      int n = Math.min(head.remaining(), staging.remaining());
      staging.put(staging.position(), head, head.position(), n);
      staging.position(staging.position() + n);
      head.position(head.position() + n);
      if (!head.hasRemaining()) {
        taken(pending.removeFirst());
      }
    }
    staging.flip();
  }

  private static boolean inPlace(ByteBuffer b) {
    return b.isDirect() && b.remaining() >= IN_PLACE_MIN;
  }

  /** A queued buffer the socket has taken whole: given back if it was lent. */
  private void taken(ByteBuffer b) {
    if (!lent.isEmpty() && lent.remove(b) != null) {
      giveBack.accept(b);
    }
  }

  /** Writes queued output while the socket takes it; true when nothing is left. */
  private boolean flushLocked() {
    try {
      transportHolds = !transport.flush();
      if (transportHolds) {
        return false;
      }
      while (true) {
        if (!staging.hasRemaining()) {
          stage();
        }
        // After stage(), the queue is empty or its head is written in place (or staging is full).
        ByteBuffer head = pending.peekFirst();
        boolean withHead = head != null && inPlace(head);
        if (!staging.hasRemaining() && !withHead) {
          break;
        }
        if (withHead) {
          withInPlace[0] = staging;
          withInPlace[1] = head;
          pendingBytes -= transport.write(withInPlace);
          withInPlace[1] = null;
          if (!head.hasRemaining()) {
            taken(pending.removeFirst());
          }
        } else {
          pendingBytes -= transport.write(stagingArray);
        }
        if (staging.hasRemaining() || (withHead && head.hasRemaining())) {
          return false; // the socket is full: the reader thread goes on when it drains
        }
      }
      transportHolds = !transport.flush();
      return !transportHolds;
    } catch (IOException e) {
      failLocked();
      return true;
    }
  }

  /** The client is gone (EPIPE, reset): nothing queued can reach it any more. */
  private void failLocked() {
    broken = true;
    dropQueued();
    transportHolds = false;
  }

  /** Drops what is queued, lent buffers given back. Under {@code out}. */
  private void dropQueued() {
    pending.clear();
    lent.keySet().forEach(giveBack);
    lent.clear();
    staging.clear().flip();
    pendingBytes = 0;
  }

  boolean isBroken() {
    return broken;
  }

  /** Closes the socket. Reader thread only (it owns the selector). */
  @Override
  public void close() throws IOException {
    out.lock();
    try {
      broken = true;
      dropQueued();
    } finally {
      out.unlock();
    }
    try {
      transport.close();
    } finally {
      selector.close();
    }
  }
}
