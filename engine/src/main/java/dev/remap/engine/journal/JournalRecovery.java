package dev.remap.engine.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The journal's recovery at open: scans its files in sequence order, hands every intact record
 * newer than what the store has to the replay, and cuts off a torn tail together with every file
 * after it.
 *
 * <p>Durability: a sync forces every file in order, so whatever follows a torn record was never
 * covered by a completed sync; dropping it loses nothing that was acknowledged as durable. The cut
 * is made durable before the journal takes an append, and so are the files deleted: one that came
 * back after a power cut would hold numbers the journal has given again since.
 *
 * <p>A file with no whole record is deleted too. A roll creates a file named after the record it
 * is for; a power cut can keep the name and lose every record (ext4 commits the name with any
 * later fsync; a sync that forces the folder for an earlier roll also commits a file rolled while
 * it ran, whose records it does not force).
 * Kept as the current file, it would take the records numbered after the store's, below its
 * name, and the next roll would create a file that sorts before it (the next recovery then reads
 * them out of order: "lacks records") or that is it (the roll fails).
 *
 * <p>A file reused from a spare holds an earlier use's records past this use's, numbered below the
 * file's name: a scan ends at the first of them. A file that ends so, or in any bytes that are no
 * record, is whole when the next file's name follows its last record (the journal rolled past
 * it); only then are those bytes left as they are.
 *
 * <p>Locking: none; it runs inside {@link Journal#open}, before any other thread can see the
 * journal, and calls the replay holding no lock.
 */
final class JournalRecovery {

  /** What recovery found: the files in sequence order, the last sequence number, their bytes. */
  record Recovered(List<JournalFile> files, long lastSeq, long usedBytes) {}

  private final Path dir;
  private final long afterSeq;
  /** How far the journal was ever retired ({@link RetiredNote}): records up to here may be missing. */
  private final long retiredTo;
  private final Journal.Replay replay;
  /** The last sequence number handed to the replay, or the store's (afterSeq) before any. */
  private long lastSeq;
  /** The last sequence number read, replayed or not: the next record must follow it. */
  private long scanned;

  private JournalRecovery(Path dir, long afterSeq, long retiredTo, Journal.Replay replay) {
    this.dir = dir;
    this.afterSeq = afterSeq;
    this.retiredTo = retiredTo;
    this.replay = replay;
    this.lastSeq = afterSeq;
  }

  /**
   * Recovers the journal in dir, replaying every intact record with seq > afterSeq in order;
   * records up to retiredTo were retired (some maybe before the store held them durably, never
   * flushed: see {@link RetiredNote}) and may be missing or torn.
   */
  static Recovered recover(Path dir, long afterSeq, long retiredTo, Journal.Replay replay) throws IOException {
    return new JournalRecovery(dir, afterSeq, retiredTo, replay).run();
  }

  /** Numbers up to here may be missing from the journal without anything flushed being lost. */
  private long floor() {
    return Math.max(afterSeq, retiredTo);
  }

  private Recovered run() throws IOException {
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "*" + JournalFile.CUT)) {
      for (Path unfinished : stream) {
        Files.deleteIfExists(unfinished); // a crash during a cut by copying (JournalFile.cutTornTail)
      }
    }
    List<Path> paths = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, JournalFile.GLOB)) {
      stream.forEach(paths::add);
    }
    paths.sort(null);
    List<JournalFile> files = new ArrayList<>();
    long usedBytes = 0;
    boolean torn = false;
    boolean deleted = false;
    for (int i = 0; i < paths.size(); i++) {
      Path path = paths.get(i);
      if (torn && JournalFile.firstSeqOf(path) <= floor() + 1) {
        // What the tear took was retired (a retired file whose unlink a power cut undid, its data
        // never synced) or is in the store: the files after it go on where it should have ended.
        torn = false;
      }
      if (torn) {
        // Everything after a torn record was written later and no completed sync covered it
        // (a sync forces every file in order): drop it.
        Files.delete(path);
        deleted = true;
        continue;
      }
      JournalFile file = JournalFile.reopen(path);
      long nextFirst = i + 1 < paths.size() ? JournalFile.firstSeqOf(paths.get(i + 1)) : -1;
      torn = scan(file, JournalFile.firstSeqOf(path), nextFirst);
      if (file.lastSeq() == 0) {
        file.delete(); // no record in it (see the class comment)
        deleted = true;
        continue;
      }
      files.add(file);
      usedBytes += file.size();
    }
    if (deleted) {
      JournalFile.forceFolder(dir);
    }
    // New records are numbered after every retired one: a number given twice could make a
    // later recovery take a flushed record for one of the retired ones it may skip over.
    return new Recovered(files, Math.max(lastSeq, retiredTo), usedBytes);
  }

  /**
   * Reads the records of one file (named firstSeq); returns true when it ended in a torn record
   * (now cut off): bytes after its records, unless the next file (named nextFirst, -1 for none)
   * starts where they end.
   */
  private boolean scan(JournalFile file, long firstSeq, long nextFirst) throws IOException {
    long position = 0;
    long end = file.length();
    ByteBuffer header = ByteBuffer.allocate(JournalRecord.HEADER);
    while (position + JournalRecord.HEADER <= end) {
      header.clear();
      file.read(header, position);
      var parsed = JournalRecord.parse(header.flip());
      if (parsed.isEmpty()) {
        break;
      }
      JournalRecord record = parsed.get().record();
      if (record.seq() < firstSeq) {
        break; // an earlier use's record in a reused file: this use's records end here
      }
      // A jump over retired numbers is no gap: those records left the journal (see RetiredNote).
      boolean inOrder = scanned == 0 || record.seq() == scanned + 1
          || (record.seq() > scanned && record.seq() <= floor() + 1);
      if (!inOrder || position + record.encodedSize() > end) {
        break;
      }
      ByteBuffer payload = null;
      if (record.payloadSize() > 0) {
        payload = ByteBuffer.allocate(record.payloadSize());
        file.read(payload, position + JournalRecord.HEADER);
        payload.flip();
      }
      if (!parsed.get().verify(payload)) {
        break;
      }
      if (record.seq() > afterSeq) {
        if (record.seq() != lastSeq + 1 && record.seq() > retiredTo + 1) {
          throw new IOException("the journal in " + dir + " lacks records " + (lastSeq + 1) + " to "
              + (record.seq() - 1) + ": it does not belong to this volume's state in the store");
        }
        lastSeq = record.seq();
        replay.accept(new Journal.Appended(record, file.locate(position, record)));
      }
      scanned = record.seq();
      file.recovered(record.seq(), record.encodedSize());
      position += record.encodedSize();
    }
    if (position < end) {
      if (file.lastSeq() > 0 && nextFirst == file.lastSeq() + 1) {
        return false; // rolled past: what follows is an earlier use's, or a roll's unused room
      }
      file.cutTornTail();
      return true;
    }
    return false;
  }
}
