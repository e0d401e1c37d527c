package dev.remap.engine.volume;

import java.util.regex.Pattern;

/**
 * Where a volume's objects live in a store. Everything but the metadata object is immutable.
 *
 * <pre>
 * volumes/NAME.meta              volume metadata (replaced whole on resize)
 * segments/ID/SEQ.seg            data segments, SEQ 16 hex digits from 1
 * segments/ID/SEQ.dat            a journal file adopted as it is (file store), linked from segment SEQ on
 * checkpoints/ID/SEQ.map         mapping after segment SEQ (only the newest is needed)
 * synced/ID.synced               the newest segment SEQ known durable (replaced; file store only)
 * snapshots/NAME/SNAPSHOT.map    snapshot manifests (mapping tables that only reference segments)
 * imports/ID/N.seg               segments an import copied in, referenced by the new volume's checkpoint
 * leases/NAME.lease              who owns a volume now, and its published usage and space (replaced)
 * requests/NAME/EPOCH.release    a process asking the owner of epoch EPOCH to hand the volume over
 * </pre>
 * Bytes still in the owner's local journal are {@code Source.Journaled} in its live mapping, never
 * a key: checkpoints and manifests are written without them.
 * ID is the volume's immutable id, so a volume deleted and created again under the same name
 * never mixes its objects with the old one's; snapshots are named by the volume name users see.
 */
public final class StoreLayout {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,252}");

  /** Every snapshot manifest and every checkpoint, of all volumes, live under these. */
  public static final String SNAPSHOTS = "snapshots/";
  public static final String CHECKPOINTS = "checkpoints/";
  public static final String SEGMENTS = "segments/";
  public static final String IMPORTS = "imports/";
  public static final String LEASES = "leases/";
  public static final String REQUESTS = "requests/";
  public static final String SYNCED = "synced/";
  /** Data objects garbage collection considers: whatever no mapping references goes. */
  public static final java.util.List<String> DATA_SPACES = java.util.List.of(SEGMENTS, IMPORTS, CHECKPOINTS);

  private StoreLayout() {}

  /** Returns name if it can name a volume or a snapshot, else explains the rule. */
  public static String requireName(String what, String name) {
    if (name == null || !NAME.matcher(name).matches() || name.endsWith(".meta") || name.endsWith(".map")) {
      throw new IllegalArgumentException(what + " name '" + name + "' is invalid: use letters, digits, '.', '_' "
          + "and '-', starting with a letter or digit, at most 253 characters");
    }
    return name;
  }

  public static String meta(String name) {
    return "volumes/" + name + ".meta";
  }

  public static String metaPrefix() {
    return "volumes/";
  }

  public static String segment(String id, long seq) {
    return segmentPrefix(id) + String.format("%016x", seq) + ".seg";
  }

  /**
   * A journal file the store adopted without copying it (see SegmentWriter), named after the first
   * segment that links to it: segments from SEQ on may map ranges into it.
   */
  public static String segmentData(String id, long seq) {
    return segmentPrefix(id) + String.format("%016x", seq) + ".dat";
  }

  /** Whether key (under a segment prefix) is a segment, not a journal file segments link to. */
  public static boolean isSegment(String key) {
    return key.endsWith(".seg");
  }

  /** Whether key is a journal file segments link to ({@link #segmentData}). */
  public static boolean isSegmentData(String key) {
    return key.startsWith(SEGMENTS) && key.endsWith(".dat");
  }

  public static String segmentPrefix(String id) {
    return SEGMENTS + id + "/";
  }

  /**
   * The volume's durable marker: segments up to the number it holds were synced (a store that
   * writes segments lazily may lose or tear later ones in a power cut; see VolumeManager's load).
   */
  public static String synced(String id) {
    return SYNCED + id + ".synced";
  }

  public static String checkpoint(String id, long seq) {
    return checkpointPrefix(id) + String.format("%016x", seq) + ".map";
  }

  public static String checkpointPrefix(String id) {
    return CHECKPOINTS + id + "/";
  }

  public static String snapshot(String volume, String snapshot) {
    return snapshotPrefix(volume) + snapshot + ".map";
  }

  public static String snapshotPrefix(String volume) {
    return SNAPSHOTS + volume + "/";
  }

  /** The folder of one import's segments. */
  public static String importPrefix(String id) {
    return IMPORTS + id + "/";
  }

  /** imports/ID/N.seg gives imports/ID/ (its import), any other key itself. */
  public static String importOf(String key) {
    int slash = key.indexOf('/', IMPORTS.length());
    return slash < 0 ? key : key.substring(0, slash + 1);
  }

  public static boolean isImport(String key) {
    return key.startsWith(IMPORTS);
  }

  public static String lease(String volume) {
    return LEASES + volume + ".lease";
  }

  public static String requestPrefix(String volume) {
    return REQUESTS + volume + "/";
  }

  /** The volume a handover request is for: requests/NAME/EPOCH.release gives NAME. */
  public static String volumeOfRequest(String key) {
    return key.substring(REQUESTS.length(), key.indexOf('/', REQUESTS.length()));
  }

  /** The volume and snapshot of a manifest key, snapshots/NAME/SNAPSHOT.map, as "NAME/SNAPSHOT". */
  public static String snapshotPath(String key) {
    return key.substring(SNAPSHOTS.length(), key.length() - ".map".length());
  }

  /** The sequence number in a segment or checkpoint key. */
  public static long seqOf(String key) {
    String file = key.substring(key.lastIndexOf('/') + 1);
    return Long.parseUnsignedLong(file.substring(0, file.indexOf('.')), 16);
  }

  /** The name in a key ending in suffix: "volumes/a.meta" gives "a". */
  public static String nameOf(String key, String suffix) {
    String file = key.substring(key.lastIndexOf('/') + 1);
    return file.substring(0, file.length() - suffix.length());
  }
}
