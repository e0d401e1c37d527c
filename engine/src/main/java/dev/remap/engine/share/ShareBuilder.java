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
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Makes a base generation of a share (seed 004's acquisition and generation modules): lists the
 * cloud disk, fetches each file not already known by name and version into the {@link ContentStore},
 * splits the files into groups by the rule, lays out one filesystem per group and makes its disk
 * by remapping ({@link ImageVolumes}), then records the generation. A file whose name and ETag
 * the previous generation already holds is not downloaded again; a content already in the store
 * is not stored again.
 *
 * <p>Collection ({@link ShareCollector}): a content found already stored may be one a collection
 * judged garbage a moment before (nothing named it for longer than the grace) and is deleting. So
 * once a generation's disks exist (from then on they name its contents) and before its file is
 * written, every part of every content it found already stored (not stored by this build, which
 * no collection takes within its grace) and that neither the previous generation nor the share's
 * applied records name is checked (one stat each); if one is gone, the disks are deleted
 * and the generation built again, fetching the lost bytes anew. What that leaves: a collection
 * that read the references before the disks existed and deletes after the check, within its last
 * look at new volumes and its delete (milliseconds; ShareCollector's header).
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

  /** Builds of one generation before giving up for this round (each lost content is fetched anew). */
  private static final int ATTEMPTS = 3;

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
    // Named by the share's newest generation or its applied records, which stay until this build
    // is published (only this agent deletes them): no collection can take these meanwhile.
    Map<String, ContentStore.Content> known = new HashMap<>();
    previous.ifPresent(g -> g.groups().forEach(group -> group.files().forEach(
        f -> known.put(key(f.cloudName(), f.etag()), f.content()))));
    for (Outbox.Applied applied : own) {
      if (applied.content() != null) {
        known.put(key(applied.cloudName(), applied.etag()), applied.content());
      }
    }
    Set<ContentStore.Content> held = new HashSet<>(known.values());
    Map<String, ContentStore.Content> fetched = new HashMap<>();
    // Fetched contents the store already held (ContentStore stored nothing): only those can be a
    // collection's garbage; what this build stored itself is younger than any grace.
    Set<ContentStore.Content> found = new HashSet<>();
    int downloaded = 0;
    long downloadedBytes = 0;
    long stored = 0;
    for (int attempt = 1; ; attempt++) {
      Attempt built = attempt(cloud, options, number, known, fetched, found);
      downloaded += built.downloaded();
      downloadedBytes += built.downloadedBytes();
      stored += built.stored();
      // The disks exist now and map their contents, so a collection that starts from here keeps
      // them. One that started before may have judged a content garbage that this build found
      // already stored (ContentStore.has) and delete it under us: every part of those not known
      // above must still be there before the generation is published, or the disks are made again
      // with the missing bytes fetched anew (ShareCollector's header: the window this leaves).
      Set<ContentStore.Content> checked = new HashSet<>(held);
      Set<ContentStore.Content> vanished = new HashSet<>();
      for (Generation.Group group : built.generation().groups()) {
        for (Generation.File file : group.files()) {
          if (found.contains(file.content()) && checked.add(file.content()) && !whole(file.content())) {
            vanished.add(file.content());
          }
        }
      }
      if (vanished.isEmpty()) {
        if (!manager.store().putIfAbsent(generationKey(options.shareId(), number),
            ByteBuffer.wrap(built.generation().encode()))) {
          throw new IOException("generation " + number + " of share " + options.shareId() + " already exists");
        }
        return new Report(built.generation(), downloaded, downloadedBytes, stored, built.metadataBytes());
      }
      for (Generation.Group group : built.generation().groups()) {
        manager.delete(group.volume());
      }
      fetched.values().removeIf(vanished::contains);
      found.removeAll(vanished);
      if (attempt == ATTEMPTS) {
        throw new IOException("generation " + number + " of share " + options.shareId() + " lost "
            + vanished.size() + " file content(s) from the store while it was built, " + ATTEMPTS
            + " times: is a collection deleting them? The next round builds it again");
      }
    }
  }

  /** One try at a generation: its disks made, its file not written yet. */
  private record Attempt(Generation generation, int downloaded, long downloadedBytes, long stored, long metadataBytes) {}

  /**
   * Lists, fetches what neither known nor fetched (an earlier attempt's contents) holds, and makes
   * the disks. fetched gains what this attempt fetched, found what of it the store already held.
   */
  private Attempt attempt(CloudDisk cloud, Options options, long number, Map<String, ContentStore.Content> known,
      Map<String, ContentStore.Content> fetched, Set<ContentStore.Content> found) throws IOException {
    List<CloudDisk.Entry> entries = cloud.list();
    List<String> folders = cloud.folders();
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
      ContentStore.Content before = known.getOrDefault(key(entry.name(), entry.etag()),
          fetched.get(key(entry.name(), entry.etag())));
      ContentStore.Content content;
      if (before != null && contents.has(before)) {
        content = before;
      } else {
        ContentStore.Fetched fetch = contents.fetch(cloud, entry);
        content = fetch.content();
        fetched.put(key(entry.name(), entry.etag()), content);
        if (fetch.bytesStored() < content.size()) {
          found.add(content);
        }
        downloaded++;
        downloadedBytes += content.size();
        stored += fetch.bytesStored();
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
    return new Attempt(new Generation(options.shareId(), number, created, groups, unplaced), downloaded,
        downloadedBytes, stored, metadata);
  }

  /** Whether every part of content is in the store (one stat each). */
  private boolean whole(ContentStore.Content content) throws IOException {
    for (int part = 0; part < content.parts(); part++) {
      if (manager.store().stat(content.partKey(part)).isEmpty()) {
        return false;
      }
    }
    return true;
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
