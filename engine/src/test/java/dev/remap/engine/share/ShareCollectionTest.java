package dev.remap.engine.share;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.share.image.ImageFixture;
import dev.remap.engine.share.image.ImageReader;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ForwardingObjectStore;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.S3Credentials;
import dev.remap.engine.volume.SnapshotDevice;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a share no longer uses leaves the store, and nothing it still uses does: against the
 * engine's file store and a real S3 server (s3proxy) as the cloud, with guests' writes made by
 * the kernel's ext4 driver. A new generation's VMs rebased and their old disks released, the old
 * generation's bases go; a collection then frees the replaced file's content and the old meta
 * objects, and every file of the new generation still reads back through a VM's disk and the base.
 * Content named only by a waiting outbox change (or an applied record) stays. And a content a
 * collection deletes while a build reuses it is fetched again before the generation is published.
 */
class ShareCollectionTest {

  private static final String CLOUD = "share-collection";
  private static S3ServerProcess server;

  @TempDir Path tmp;
  private VanishingStore store;
  private VolumeManager manager;
  private S3CloudDisk cloud;
  private final ShareAgentTest.MutableClock clock = new ShareAgentTest.MutableClock(Instant.parse("2026-12-05T08:00:00Z"));

  @BeforeAll
  static void startServer() {
    server = S3ServerProcess.start();
    server.createBucket(CLOUD);
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @BeforeEach
  void open() throws IOException {
    store = new VanishingStore(FileObjectStore.open(tmp.resolve("store")));
    manager = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal")));
  }

  @AfterEach
  void close() throws IOException {
    if (!server.isRunning()) {
      server.restart();
    }
    if (cloud != null) {
      cloud.close();
    }
    store.close();
  }

  @Test
  void oldGenerationsDisksGoOnceNoVmIsOnThemAndACollectionFreesWhatOnlyTheyUsed() throws Exception {
    put("gens/", "Photos/beach day.jpg", "a photo of the beach");
    put("gens/", "Photos/Ünïcødé ✓.png", "a photo with a Unicode name");
    put("gens/", "Texts/notes.txt", "meeting at noon\n");
    ShareAgent agent = agent("gens/");
    agent.round();
    Generation first = agent.newestGeneration().orElseThrow();
    List<String> firstBases = first.groups().stream().map(Generation.Group::volume).toList();
    Set<String> firstMeta = metaKeys(firstBases);
    ContentStore.Content replaced = first.group("Texts").files().get(0).content();
    assertThat(firstMeta).hasSize(2);

    put("gens/", "Texts/notes.txt", "meeting moved to two\n");
    clock.advance(Duration.ofHours(2));
    assertThat(agent.round().generation()).isEqualTo(2);
    // The VMs still run on generation 1: its bases stay.
    assertThat(firstBases).allSatisfy(base -> assertThat(manager.find(base)).isPresent());

    // As the operator does for stopped VMs: rebase, then release the disks left behind.
    for (String vm : List.of("vm-a", "vm-b")) {
      for (String left : agent.rebase(vm)) {
        agent.release(left);
      }
    }
    ShareStatus after = agent.round();
    assertThat(firstBases).allSatisfy(base -> assertThat(manager.find(base)).isEmpty());
    assertThat(store.list("shares/agent-gens/generations/")).extracting(ObjectInfo::key)
        .containsExactly(ShareBuilder.generationKey("agent-gens", 2));
    assertThat(after.events().get(after.events().size() - 1).message()).contains("deleted").contains(firstBases.get(0));
    // Deleting the disks freed no object by itself: that is the collection's job.
    assertThat(store.stat(replaced.partKey(0))).isPresent();
    assertThat(firstMeta).allSatisfy(key -> assertThat(store.stat(key)).isPresent());

    ShareCollector.Report report = new ShareCollector(manager).run(Duration.ZERO);
    assertThat(report.deleted()).isEqualTo(3);
    assertThat(store.stat(replaced.partKey(0))).isEmpty();
    assertThat(firstMeta).allSatisfy(key -> assertThat(store.stat(key)).isEmpty());
    // Every file of generation 2 reads back right, through each VM's disk and through the base.
    Generation second = agent.newestGeneration().orElseThrow();
    Map<String, String> cloudFiles = cloudFiles("gens/");
    for (Generation.Group group : second.groups()) {
      Map<String, String> expected = new TreeMap<>();
      group.files().forEach(f -> expected.put(String.join("/", f.path()), cloudFiles.get(f.cloudName())));
      assertThat(expected).hasSize(group.name().equals("Photos") ? 2 : 1).doesNotContainValue(null);
      try (SnapshotDevice base = manager.openOrigin(group.volume())) {
        assertThat(read(base)).as(group.volume()).isEqualTo(expected);
      }
      String vm = group.name().equals("Photos") ? "vm-a" : "vm-b";
      assertThat(vmFiles(volumeOf(agent, vm, group.name()))).as(vm).isEqualTo(expected);
    }
    assertThat(cloudFiles.get("Texts/notes.txt")).isEqualTo("meeting moved to two\n");
  }

  @Test
  void contentNamedOnlyByAWaitingChangeSurvivesACollection() throws Exception {
    put("outbox/", "Photos/beach day.jpg", "a photo of the beach");
    ShareAgent agent = agent("outbox/");
    agent.round();
    server.stop();
    guestWrite(volumeOf(agent, "vm-a", "Photos"), mounted -> Files.writeString(mounted.resolve("offline.jpg"),
        "written while the cloud was away"));
    agent.round();
    assertThat(agent.outbox().size()).isEqualTo(1);
    ContentStore.Content staged = agent.outbox().pending().get(0).ops().get(0).content();
    // A content nothing names, stored the same way: the same collection must take it, so the
    // survivor below survives because the outbox names it, not because nothing is collected.
    Path strayFile = tmp.resolve("stray");
    Files.writeString(strayFile, "bytes nobody uses");
    ContentStore.Content stray = new ContentStore(store, tmp.resolve("scratch")).put(strayFile).content();

    // With the default grace, nothing this young goes.
    assertThat(new ShareCollector(manager).run(ShareCollector.GRACE).deleted()).isZero();
    assertThat(store.stat(stray.partKey(0))).isPresent();
    new ShareCollector(manager).run(Duration.ZERO);
    assertThat(store.stat(stray.partKey(0))).isEmpty();
    assertThat(store.stat(staged.partKey(0))).isPresent();

    // Sent, it is named by the applied record until a generation holds it; then by the generation.
    server.restart();
    assertThat(agent.round().counters().uploaded()).isEqualTo(1);
    assertThat(agent.outbox().appliedChanges()).extracting(Outbox.Applied::content).containsExactly(staged);
    new ShareCollector(manager).run(Duration.ZERO);
    assertThat(store.stat(staged.partKey(0))).isPresent();
    clock.advance(Duration.ofHours(2));
    assertThat(agent.round().generation()).isEqualTo(2);
    assertThat(agent.outbox().appliedChanges()).isEmpty();
    new ShareCollector(manager).run(Duration.ZERO);
    assertThat(store.stat(staged.partKey(0))).isPresent();
    List<String> left = agent.rebase("vm-b");
    assertThat(left).hasSize(1);
    assertThat(vmFiles(volumeOf(agent, "vm-b", "Photos"))).containsEntry("offline.jpg",
        "written while the cloud was away");
    assertThat(cloudFiles("outbox/")).containsEntry("Photos/offline.jpg", "written while the cloud was away");
  }

  @Test
  void aReadOnlySharesOldBaseStaysWhileAVmUsesItAndGoesOnceReleased() throws Exception {
    put("ro/", "Photos/beach day.jpg", "a photo of the beach");
    ShareAgent.Config config = new ShareAgent.Config("agent-ro",
        new ShareSplit.Rule(ShareSplit.Mode.BY_FOLDER, Map.of(), "other"), ImageFormat.EXT4, 16L << 20,
        ShareAgent.Direction.PULL, CloudSync.Policy.KEEP_BOTH, Duration.ofHours(1), true,
        List.of(new ShareAgent.Assignment("vm-a", "Photos")));
    ShareAgent agent = new ShareAgent(manager, cloud("ro/"), config, tmp.resolve("agent"), clock);
    agent.round();
    String firstBase = agent.newestGeneration().orElseThrow().group("Photos").volume();
    assertThat(volumeOf(agent, "vm-a", "Photos")).isEqualTo(firstBase);
    put("ro/", "Photos/second.jpg", "another photo");
    clock.advance(Duration.ofHours(2));
    assertThat(agent.round().generation()).isEqualTo(2);
    agent.round();
    // vm-a uses generation 1's base itself: it stays.
    assertThat(manager.find(firstBase)).isPresent();
    assertThat(agent.rebase("vm-a")).containsExactly(firstBase);
    agent.release(firstBase);
    agent.round();
    assertThat(manager.find(firstBase)).isEmpty();
    String secondBase = agent.newestGeneration().orElseThrow().group("Photos").volume();
    assertThat(volumeOf(agent, "vm-a", "Photos")).isEqualTo(secondBase);
    try (SnapshotDevice base = manager.openOrigin(secondBase)) {
      assertThat(read(base)).containsOnly(Map.entry("beach day.jpg", "a photo of the beach"),
          Map.entry("second.jpg", "another photo"));
    }
  }

  @Test
  void aContentDeletedBetweenTheBuildersFindingAndItsCheckIsFetchedAgain() throws Exception {
    put("race/", "Photos/beach day.jpg", "a photo of the beach");
    put("race/", "Texts/notes.txt", "meeting at noon\n");
    // The photo's bytes are in the store already, named by nothing (as after a generation that
    // dropped them): the build finds them there and does not store them again.
    Path local = tmp.resolve("photo");
    Files.writeString(local, "a photo of the beach");
    ContentStore contents = new ContentStore(store, tmp.resolve("contents"));
    ContentStore.Content photo = contents.put(local).content();
    // A collection that judged them garbage deletes them right after the build's ContentStore.has
    // said they were there. That moment cannot be timed from outside for real, so the store
    // deletes the object itself right after answering that stat.
    store.vanishAfterStat(photo.partKey(0));
    ShareBuilder builder = new ShareBuilder(manager, contents);
    ShareBuilder.Report report = builder.build(cloud("race/"), new ShareBuilder.Options("race",
        new ShareSplit.Rule(ShareSplit.Mode.BY_FOLDER, Map.of(), "other"), ImageFormat.EXT4, 16L << 20),
        Optional.empty(), 1);

    assertThat(store.vanished()).isEqualTo(1);
    // Built again: the lost photo fetched anew (the notes were still there and were reused).
    assertThat(report.downloaded()).isEqualTo(3);
    assertThat(store.stat(photo.partKey(0))).isPresent();
    assertThat(builder.read("race", 1)).isEqualTo(report.generation());
    try (SnapshotDevice base = manager.openOrigin(report.generation().group("Photos").volume())) {
      assertThat(read(base)).containsExactly(Map.entry("beach day.jpg", "a photo of the beach"));
    }
    try (SnapshotDevice base = manager.openOrigin(report.generation().group("Texts").volume())) {
      assertThat(read(base)).containsExactly(Map.entry("notes.txt", "meeting at noon\n"));
    }
  }

  @Test
  void aContentDeletedBetweenAPushsFindingAndItsCheckIsCopiedAgainFromTheSnapshot() throws Exception {
    put("pushrace/", "Photos/beach day.jpg", "a photo of the beach");
    ShareAgent agent = agent("pushrace/");
    agent.round();
    // The bytes the guest is about to write are in the store already, named by nothing (a file a
    // generation dropped): the push finds them there and stores nothing.
    Path strayFile = tmp.resolve("stray");
    Files.writeString(strayFile, "a photo a VM writes again");
    ContentStore.Content stray = new ContentStore(store, tmp.resolve("scratch")).put(strayFile).content();
    guestWrite(volumeOf(agent, "vm-a", "Photos"), mounted -> Files.writeString(mounted.resolve("again.jpg"),
        "a photo a VM writes again"));
    // A collection deletes them right after the push's ContentStore.has said they were there (a
    // moment that cannot be timed from outside for real: the store deletes the object itself).
    store.vanishAfterStat(stray.partKey(0));
    ShareStatus status = agent.round();

    assertThat(store.vanished()).isEqualTo(1);
    assertThat(store.stat(stray.partKey(0))).as("copied again from the VM's snapshot").isPresent();
    assertThat(status.counters().uploaded()).isEqualTo(1);
    assertThat(agent.outbox().size()).isZero();
    assertThat(cloudFiles("pushrace/")).containsEntry("Photos/again.jpg", "a photo a VM writes again");
  }

  // ---------------------------------------------------------------------------------------------

  /** A file store that can delete one object right after a stat found it (a collection at that moment). */
  static final class VanishingStore extends ForwardingObjectStore {
    private volatile String armed;
    private final AtomicInteger vanished = new AtomicInteger();

    VanishingStore(ObjectStore next) {
      super(next);
    }

    void vanishAfterStat(String key) {
      armed = key;
    }

    int vanished() {
      return vanished.get();
    }

    @Override
    public Optional<ObjectInfo> stat(String key) throws IOException {
      Optional<ObjectInfo> found = super.stat(key);
      if (found.isPresent() && key.equals(armed)) {
        armed = null;
        super.delete(key);
        vanished.incrementAndGet();
      }
      return found;
    }
  }

  private ShareAgent agent(String prefix) throws IOException {
    ShareAgent.Config config = new ShareAgent.Config("agent-" + prefix.replace("/", ""),
        new ShareSplit.Rule(ShareSplit.Mode.BY_FOLDER, Map.of(), "other"), ImageFormat.EXT4, 16L << 20,
        ShareAgent.Direction.BOTH, CloudSync.Policy.KEEP_BOTH, Duration.ofHours(1), false,
        List.of(new ShareAgent.Assignment("vm-a", "Photos"), new ShareAgent.Assignment("vm-b", "Photos"),
            new ShareAgent.Assignment("vm-b", "Texts")));
    return new ShareAgent(manager, cloud(prefix), config, tmp.resolve("agent"), clock);
  }

  private S3CloudDisk cloud(String prefix) {
    cloud = new S3CloudDisk(server.endpoint(), CLOUD, prefix, null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY));
    return cloud;
  }

