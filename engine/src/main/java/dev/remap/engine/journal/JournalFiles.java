package dev.remap.engine.journal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The journal's files that still hold records, in sequence order (a file's name is the first
 * sequence number it holds), the one appends go to, and what no sync forced yet among them.
 *
 * <p>Locking: none of its own. The journal's lock guards it: every method is called under that
 * lock. Only {@link #roll} and {@link #closeAll} make file system calls.
 */
final class JournalFiles {

  private final Path dir;
  private final TreeMap<String, JournalFile> files = new TreeMap<>();
  /** Where appends go; null before the first roll and after everything was retired. */
  private JournalFile current;
  /** A file was created since the last sync: the directory entry is not durable yet. */
  private boolean directoryDirty;

  JournalFiles(Path dir, List<JournalFile> recovered) {
    this.dir = dir;
    for (JournalFile file : recovered) {
      files.put(file.name(), file);
    }
    if (!files.isEmpty() && !files.lastEntry().getValue().adopted()) {
      // An adopted file is never written again (segments map its bytes): the next append rolls.
      current = files.lastEntry().getValue();
    }
  }

  /** The file appends go to, or null when the next append must roll first. */
  JournalFile current() {
    return current;
  }

  /**
   * Ends the current file at its size and makes the next one, named firstSeq, written over spare
   * when one is given (a retired file kept by {@link JournalSpares}), created otherwise.
   */
  JournalFile roll(long firstSeq, Path spare) throws IOException {
    // The previous file stays dirty and the new directory entry unsynced: the next sync makes
    // both durable, off the path of writers that did not ask for durability.
    if (current != null) {
      current.endAtSize();
    }
    current = spare == null ? JournalFile.create(dir, firstSeq) : JournalFile.reuse(spare, dir, firstSeq);
    files.put(current.name(), current);
    directoryDirty = true;
    return current;
  }

  /** The file of this name, or null when it was retired (or never held records). */
  JournalFile get(String name) {
    return files.get(name);
  }

  int count() {
    return files.size();
  }

  /**
   * Takes what no sync forced yet (the files written since and whether the folder gained an
   * entry) for a sync of every record through lastSeq.
   */
  JournalSyncs.Taken takeDirty(long lastSeq) {
    List<JournalFile> taken = new ArrayList<>();
    for (JournalFile file : files.values()) {
      if (file.takeDirty()) {
        taken.add(file);
      }
    }
    boolean folder = directoryDirty;
    directoryDirty = false;
    return new JournalSyncs.Taken(lastSeq, taken, folder);
  }

  /** Gives back what a sync that failed took: the next sync forces it. */
  void giveBack(JournalSyncs.Taken taken) {
    taken.files().forEach(JournalFile::markDirty);
    directoryDirty |= taken.folder();
  }

  /**
   * Takes out the files whose records all have seq ≤ uptoSeq, oldest first, and hands each to
   * out; their locations no longer read. The current file goes too once everything in the journal
   * is through uptoSeq, so that the next append starts afresh rather than keep an old file forever.
   */
  void retireThrough(long uptoSeq, Consumer<JournalFile> out) {
    Iterator<Map.Entry<String, JournalFile>> it = files.entrySet().iterator();
    while (it.hasNext()) {
      JournalFile file = it.next().getValue();
      if (file == current || file.lastSeq() > uptoSeq) {
        break;
      }
      it.remove();
      file.retire();
      out.accept(file);
    }
    if (current != null && current.lastSeq() <= uptoSeq && current.size() > 0 && files.size() == 1) {
      files.remove(current.name());
      current.retire();
      out.accept(current);
      current = null;
    }
  }

  /** Closes every file, and forces the folder if it gained an entry that no sync forced. */
  void closeAll() throws IOException {
    for (JournalFile file : files.values()) {
      file.close();
    }
    if (directoryDirty) {
      JournalFile.forceFolder(dir);
    }
  }
}
