package dev.remap.csi.node;

import static dev.remap.csi.node.ProxyWire.*;
import static dev.remap.engine.nbd.NbdProtocol.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One client connection of the {@link ReconnectingProxy} in its transmission phase, with its own
 * connection to the engine. Requests go through at full queue depth: the client's reader thread
 * forwards each one (header and write payload) as it arrives and keeps it in an in-flight table in
 * arrival order; a reader thread of the engine connection matches each simple reply by cookie
 * (a read's payload length comes from the table) and writes it to the client. Replies are passed
 * on as they are, errors included: only a lost connection is the proxy's business. The one
 * exception is ESHUTDOWN, which is not about the request but the protocol's "this server is going
 * away, try again on another connection" (the engine answers it to requests that arrive while it
 * stops): it is taken as the loss of the connection, and the request is sent again.
 *
 * <p>When the engine connection is lost, the requests in the table are still owed to the client.
 * The proxy reconnects once a second, up to {@link LoopAttacher#RECONNECT_ATTEMPTS} times, checks
 * that the export is still the one the client negotiated, and sends every request in the table
 * again, in arrival order; requests arriving meanwhile wait. Sending a request twice is safe: a
 * request is in the table only while unanswered, and a client does not have two overlapping
 * writes in flight, so a write the engine did apply before the loss is applied again with the
 * same data. When the attempts run out, what is in flight is answered EIO, and so are the
 * requests that waited meanwhile; the next request starts another round of attempts.
 *
 * <p>Write payloads stay in memory until answered, for resending; the proxy bounds them all
 * together ({@link ReconnectingProxy#holdPayload}): a client's reader waits before forwarding more.
 *
 * <p>Locking. {@code sendLock} orders everything written to the engine: a forwarded request, or a
 * reconnect with its resends (held for the whole reconnect, so new requests wait behind it).
 * {@code state} guards the engine channel, the table and the counters; it is taken inside
 * {@code sendLock}, never the other way round, and no I/O happens while holding it (a reply
 * reader blocked on it while the engine waits for its replies to be read would deadlock the
 * forwarding writer). {@code clientWrite} serialises replies to the client and is taken alone.
 * A reply is only taken from the table by the reader of the current engine channel (checked in
 * the same {@code state} block), and a reconnect copies the table in the block that installs the
 * new channel: so a request is either answered once or sent again, never both.
 */
final class ProxiedConnection {

  private record Request(long cookie, int type, long length, ByteBuffer bytes) {
    long payload() {
      return type == CMD_WRITE ? length : 0;
    }
  }

  private final ReconnectingProxy proxy;
  private final SocketChannel client;
  private final String peer;
  private final boolean readOnly;
  private final ReentrantLock sendLock = new ReentrantLock();
  private final Object state = new Object();
  private final Object clientWrite = new Object();
  // Guarded by state:
  private SocketChannel upstream;
  private final LinkedHashMap<Long, Request> inFlight = new LinkedHashMap<>();
  private int replying;
  private boolean closed;
  private int peak;
  private long requests;
  /** When (System.nanoTime) the last round of reconnect attempts ran out, if one did. */
  private java.util.OptionalLong gaveUp = java.util.OptionalLong.empty();

  ProxiedConnection(ReconnectingProxy proxy, SocketChannel client, String peer, boolean readOnly) {
    this.proxy = proxy;
    this.client = client;
    this.peer = peer;
    this.readOnly = readOnly;
  }

  /** Serves the client until it disconnects; link is the engine connection to start with, if any. */
  void serve(EngineLink link) {
    if (link != null) {
      synchronized (state) {
        upstream = link.channel();
      }
      startReader(link.channel());
    }
    try {
      readRequests();
    } catch (java.io.EOFException e) {
      // The client hung up without NBD_CMD_DISC (nbdfuse at unmount): a normal end, logged by close().
    } catch (IOException e) {
      if (!isClosed()) {
        ReconnectingProxy.log(peer + ": client connection ended: " + e.getMessage());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      close();
    }
  }

  private void readRequests() throws IOException, InterruptedException {
    while (true) {
      ByteBuffer header = read(client, REQUEST_HEADER);
      int magic = header.getInt();
      header.getShort(); // command flags: passed on as the client sent them
      int type = Short.toUnsignedInt(header.getShort());
      long cookie = header.getLong();
      header.getLong(); // offset: the engine checks it
      long length = Integer.toUnsignedLong(header.getInt());
      if (magic != REQUEST_MAGIC) {
        ReconnectingProxy.log(peer + ": request magic 0x" + Integer.toHexString(magic) + " is wrong; closing");
        return;
      }
      if (type == CMD_DISC) {
        disconnect(header.rewind());
        return;
      }
      if ((type == CMD_READ || type == CMD_WRITE) && length > MAX_PAYLOAD) {
        if (type == CMD_WRITE) {
          ReconnectingProxy.log(peer + ": a write of " + length + " bytes exceeds the block size limit; closing");
          return; // its payload cannot be skipped safely
        }
        reply(simpleReply(cookie, EINVAL), null);
        continue;
      }
      long payload = type == CMD_WRITE ? length : 0;
      ByteBuffer bytes = ByteBuffer.allocate(REQUEST_HEADER + (int) payload).put(header.rewind());
      readFully(client, bytes);
      boolean changes = type == CMD_WRITE || type == 4 /* TRIM */ || type == 6 /* WRITE_ZEROES */;
      if (readOnly && changes) {
        reply(simpleReply(cookie, EPERM), null);
        continue;
      }
      forward(new Request(cookie, type, length, bytes));
    }
  }

  private void forward(Request r) throws IOException, InterruptedException {
    long arrived = System.nanoTime();
    proxy.holdPayload(r.payload());
    synchronized (state) {
      String refusal = closed ? "connection closed" : inFlight.containsKey(r.cookie())
          ? "the client reused cookie " + r.cookie() + " of a request still in flight" : null;
      if (refusal != null) {
        proxy.releasePayload(r.payload());
        throw new IOException(refusal);
      }
    }
    sendLock.lock();
    try {
      SocketChannel channel;
      boolean sameOutage;
      synchronized (state) {
        // A request that waited behind a round of attempts that failed belongs to the same
        // outage: it fails as that round's requests did instead of waiting through a round of its own.
        sameOutage = upstream == null && gaveUp.isPresent() && gaveUp.getAsLong() - arrived > 0;
        if (sameOutage) {
          channel = null;
        } else {
          inFlight.put(r.cookie(), r);
          requests++;
          peak = Math.max(peak, inFlight.size());
          channel = upstream;
        }
      }
      if (sameOutage) {
        proxy.releasePayload(r.payload());
        reply(simpleReply(r.cookie(), EIO), null);
        return;
      }
      proxy.inFlight(1);
      if (channel != null) {
        try {
          writeFully(channel, r.bytes().duplicate().rewind());
          return;
        } catch (IOException e) {
          drop(channel);
        }
      }
      reconnect(); // sends r again with everything else in flight
    } finally {
      sendLock.unlock();
    }
  }

  private void startReader(SocketChannel channel) {
    Thread reader = new Thread(() -> readReplies(channel), "engine-replies-" + peer);
    reader.setDaemon(true);
    reader.start();
  }

  private void readReplies(SocketChannel channel) {
    ByteBuffer header = ByteBuffer.allocate(SIMPLE_REPLY_HEADER);
    try {
      while (true) {
        readFully(channel, header.clear());
        int magic = header.getInt();
        int error = header.getInt();
        long cookie = header.getLong();
        Request r;
        synchronized (state) {
          r = inFlight.get(cookie);
        }
        if (magic != SIMPLE_REPLY_MAGIC || r == null) {
          throw new IOException("the engine's reply stream is out of step (magic 0x" + Integer.toHexString(magic)
              + ", cookie " + cookie + ")");
        }
        if (error == ESHUTDOWN) {
          throw new IOException("the engine is shutting down");
        }
        ByteBuffer data = r.type() == CMD_READ && error == 0 ? read(channel, (int) r.length()) : null;
        synchronized (state) {
          if (upstream != channel) {
            return; // dropped meanwhile: the request is sent again on the new channel
          }
          inFlight.remove(cookie);
          replying++;
          state.notifyAll();
        }
        proxy.inFlight(-1);
        proxy.releasePayload(r.payload());
        try {
          reply(header.rewind(), data);
        } finally {
          synchronized (state) {
            replying--;
            state.notifyAll();
          }
        }
      }
    } catch (IOException e) {
      lost(channel, e);
    }
  }

  /** A reply to the client; a failure to write it ends the connection (the client is gone). */
  private void reply(ByteBuffer header, ByteBuffer data) throws IOException {
    try {
      synchronized (clientWrite) {
        if (data == null) {
          writeFully(client, header);
        } else {
          writeFully(client, header, data);
        }
      }
    } catch (IOException e) {
      close();
      throw e;
    }
  }

  /** The engine connection failed; reconnects now when requests are owed, else at the next one. */
  private void lost(SocketChannel channel, IOException cause) {
    int owed;
    synchronized (state) {
      if (closed || upstream != channel) {
        return; // closing, or already dropped by the writer and taken care of
      }
      upstream = null;
      owed = inFlight.size();
    }
    close(channel);
    ReconnectingProxy.log(peer + ": engine connection lost (" + cause.getMessage() + "), " + owed
        + " requests in flight");
    sendLock.lock();
    try {
      synchronized (state) {
        if (closed || upstream != null || inFlight.isEmpty()) {
          return;
        }
      }
      reconnect();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      sendLock.unlock();
    }
  }

  private void drop(SocketChannel channel) {
    synchronized (state) {
      if (upstream == channel) {
        upstream = null;
      }
    }
    close(channel);
  }

  /** Called with sendLock held and no engine channel: reconnects and resends, or fails what is owed. */
  private void reconnect() throws InterruptedException {
    for (int attempt = 1; attempt <= LoopAttacher.RECONNECT_ATTEMPTS; attempt++) {
      if (isClosed()) {
        return;
      }
      EngineLink link = null;
      try {
        link = EngineLink.open(proxy.engine(), proxy.export());
        if (!EngineLink.compatible(proxy.engineSize(), proxy.engineFlags(), link)) {
          throw new IOException("export '" + proxy.export() + "' changed: size " + link.size() + ", flags 0x"
              + Integer.toHexString(link.flags()) + " where the client negotiated size " + proxy.engineSize()
              + ", flags 0x" + Integer.toHexString(proxy.engineFlags()));
        }
        List<Request> pending;
        synchronized (state) {
          upstream = link.channel();
          pending = new ArrayList<>(inFlight.values());
        }
        startReader(link.channel());
        for (Request r : pending) {
          writeFully(link.channel(), r.bytes().duplicate().rewind());
        }
        int tries = attempt;
        ReconnectingProxy.log(peer + ": reconnected to the engine" + (tries > 1 ? " after " + tries + " attempts" : "")
            + ", sent " + pending.size() + " requests again");
        return;
      } catch (IOException e) {
        if (link != null) {
          drop(link.channel());
        }
        if (attempt == 1 || attempt % 30 == 0) {
          ReconnectingProxy.log(peer + ": reconnect attempt " + attempt + " of " + LoopAttacher.RECONNECT_ATTEMPTS
              + " failed: " + e.getMessage());
        }
      }
      if (attempt < LoopAttacher.RECONNECT_ATTEMPTS) {
        Thread.sleep(1000);
      }
    }
    failInFlight();
  }

  /** The engine did not come back in time: what is owed is answered EIO (the device's I/O error). */
  private void failInFlight() {
    List<Request> failed;
    synchronized (state) {
      failed = new ArrayList<>(inFlight.values());
      gaveUp = java.util.OptionalLong.of(System.nanoTime());
      inFlight.clear();
      replying++;
      state.notifyAll();
    }
    proxy.inFlight(-failed.size());
    failed.forEach(r -> proxy.releasePayload(r.payload()));
    ReconnectingProxy.log(peer + ": the engine did not come back after " + LoopAttacher.RECONNECT_ATTEMPTS
        + " attempts; answering " + failed.size() + " requests with EIO");
    try {
      for (Request r : failed) {
        reply(simpleReply(r.cookie(), EIO), null);
      }
    } catch (IOException e) {
      // The client is gone too; close() has run.
    } finally {
      synchronized (state) {
        replying--;
        state.notifyAll();
      }
    }
  }

  /** NBD_CMD_DISC: everything in flight is answered first, as the protocol asks, then both ends close. */
  private void disconnect(ByteBuffer header) throws InterruptedException {
    synchronized (state) {
      while (!closed && (!inFlight.isEmpty() || replying > 0)) {
        state.wait();
      }
    }
    sendLock.lock();
    try {
      SocketChannel channel;
      synchronized (state) {
        channel = upstream;
      }
      if (channel != null) {
        writeFully(channel, header);
      }
    } catch (IOException e) {
      // The engine went away at the same time; nothing is owed to anyone.
    } finally {
      sendLock.unlock();
    }
  }

  private boolean isClosed() {
    synchronized (state) {
      return closed;
    }
  }

  /** Ends both connections (once); requests still in flight are dropped with the client. */
  void close() {
    SocketChannel channel;
    List<Request> dropped;
    long total;
    int most;
    synchronized (state) {
      if (closed) {
        return;
      }
      closed = true;
      channel = upstream;
      upstream = null;
      dropped = new ArrayList<>(inFlight.values());
      inFlight.clear();
      total = requests;
      most = peak;
      state.notifyAll();
    }
    proxy.inFlight(-dropped.size());
    dropped.forEach(r -> proxy.releasePayload(r.payload()));
    if (channel != null) {
      close(channel);
    }
    close(client);
    ReconnectingProxy.log(peer + ": closed after " + total + " requests, at most " + most + " in flight upstream");
    proxy.ended(this);
  }

  private static void close(SocketChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // Dropping it either way.
    }
  }
}
