package dev.remap.engine.share;

import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.StoreLayout;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeMeta;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Takes a deleted share out of the store: every volume of the share (each generation's base
 * disks and the VMs' clones, with their snapshot manifests) and every object under
 * {@code shares/ID/} (generations, VM views, outbox, applied changes, status). The content
 * objects ({@code shares/content/}, {@code shares/meta/}) are shared and left to the store's
 * collection; the segments VMs wrote go as every deleted volume's do, when nothing references
 * them.
 *
 * <p>Durability: the decision is recorded first ({@code shares/ID/removing}), then the volumes
 * go, then the share's objects, the marker last. A run cut short anywhere is finished by the next
 * one, which skips the outbox check (the caller already chose); a run that finds nothing does
 * nothing. Changes still in the outbox are refused ({@link PendingChangesException}) unless the
 * caller abandons them: they exist nowhere else.
 *
 * <p>Threads: none of its own. Run it only while no round of the share's agent runs (the agent
 * stops its rounds first); two removals of one share at once are harmless but wasteful.
 */
public final class ShareRemoval {

  /** Ids whose shares/ID/ would be the shared content folders: no share may have them. */
  private static final List<String> RESERVED = List.of("content", "meta");
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  /** Returns shareId if a share may have it (an agent refuses to start on any other), else says why. */
  public static String requireId(String shareId) {
    if (shareId == null || !ID.matcher(shareId).matches() || RESERVED.contains(shareId)) {
      throw new IllegalArgumentException("share id '" + shareId + "' is invalid: an id is letters, digits,"
          + " '.', '_' and '-', starting with a letter or digit, and not " + String.join(" or ", RESERVED)
          + " (folders every share uses)");
    }
    return shareId;
  }

  /** What a removal deleted (both empty for a share already gone). */
  public record Result(List<String> volumes, int objects) {
    public Result {
      volumes = List.copyOf(volumes);
    }
  }

  /** The share's outbox holds changes that reached no cloud yet; nothing was deleted. */
  public static final class PendingChangesException extends IllegalStateException {
    private final long pending;

    PendingChangesException(String shareId, long pending) {
      super("share " + shareId + " has " + pending + " change(s) of its VMs not yet sent to the cloud; removing it"
          + " now would lose them: remove it once they are sent, or abandon them");
      this.pending = pending;
    }

    public long pending() {
      return pending;
    }
  }

  private final ObjectStore store;
  private final VolumeManager manager;
  private final String shareId;
  private final Pattern volumeName;

  public ShareRemoval(VolumeManager manager, String shareId) {
    requireId(shareId);
    this.store = manager.store();
    this.manager = manager;
    this.shareId = shareId;
    // ShareBuilder.volumeName (share-ID-HASH-gN) and ShareAgent.vmVolume (...-vm-HASH): matched
    // whole, so that share "a" never takes share "a-b"'s disks.
    this.volumeName = Pattern.compile(Pattern.quote(ShareBuilder.VOLUME_PREFIX + shareId)
        + "-[0-9a-f]{12}-g[0-9]+(-vm-[0-9a-f]{12})?");
  }

  /** The number of changes waiting in the share's outbox. */
  public long pending() throws IOException {
    return new Outbox(store, shareId).size();
  }

  /**
   * Deletes the share's volumes and objects. Refuses, deleting nothing, while the outbox holds
   * changes, unless abandon; a removal already begun is finished whatever abandon says.
   */
  public Result remove(boolean abandon) throws IOException {
    List<String> volumes = volumes();
    List<String> objects = keys(prefix());
    List<String> manifests = snapshotManifests();
    if (volumes.isEmpty() && objects.isEmpty() && manifests.isEmpty()) {
      return new Result(List.of(), 0);
    }
    String marker = prefix() + "removing";
    if (!objects.contains(marker)) {
      long pending = pending();
      if (pending > 0 && !abandon) {
        throw new PendingChangesException(shareId, pending);
      }
      store.put(marker, ByteBuffer.wrap(("removal of share " + shareId + " begun; abandoned changes: "
          + pending + "\n").getBytes(StandardCharsets.UTF_8)));
    }
    // Manifests first: a volume's snapshots must not outlive it, and a crash after them leaves the
    // volume, which the next run finds by name.
    store.deleteAll(manifests);
    for (String volume : volumes) {
      manager.delete(volume);
    }
    List<String> rest = new ArrayList<>(keys(prefix()));
    rest.remove(marker);
    store.deleteAll(rest);
    store.delete(marker);
    return new Result(volumes, rest.size());
  }

  /** The share's volumes, bases and clones of every generation, named or not by a generation. */
  public List<String> volumes() throws IOException {
    List<String> out = new ArrayList<>();
    for (VolumeMeta meta : manager.list()) {
      if (volumeName.matcher(meta.name()).matches()) {
        out.add(meta.name());
      }
    }
    return out;
  }

  /** Snapshot manifests of the share's volumes, including those of volumes already deleted. */
  private List<String> snapshotManifests() throws IOException {
    List<String> out = new ArrayList<>();
    for (ObjectInfo info : store.list(StoreLayout.SNAPSHOTS + ShareBuilder.VOLUME_PREFIX + shareId + "-")) {
      String path = StoreLayout.snapshotPath(info.key());
      if (volumeName.matcher(path.substring(0, path.indexOf('/'))).matches()) {
        out.add(info.key());
      }
    }
    return out;
  }

  private List<String> keys(String prefix) throws IOException {
    return store.list(prefix).stream().map(ObjectInfo::key).toList();
  }

  private String prefix() {
    return "shares/" + shareId + "/";
  }
}
