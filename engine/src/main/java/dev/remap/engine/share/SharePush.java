package dev.remap.engine.share;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.share.image.ImageReader;
import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.volume.SnapshotDevice;
import dev.remap.engine.volume.VolumeManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Finds what each VM wrote on its share disks and puts it in the outbox (seed 004's update
 * module): "only the data of the virtual disk of the virtual machine 1 is sent", and within it
 * only the changed files.
 *
 * <ol>
 *   <li>A VM disk with no segment newer than at its last sync is unchanged: one LIST, no data
 *       read, no snapshot taken.
 *   <li>Otherwise the disk is snapshotted (its owner hands it over for a moment, like any
 *       snapshot) and the snapshot's filesystem listed (structure only).
 *   <li>{@link VmChanges} compares each file's mapping with the view: only files whose blocks moved
 *       are read, from the snapshot, never from the live disk, into the content store.
 *   <li>The changes go into the outbox as one batch, then the view moves on, then the snapshot
 *       is deleted. A crash in between stages the same changes again, which the outbox's applier
 *       recognises.
 * </ol>
 * Not thread-safe: the share's agent syncs one VM disk at a time.
 */
public final class SharePush {

  /** What a sync of one VM disk did. */
  public record Result(VmView view, boolean snapshotted, List<Outbox.Op> staged, long bytesRead) {}

  private final VolumeManager manager;
  private final ContentStore contents;
  private final Outbox outbox;
  private final ShareSplit.Rule rule;
  private final ImageFormat format;
  private final Path scratch;
  private final Clock clock;

  public SharePush(VolumeManager manager, ContentStore contents, Outbox outbox, ShareSplit.Rule rule, ImageFormat format,
      Path scratch, Clock clock) throws IOException {
    this.manager = manager;
    this.contents = contents;
    this.outbox = outbox;
    this.rule = rule;
    this.format = format;
    this.scratch = Files.createDirectories(scratch);
    this.clock = clock;
  }

  /**
   * The view of a VM disk cloned from group of generation: its files as the generation's base disk
   * holds them (fingerprints read from the base disk's mapping; a clone starts with the same).
   */
  public VmView initialView(String vm, Generation generation, Generation.Group group, String volume) throws IOException {
    Map<java.util.List<String>, Generation.File> byPath = new HashMap<>();
    group.files().forEach(f -> byPath.put(f.path(), f));
    List<VmView.Known> known = new ArrayList<>();
    try (SnapshotDevice base = manager.openOrigin(group.volume())) {
      MappingTable table = base.mapping();
      for (ImageReader.FoundFile found : format.reader().list(blocks(base)).files()) {
        Generation.File file = byPath.get(found.path());
        if (file != null) {
          known.add(new VmView.Known(file.path(), file.cloudName(), file.etag(), file.content(),
              VmChanges.fingerprint(table, found)));
        }
      }
    }
    return new VmView(vm, group.name(), volume, generation.number(), group.size(), 0, "", false, known);
  }

