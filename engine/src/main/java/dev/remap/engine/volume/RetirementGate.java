package dev.remap.engine.volume;

/**
 * How far the journal may be retired, on a store that writes segments lazily: durable only when
 * asked. Records a client's FLUSH (or FUA) covered stay in the journal until a barrier made the
 * segments holding them durable; records no FLUSH covered may leave as soon as segments hold
 * them, synced or not — a power cut may then lose them, as it may lose any write a plain file
 * holds in the page cache, and nothing of them is fsynced unless someone asks. A FLUSH that comes
 * after such records left the journal first has a barrier make their segments durable
 * ({@link #flushing}), since it covers them too.
 *
 * <p>Retirement goes by prefix: while a FLUSH covered records the barriers have not reached, the
 * journal waits for the next barrier, as before; once the barriers caught up with every FLUSH,
 * it may go up to what segments hold.
 *
 * <p>Locking: its monitor guards both numbers; a leaf (no other lock is taken under it). The
 * decision to retire lazily and a FLUSH's check are each made under it, so one always sees the
 * other: either the FLUSH came first and nothing it covers is retired lazily, or the retirement
 * came first and the FLUSH sees it and asks for a barrier.
 */
final class RetirementGate {

  /** The newest record a client's FLUSH covered. */
  private long flushedSeq;
  /** The newest record retired before a barrier made the segments holding it durable. */
  private long lazilyRetiredSeq;

  /**
   * A FLUSH covering records up to seq starts (before it syncs the journal). Returns the record a
   * barrier must have made durable before the FLUSH may answer, or 0 when none is needed.
   *
   * @param durableSeq how far segments are durable now
   */
  synchronized long flushing(long seq, long durableSeq) {
    flushedSeq = Math.max(flushedSeq, seq);
    return seq > durableSeq && lazilyRetiredSeq > durableSeq ? lazilyRetiredSeq : 0;
  }

  /**
   * How far the journal may be retired now (upload thread): up to what segments hold when every
   * FLUSH is covered by durable segments, else up to the durable ones only.
   *
   * @param durableSeq how far segments are durable
   * @param writtenSeq how far segments (synced or not) hold the journal's records
   */
  synchronized long retirable(long durableSeq, long writtenSeq) {
    if (flushedSeq > durableSeq || writtenSeq <= durableSeq) {
      return durableSeq;
    }
    lazilyRetiredSeq = Math.max(lazilyRetiredSeq, writtenSeq);
    return writtenSeq;
  }

  /** Whether a FLUSH covered records no barrier has made durable: then they hold the journal. */
  synchronized boolean flushWaits(long durableSeq) {
    return flushedSeq > durableSeq;
  }
}
