package dev.remap.engine.share;

import dev.remap.engine.share.image.BuiltImage;
import dev.remap.engine.share.image.ImageBuilder;
import dev.remap.engine.share.image.ImageFile;
import dev.remap.engine.share.image.ImageSpec;
import dev.remap.engine.volume.StoreLayout;
import dev.remap.engine.volume.VolumeManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Makes a base generation of a share (seed 004's acquisition and generation modules): lists the
 * cloud disk, fetches each file not already known by name and version into the {@link ContentStore},
 * splits the files into groups by the rule, lays out one filesystem per group and makes its disk
 * by remapping ({@link ImageVolumes}), then records the generation. A file whose name and ETag
 * the previous generation already holds is not downloaded again; a content already in the store
 * is not stored again.
 *
 * <p>Not thread-safe: one build per share at a time (the share's agent runs them one by one).
 * A build cut short leaves content objects (reused by the next build) and maybe disks that no
 * generation names; {@link #volumeName} is deterministic, so the next build of the same number
 * finds those disks and makes them again.
 */
public final class ShareBuilder {

  /**
   * Every share disk's volume name starts so (bases and the VMs' clones): the CSI node reads such
   * volumes through its node-wide share cache.
   */
  public static final String VOLUME_PREFIX = "share-";

  /** What to build: the share's id (a store-name-safe string), rule, filesystem and free space. */
  public record Options(String shareId, ShareSplit.Rule rule, ImageFormat format, long freeSpace) {}

  /** What a build did, for status and benchmarks. */
  public record Report(Generation generation, int downloaded, long downloadedBytes, long contentBytesStored,
      long metadataBytes) {}

  private final VolumeManager manager;
  private final ContentStore contents;

  public ShareBuilder(VolumeManager manager, ContentStore contents) {
    this.manager = manager;
    this.contents = contents;
  }

  public Report build(CloudDisk cloud, Options options, Optional<Generation> previous, long number) throws IOException {
    return build(cloud, options, previous, List.of(), number);
  }

  /**
   * Builds generation number from the cloud as it is now. Files the previous generation holds, and
   * files the share itself uploaded (own), are known by name and version and not fetched again.
   */
  public Report build(CloudDisk cloud, Options options, Optional<Generation> previous, List<Outbox.Applied> own,
      long number) throws IOException {
    List<CloudDisk.Entry> entries = cloud.list();
    List<String> folders = cloud.folders();
    Map<String, ContentStore.Content> known = new HashMap<>();
    previous.ifPresent(g -> g.groups().forEach(group -> group.files().forEach(
        f -> known.put(key(f.cloudName(), f.etag()), f.content()))));
    for (Outbox.Applied applied : own) {
      if (applied.content() != null) {
        known.put(key(applied.cloudName(), applied.etag()), applied.content());
      }
    }

    Map<String, List<Generation.File>> files = new TreeMap<>();
    Map<String, List<Generation.Skipped>> skipped = new TreeMap<>();
    for (String group : ShareSplit.groups(options.rule(), entries.stream().map(CloudDisk.Entry::name).toList(), folders)) {
      files.put(group, new ArrayList<>());
      skipped.put(group, new ArrayList<>());
    }
    List<Generation.Skipped> unplaced = new ArrayList<>();
    int downloaded = 0;
    long downloadedBytes = 0;
    long stored = 0;
    for (CloudDisk.Entry entry : entries) {
      Optional<ShareSplit.Placed> placed = ShareSplit.place(options.rule(), entry.name());
      if (placed.isEmpty()) {
        unplaced.add(new Generation.Skipped(entry.name(), entry.name() + " matches no group of the split and no group"
            + " takes the other files: it stays in the cloud only"));
        continue;
      }
      List<String> path = placed.get().path();
      if (path.contains(".") || path.contains("..")) {
        skipped.get(placed.get().group()).add(new Generation.Skipped(entry.name(), entry.name()
            + " has a '.' or '..' folder in its name, which no filesystem can hold"));
        continue;
      }
      ContentStore.Content before = known.get(key(entry.name(), entry.etag()));
      ContentStore.Content content;
      if (before != null && contents.has(before)) {
        content = before;
      } else {
        ContentStore.Fetched fetched = contents.fetch(cloud, entry);
        content = fetched.content();
        downloaded++;
        downloadedBytes += content.size();
        stored += fetched.bytesStored();
      }
      files.get(placed.get().group()).add(new Generation.File(entry.name(), entry.etag(), entry.modified(), content, path));
    }

    Instant created = Instant.now();
    Map<String, List<List<String>>> directories = ShareSplit.directories(options.rule(), folders);
    List<Generation.Group> groups = new ArrayList<>();
    long metadata = 0;
    for (Map.Entry<String, List<Generation.File>> group : files.entrySet()) {
      Generation.Group built = buildGroup(options, number, created, group.getKey(), group.getValue(),
          directories.getOrDefault(group.getKey(), List.of()), skipped.get(group.getKey()));
      metadata += built.metadataBytes();
      groups.add(built);
    }
    Generation generation = new Generation(options.shareId(), number, created, groups, unplaced);
    if (!manager.store().putIfAbsent(generationKey(options.shareId(), number), ByteBuffer.wrap(generation.encode()))) {
      throw new IOException("generation " + number + " of share " + options.shareId() + " already exists");
    }
    return new Report(generation, downloaded, downloadedBytes, stored, metadata);
  }

  /** Reads generation number of the share. */
  public Generation read(String shareId, long number) throws IOException {
    String key = generationKey(shareId, number);
    return Generation.decode(manager.store().get(key), key);
  }

  public static String generationKey(String shareId, long number) {
    return "shares/" + shareId + "/generations/" + String.format("%016d", number) + ".gen";
  }

  /** The disk of a group in a generation: share-ID-HASH-gN (group names are the user's, any characters). */
  public static String volumeName(String shareId, String group, long number) {
    return StoreLayout.requireName("volume", VOLUME_PREFIX + shareId + "-" + hash(group).substring(0, 12) + "-g" + number);
  }

  /** A stable 32-bit serial for the group's filesystem, the same in every generation. */
  public static int serial(String shareId, String group) {
    return (int) Long.parseLong(hash(shareId + "/" + group).substring(0, 8), 16);
  }

  private Generation.Group buildGroup(Options options, long number, Instant created, String group,
      List<Generation.File> files, List<List<String>> directories, List<Generation.Skipped> skipped) throws IOException {
    List<ImageFile> images = new ArrayList<>();
    List<ContentStore.Content> sources = new ArrayList<>();
    for (Generation.File file : files) {
      images.add(new ImageFile(file.path(), file.content().size(), file.modified()));
      sources.add(file.content());
    }
    ImageBuilder builder = options.format().builder();
    BuiltImage image = builder.build(images, directories, new ImageSpec(group,
        serial(options.shareId(), group), options.freeSpace(), created));
    List<Generation.Skipped> allSkipped = new ArrayList<>(skipped);
    List<Generation.File> kept = new ArrayList<>(files);
    for (BuiltImage.Skipped left : image.skipped()) {
      allSkipped.add(new Generation.Skipped(files.get(left.file()).cloudName(), left.reason()));
      kept.set(left.file(), null);
    }
    String volume = volumeName(options.shareId(), group, number);
    if (manager.find(volume).isPresent()) {
      // Left by a build of this number cut short before its generation was written: no VM was
      // given it (views name only published generations), so it is made again from scratch.
      manager.delete(volume);
    }
    ImageVolumes.create(manager, volume, image, sources, "share:" + options.shareId() + "/" + group + "@" + number);
    return new Generation.Group(group, volume, image.size(), image.metadataBytes(),
        kept.stream().filter(f -> f != null).toList(), allSkipped);
  }

  private static String key(String name, String etag) {
    return name + "\n" + etag;
  }

  private static String hash(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