  private void put(String prefix, String name, String text) throws IOException {
    Path local = tmp.resolve("put");
    Files.writeString(local, text);
    try (S3CloudDisk writer = new S3CloudDisk(server.endpoint(), CLOUD, prefix, null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY))) {
      writer.upload(name, local, writer.stat(name).map(CloudDisk.Entry::etag).orElse(null));
    }
  }

  /** The cloud's files under prefix, with their text. */
  private Map<String, String> cloudFiles(String prefix) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (S3CloudDisk reader = new S3CloudDisk(server.endpoint(), CLOUD, prefix, null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY))) {
      for (CloudDisk.Entry entry : reader.list()) {
        Path local = tmp.resolve("get");
        reader.download(entry.name(), entry.etag(), local);
        out.put(entry.name(), Files.readString(local));
      }
    }
    return out;
  }

  /** The shares/meta/ objects the disks map. */
  private Set<String> metaKeys(List<String> volumes) throws IOException {
    Set<String> keys = new java.util.TreeSet<>();
    for (String volume : volumes) {
      try (SnapshotDevice origin = manager.openOrigin(volume)) {
        keys.addAll(origin.mapping().referencedKeys().stream().filter(k -> k.startsWith(ImageVolumes.META_PREFIX))
            .collect(Collectors.toSet()));
      }
    }
    return keys;
  }

  private void guestWrite(String volumeName, GuestWrites.MountedChange change) throws IOException {
    try (Volume volume = manager.open(volumeName)) {
      GuestWrites.apply(volume, tmp.resolve("guest"), GuestWrites.mounted(tmp.resolve("guest"), change));
    }
  }

  private static String volumeOf(ShareAgent agent, String vm, String group) throws IOException {
    return agent.views().stream().filter(v -> v.vm().equals(vm) && v.group().equals(group) && !v.retired()).findFirst()
        .orElseThrow().volume();
  }

  /** A VM disk's files as a snapshot of it shows them (what the VM reads). */
  private Map<String, String> vmFiles(String volume) throws IOException {
    String snapshot = "look-" + System.nanoTime();
    manager.snapshot(volume, snapshot);
    try (SnapshotDevice device = manager.openSnapshot(volume, snapshot)) {
      return read(device);
    } finally {
      manager.deleteSnapshot(volume, snapshot);
    }
  }

  /** Every file of the ext4 filesystem on device, read with the project's reader. */
  private static Map<String, String> read(SnapshotDevice device) throws IOException {
    Map<String, String> out = new TreeMap<>();
    ImageReader.Blocks blocks = SharePush.blocks(device);
    for (ImageReader.FoundFile found : ImageFormat.EXT4.reader().list(blocks).files()) {
      out.put(String.join("/", found.path()), new String(ImageFixture.read(blocks, found), StandardCharsets.UTF_8));
    }
    return out;
  }
}
