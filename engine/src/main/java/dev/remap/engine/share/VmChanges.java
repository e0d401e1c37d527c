package dev.remap.engine.share;

import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.Span;
import dev.remap.engine.share.image.ImageReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a VM changed on its copy of a group's disk since the share last synced it, found from the
 * mapping, not the data (seed 004: "acquire the updated data in the virtual disk ... or the photo
 * 1 may be sent"). Copy-on-write sends every block the guest writes to new objects, so a file
 * whose bytes map onto exactly the same objects and offsets as at the last sync holds the same
 * bytes: its {@link #fingerprint} (a digest of where each of its bytes lives) is unchanged, and
 * it is neither read nor sent. A file the guest rewrote with the same bytes counts as changed
 * here; its content hash settles it before anything is uploaded. Pure.
 */
public final class VmChanges {

  private VmChanges() {}

  /** One change to send: a new or changed file, or a deleted one. */
  public sealed interface Change permits Written, Deleted {
    /** The path on the group's disk. */
    List<String> path();
  }

  /** A file the VM created or changed; before is its state at the last sync, if it existed. */
  public record Written(ImageReader.FoundFile file, Optional<VmView.Known> before) implements Change {
    @Override
    public List<String> path() {
      return file.path();
    }
  }

  /** A file the VM deleted (or moved away) since the last sync. */
  public record Deleted(VmView.Known before) implements Change {
    @Override
    public List<String> path() {
      return before.path();
    }
  }

  /** The changes on a VM's disk whose listing is found and mapping table, against what the view knew. */
  public static List<Change> find(VmView view, ImageReader.Listing found, MappingTable table) {
    Map<List<String>, VmView.Known> byPath = new HashMap<>();
    for (VmView.Known known : view.files()) {
      byPath.put(known.path(), known);
    }
    List<Change> changes = new ArrayList<>();
    for (ImageReader.FoundFile file : found.files()) {
      VmView.Known before = byPath.remove(file.path());
      if (before == null || before.content().size() != file.size()
          || !before.fingerprint().equals(fingerprint(table, file))) {
        changes.add(new Written(file, Optional.ofNullable(before)));
      }
    }
    for (VmView.Known gone : byPath.values()) {
      changes.add(new Deleted(gone));
    }
    changes.sort(Comparator.comparing(c -> String.join("/", c.path())));
    return changes;
  }

  /**
   * Where every byte of file lives in table: a digest of its size and, in file order, each run's
   * length and source (object and offset, or a hole). Equal fingerprints in two mappings of the
   * same store mean equal bytes, because objects never change.
   */
  public static String fingerprint(MappingTable table, ImageReader.FoundFile file) {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    StringBuilder text = new StringBuilder().append(file.size()).append('\n');
    for (ImageReader.Extent extent : file.extents()) {
      for (Span span : table.resolve(extent.imageOffset(), extent.length())) {
        text.append(extent.fileOffset() + (span.offset() - extent.imageOffset())).append(' ').append(span.length())
            .append(' ').append(span.source()).append('\n');
      }
    }
    return HexFormat.of().formatHex(digest.digest(text.toString().getBytes(StandardCharsets.UTF_8)));
  }
}
