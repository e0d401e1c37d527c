package dev.remap.engine.export;

import java.io.IOException;
import java.util.List;
import java.util.Optional;

/**
 * Named things a server can serve: volumes and their snapshots today, a swap pool or a share's
 * image beside them. A front-end (the NBD server) lists and describes them when a client asks and
 * opens one when its first client connects; it builds the same stack ({@link ExportStack}) on
 * every base it is given and knows nothing of what is below.
 *
 * <p>Implementations are called from many connection threads at once; names that are not theirs
 * (or not valid for them) are simply absent, never an error.
 */
public interface ExportSource {

  /** The names this source serves now. */
  List<String> names() throws IOException;

  /** What a client learns of an export before it opens it; empty when there is no such export. */
  Optional<ExportDescription> describe(String name) throws IOException;

  /**
   * Opens the export's base device for one stack; empty when there is no such export. The stack
   * closes the device when its last connection ends.
   *
   * @param stack how the stack above will be built, including what is for the base itself (its
   *     disk tier)
   */
  Optional<ExportBase> open(String name, StackSpec stack) throws IOException;
}