  /** Syncs one VM disk: stages its changes since view and returns the view after them. */
  public Result sync(VmView view) throws IOException {
    Optional<String> newest = manager.newestSegment(view.volume());
    if (newest.orElse("").equals(view.lastSegment())) {
      return new Result(view, false, List.of(), 0);
    }
    String snapshot = "share-sync-" + (view.syncs() + 1);
    try {
      manager.deleteSnapshot(view.volume(), snapshot);
    } catch (NoSuchObjectException | dev.remap.engine.volume.VolumeException e) {
      // Not left over from an interrupted sync: the usual case.
    }
    manager.snapshot(view.volume(), snapshot);
    List<Outbox.Op> ops = new ArrayList<>();
    List<VmView.Known> next = new ArrayList<>();
    long read = 0;
    String segment;
    try (SnapshotDevice device = manager.openSnapshot(view.volume(), snapshot)) {
      MappingTable table = device.mapping();
      // The snapshot holds everything up to its own newest segment: the next sync starts there.
      segment = manager.newestSegment(view.volume()).orElse("");
      ImageReader.Listing listing = format.reader().list(blocks(device));
      List<VmChanges.Change> changes = VmChanges.find(view, listing, table);
      Map<java.util.List<String>, VmChanges.Change> changed = new HashMap<>();
      changes.forEach(c -> changed.put(c.path(), c));
      // Changed files whose bytes the store already held (ContentStore.put stored nothing).
      Map<ContentStore.Content, ImageReader.FoundFile> sources = new HashMap<>();
      Map<java.util.List<String>, VmView.Known> known = new HashMap<>();
      view.files().forEach(k -> known.put(k.path(), k));
      for (ImageReader.FoundFile found : listing.files()) {
        VmChanges.Change change = changed.get(found.path());
        if (change == null) {
          next.add(known.get(found.path()));
          continue;
        }
        VmChanges.Written written = (VmChanges.Written) change;
        ContentStore.Fetched copied = copyOut(device, found);
        ContentStore.Content content = copied.content();
        read += found.size();
        String fingerprint = VmChanges.fingerprint(table, found);
        Optional<VmView.Known> before = written.before();
        String cloudName = before.map(VmView.Known::cloudName)
            .orElse(ShareSplit.cloudName(rule, view.group(), found.path()));
        String etag = before.map(VmView.Known::etag).orElse(null);
        if (before.isEmpty() || !before.get().content().equals(content)) {
          if (copied.bytesStored() < content.size()) {
            sources.put(content, found);
          }
          ops.add(new Outbox.Op(view.vm(), view.group(), Outbox.Kind.PUT, cloudName, content, etag, clock.instant()));
        }
        next.add(new VmView.Known(found.path(), cloudName, etag == null ? "" : etag, content, fingerprint));
      }
      for (VmChanges.Change change : changes) {
        if (change instanceof VmChanges.Deleted deleted) {
          ops.add(new Outbox.Op(view.vm(), view.group(), Outbox.Kind.DELETE, deleted.before().cloudName(), null,
              deleted.before().etag(), clock.instant()));
        }
      }
      outbox.stage(ops);
      // A content found already stored may be one a share collection judged garbage and is
      // deleting (ShareCollector); one this push stored is younger than any grace. From now on the
      // outbox names it, so no later collection takes it: put back, from the snapshot, what went.
      for (Map.Entry<ContentStore.Content, ImageReader.FoundFile> source : sources.entrySet()) {
        if (!contents.has(source.getKey())) {
          copyOut(device, source.getValue());
        }
      }
    }
    VmView after = new VmView(view.vm(), view.group(), view.volume(), view.generation(), view.size(), view.syncs() + 1,
        segment, view.retired(), next);
    manager.deleteSnapshot(view.volume(), snapshot);
    return new Result(after, true, ops, read);
  }

  /** Reads a file's bytes from the snapshot into the content store. */
  private ContentStore.Fetched copyOut(BlockDevice device, ImageReader.FoundFile file) throws IOException {
    Path local = scratch.resolve("push-" + UUID.randomUUID());
    try {
      try (FileChannel out = FileChannel.open(local, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
        for (ImageReader.Extent extent : file.extents()) {
          for (long done = 0; done < extent.length(); done += buffer.capacity()) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), extent.length() - done));
            device.read(extent.imageOffset() + done, buffer);
            buffer.flip();
            long at = extent.fileOffset() + done;
            while (buffer.hasRemaining()) {
              at += out.write(buffer, at);
            }
          }
        }
        // Holes of a sparse file read as zeros: the size is the file's, whatever its extents cover.
        out.truncate(file.size());
        if (out.size() < file.size()) {
          out.write(ByteBuffer.allocate(1), file.size() - 1);
        }
      }
      return contents.put(local);
    } finally {
      Files.deleteIfExists(local);
    }
  }

  /** A block device as an image to list. */
  static ImageReader.Blocks blocks(BlockDevice device) {
    return new ImageReader.Blocks() {
      @Override
      public long size() {
        return device.size();
      }

      @Override
      public void read(long offset, ByteBuffer dst) throws IOException {
        device.read(offset, dst);
      }
    };
  }
}
