package dev.remap.engine.journal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Retired journal files on their way out. The journal hands a file over when all its records are
 * in the store ({@link #add}, cheap, under the journal's lock); {@link #dispose}, outside that
 * lock, records durably how far files were retired ({@link RetiredNote}) and only then deletes
 * each file or keeps it as a spare for a later roll ({@link JournalSpares}).
 *
 * <p>Why the note first: a power cut may keep an unlink of records the store does not hold
 * durably yet (never flushed), and the next open must know they were retired.
 *
 * <p>Locking: its own monitor guards the files waiting; a leaf, taken under the journal's lock or
 * alone, with nothing locked under it. The note and the spares are file system calls made outside
 * every lock but the spares' own.
 */
final class JournalRetirement implements AutoCloseable {

  private final RetiredNote note;
  private final JournalSpares spares;
  private final long fileSize;
  private final long capacity;
  /** Taken out of the journal, not yet deleted or kept. */
  private final List<JournalFile> waiting = new ArrayList<>();

  JournalRetirement(RetiredNote note, JournalSpares spares, long fileSize, long capacity) {
    this.note = note;
    this.spares = spares;
    this.fileSize = fileSize;
    this.capacity = capacity;
  }

  /** A spare for the next roll to write over, or null when there is none. */
  Path takeSpare() {
    return spares.take();
  }

  synchronized void add(JournalFile file) {
    waiting.add(file);
  }

  /** The files waiting, handed to the caller to {@link #dispose} of. */
  synchronized List<JournalFile> take() {
    List<JournalFile> taken = new ArrayList<>(waiting);
    waiting.clear();
    return taken;
  }

  /**
   * Records gone as retired, durably, then deletes each file or keeps it as a spare (liveFiles
   * still hold records: live files and spares together stay within the capacity), and hands the
   * bytes they held to freed. If the note cannot be written nothing is deleted or freed and the
   * files wait for the next call; if a file cannot be deleted the others still go, their space is
   * freed, and the first failure is thrown.
   */
  void dispose(List<JournalFile> gone, int liveFiles, LongConsumer freed) throws IOException {
    if (gone.isEmpty()) {
      return;
    }
    long newest = 0;
    for (JournalFile file : gone) {
      newest = Math.max(newest, file.lastSeq());
    }
    try {
      note.advance(newest);
    } catch (IOException e) {
      synchronized (this) {
        waiting.addAll(gone); // the next retirement tries again
      }
      throw e;
    }
    IOException failed = null;
    try {
      spares.keepOrDelete(gone, liveFiles, fileSize, capacity);
    } catch (IOException e) {
      failed = e;
    }
    long bytes = 0;
    for (JournalFile file : gone) {
      bytes += file.size();
    }
    freed.accept(bytes);
    if (failed != null) {
      throw failed;
    }
  }

  @Override
  public void close() throws IOException {
    note.close();
  }
}
