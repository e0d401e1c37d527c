package dev.remap.engine.store;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.Set;

/**
 * The local disk or the store has no space left: what the message names could not be written.
 * Nothing written before is lost, and the same write succeeds once someone frees space, so a
 * client gets ENOSPC (a VM pauses with an I/O error) rather than EIO.
 *
 * <p>The JDK reports ENOSPC as a plain IOException (or a FileSystemException) told apart only by
 * its text. {@link #isNoSpace} is the one place that reads that text, and code that writes files
 * converts with {@link #convert} where the JDK throws, so that everything above sees this type.
 */
public final class NoSpaceException extends IOException {

  private static final long serialVersionUID = 1L;

  /**
   * strerror(ENOSPC), and strerror(EDQUOT): a quota is this process's share of the disk, and
   * NBD has no errno of its own for it (nbdkit maps it to ENOSPC too).
   */
  private static final Set<String> REASONS = Set.of("No space left on device", "Disk quota exceeded");

  public NoSpaceException(String message, Throwable cause) {
    super(message, cause);
  }

  public NoSpaceException(String message) {
    super(message);
  }

  /** True for this type and for the JDK's ENOSPC (or EDQUOT) error, which carries no type of its own. */
  public static boolean isNoSpace(Throwable e) {
    if (e instanceof NoSpaceException) {
      return true;
    }
    if (e instanceof FileSystemException f) {
      return f.getReason() != null && REASONS.contains(f.getReason());
    }
    return e instanceof IOException && e.getMessage() != null && REASONS.contains(e.getMessage());
  }

  /**
   * e as a NoSpaceException saying that what (a sentence part such as "journal file /a/b") could
   * not be written, when it is the JDK's ENOSPC; otherwise e itself.
   */
  public static IOException convert(IOException e, String what) {
    if (e instanceof NoSpaceException || !isNoSpace(e)) {
      return e;
    }
    return new NoSpaceException("no space left on the disk to write " + what + ": free space there", e);
  }
}
