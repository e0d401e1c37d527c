package dev.remap.engine.share;

import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.GarbageCollector;
import dev.remap.engine.volume.SnapshotDevice;
import dev.remap.engine.volume.StoreLayout;
import dev.remap.engine.volume.VolumeException;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Deletes the content objects ({@code shares/content/SHA256/N}) and image metadata objects
 * ({@code shares/meta/UUID}) that nothing names any more. The volume collector never looks under
 * {@code shares/} (serving processes know nothing of share files), so every share agent runs this
 * (hourly and at start): content is deduplicated across shares, so it reads every share's files.
 * An object is kept while any of these names it, or while it is younger than the grace period:
 *
 * <ul>
 *   <li>a volume's newest checkpoint and later segments, or a snapshot
 *       ({@link GarbageCollector#referencedKeys}): base disks and the VMs' clones map the meta
 *       object and the content parts themselves (a clone made by {@code createFrom} copies the
 *       base's mapping, so it keeps them after the base is deleted);
 *   <li>any share's outbox batches, applied records and generation files, read in that order for
 *       each share: a content moves from a batch to an applied record to a generation, each written
 *       before the earlier one lets go, so a move during the reading is seen at its later stage.
 * </ul>
 * A content is one unit: it is garbage only when none of its parts is named and its newest part is
 * older than the grace (a fetch in flight writes parts over a while), and its last part is deleted
 * first, so a collection cut short never leaves a content that {@link ContentStore#has} calls whole.
 *
 * <p>The race with a build that finds a garbage content already stored: the builder checks every
 * content part it mapped after its disks exist and before its generation is written, and builds
 * again if one is gone ({@link ShareBuilder}). Besides, a last look just before the delete reads
 * the volumes created since the references were read, and every share's outbox and applied
 * records again. A VM's push ({@link SharePush}) checks the same way: once its batch is staged it
 * puts back, from the VM's snapshot, any content that went. Residual window: a build whose disk
 * is made, or a push whose batch is staged, between that last look and the delete, and checked
 * before the delete (milliseconds, the time of the last look's listings), and only for a content
 * found stored that nothing had named for longer than the grace. A build that loses a content so
 * builds again (the bytes fetched anew); a push that does cannot upload it, and its batch stays at
 * the head of the outbox with each round failing on it.
 *
 * <p>Threads: none of its own; the agent runs it in its round. Several collections (one per share
 * agent) may overlap: each deletes only what none of the references names.
 */
public final class ShareCollector {

  /** The volume collector's default grace in a serving process (--collect-grace). */
  public static final Duration GRACE = VolumeOptions.Cleaning.defaults().collectGrace();
  /** How often an agent collects (and once at its start). */
  public static final Duration INTERVAL = Duration.ofHours(1);

  private static final Pattern CONTENT = Pattern.compile(Pattern.quote(ContentStore.PREFIX) + "([0-9a-f]{64})/[0-9]+");
  /** Matched exactly (ImageVolumes names them by a random UUID): a share's own files are never candidates. */
  private static final Pattern META = Pattern.compile(Pattern.quote(ImageVolumes.META_PREFIX)
      + "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  /** Any other object under shares/ belongs to a share (generations, views, outbox, status...). */
  private static final Pattern SHARE_FILE = Pattern.compile("shares/([^/]+)/.+");

  /** What a run did. */
  public record Report(int examined, int deleted, long deletedBytes, int kept) {}

  private final VolumeManager manager;
  private final ObjectStore store;
  /** When the agent's next collection is due ({@link #due}); the first round's is. */
  private Instant next = Instant.MIN;

  public ShareCollector(VolumeManager manager) {
    this.manager = manager;
    this.store = manager.store();
  }

  /**
   * The agent's collection: runs with the default grace when one is due (every {@link #INTERVAL}
   * of now), and says what it did. A failure is reported and waits for the next interval.
   */
  Optional<ShareStatus.Event> due(Instant now) {
    if (now.isBefore(next)) {
      return Optional.empty();
    }
    next = now.plus(INTERVAL);
    try {
      Report report = run(GRACE);
      return report.deleted() == 0 ? Optional.empty() : Optional.of(new ShareStatus.Event(now, false, "freed "
          + report.deleted() + " share object(s) nothing uses (" + report.deletedBytes() + " bytes)"));
    } catch (IOException | RuntimeException e) {
      return Optional.of(new ShareStatus.Event(now, true, "freeing the share objects nothing uses failed (tried"
          + " again in an hour): " + e.getMessage()));
    }
  }

  /** Deletes the content and meta objects nothing names and older than grace. */
  public Report run(Duration grace) throws IOException {
    // The candidates first: anything stored after this listing is not one.
    Map<String, List<ObjectInfo>> contents = new TreeMap<>();
    List<ObjectInfo> metas = new ArrayList<>();
    Set<String> shares = new TreeSet<>();
    for (ObjectInfo info : store.list("shares/")) {
      Matcher content = CONTENT.matcher(info.key());
      Matcher share = SHARE_FILE.matcher(info.key());
      if (content.matches()) {
        contents.computeIfAbsent(content.group(1), k -> new ArrayList<>()).add(info);
      } else if (META.matcher(info.key()).matches()) {
        metas.add(info);
      } else if (share.matches()) {
        shares.add(share.group(1));
      }
    }
    Set<String> volumesBefore = volumeKeys();
    Set<String> named = new HashSet<>(GarbageCollector.referencedKeys(store));
    for (String share : shares) {
      named.addAll(namedBy(share));
    }
    Instant cutoff = Instant.now().minus(grace);
    Map<String, List<ObjectInfo>> garbage = new TreeMap<>();
    contents.forEach((sha, parts) -> {
      if (parts.stream().allMatch(p -> p.lastModified().isBefore(cutoff) && !named.contains(p.key()))) {
        garbage.put(sha, parts);
      }
    });
    List<ObjectInfo> metaGarbage = new ArrayList<>(metas.stream()
        .filter(m -> m.lastModified().isBefore(cutoff) && !named.contains(m.key())).toList());
    // A last look, just before the delete: volumes created while the references were read (a
    // build in progress) keep what they map, and changes staged meanwhile (a VM's push that found
    // its bytes stored) keep theirs.
    Set<String> late = new HashSet<>();
    for (String key : volumeKeys()) {
      if (!volumesBefore.contains(key)) {
        late.addAll(originKeys(StoreLayout.nameOf(key, ".meta")));
      }
    }
    for (String share : shares) {
      late.addAll(staged(share));
    }
    garbage.values().removeIf(parts -> parts.stream().anyMatch(p -> late.contains(p.key())));
    metaGarbage.removeIf(m -> late.contains(m.key()));
    // Each content's last part first: a content without it is not whole for ContentStore.has, so
    // a collection cut short between the two deletes leaves nothing that looks whole.
    List<ObjectInfo> lastParts = new ArrayList<>();
    List<ObjectInfo> rest = new ArrayList<>(metaGarbage);
    for (List<ObjectInfo> parts : garbage.values()) {
      ObjectInfo last = parts.stream().max(Comparator.comparingLong(p -> part(p.key()))).orElseThrow();
      lastParts.add(last);
      parts.stream().filter(p -> p != last).forEach(rest::add);
    }
    store.deleteAll(lastParts.stream().map(ObjectInfo::key).toList());
    store.deleteAll(rest.stream().map(ObjectInfo::key).toList());
    int examined = metas.size() + contents.values().stream().mapToInt(List::size).sum();
    int deleted = lastParts.size() + rest.size();
    long bytes = lastParts.stream().mapToLong(ObjectInfo::size).sum() + rest.stream().mapToLong(ObjectInfo::size).sum();
    return new Report(examined, deleted, bytes, examined - deleted);
  }

  /** The content parts a share's outbox, applied records and generations name, read in that order. */
  private Set<String> namedBy(String share) throws IOException {
    Set<String> keys = staged(share);
    for (ObjectInfo info : store.list("shares/" + share + "/generations/")) {
      Generation generation;
      try {
        generation = Generation.decode(store.get(info.key()), info.key());
      } catch (NoSuchObjectException deleted) {
        // An old generation its agent deleted since the listing: its disks went first.
        continue;
      }
      generation.groups().forEach(group -> group.files().forEach(file -> addParts(keys, file.content())));
    }
    return keys;
  }

  /** The content parts a share's outbox batches and applied records name, in that order. */
  private Set<String> staged(String share) throws IOException {
    Set<String> keys = new HashSet<>();
    Outbox outbox = new Outbox(store, share);
    for (Outbox.Batch batch : outbox.pending()) {
      batch.ops().forEach(op -> addParts(keys, op.content()));
    }
    outbox.appliedChanges().forEach(applied -> addParts(keys, applied.content()));
    return keys;
  }

  private Set<String> volumeKeys() throws IOException {
    Set<String> keys = new HashSet<>();
    store.list(StoreLayout.metaPrefix()).forEach(info -> keys.add(info.key()));
    return keys;
  }

  /** What a volume made just now maps (its starting mapping; it cannot have written more yet). */
  private Set<String> originKeys(String volume) throws IOException {
    try (SnapshotDevice origin = manager.openOrigin(volume)) {
      return origin.mapping().referencedKeys();
    } catch (NoSuchObjectException | VolumeException gone) {
      // Deleted again, or not made from a mapping (then it maps no share object).
      return Set.of();
    }
  }

  private static void addParts(Set<String> keys, ContentStore.Content content) {
    if (content != null) {
      for (int part = 0; part < content.parts(); part++) {
        keys.add(content.partKey(part));
      }
    }
  }

  private static long part(String key) {
    return Long.parseLong(key.substring(key.lastIndexOf('/') + 1));
  }
}
