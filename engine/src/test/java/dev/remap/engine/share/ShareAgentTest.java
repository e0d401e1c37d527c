package dev.remap.engine.share;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.share.image.ImageFixture;
import dev.remap.engine.share.image.ImageReader;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.S3Credentials;
import dev.remap.engine.volume.SnapshotDevice;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import dev.remap.testkit.Proc;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The share's whole data path in one process, against a real S3 server (s3proxy) as the cloud
 * disk and guests' writes made by the kernel's ext4 driver (and mtools for FAT): three VMs, two
 * sharing the Photos disk and one with Photos and Texts; a VM's new file reaches the cloud and
 * only that VM's disk is read; an outage keeps the change in the outbox across an agent restart;
 * a file put in the cloud reaches a VM at its next start; the share's own uploads are not pulled
 * again; a change made on both sides keeps both.
 */
class ShareAgentTest {

  private static final String CLOUD = "share-agent";
  private static S3ServerProcess server;

  @TempDir Path tmp;
  private CountingStore store;
  private VolumeManager manager;
  private S3CloudDisk cloud;
  private final MutableClock clock = new MutableClock(Instant.parse("2026-12-05T08:00:00Z"));

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
    store = new CountingStore(FileObjectStore.open(tmp.resolve("store")));
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

  private ShareAgent agent(String prefix, ImageFormat format, CloudSync.Policy policy) throws IOException {
    cloud = cloud == null ? new S3CloudDisk(server.endpoint(), CLOUD, prefix, null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY)) : cloud;
    ShareAgent.Config config = new ShareAgent.Config("agent-" + prefix.replace("/", ""),
        new ShareSplit.Rule(ShareSplit.Mode.BY_FOLDER, Map.of(), "other"), format, 64L << 20, ShareAgent.Direction.BOTH,
        policy, Duration.ofHours(1), false, List.of(new ShareAgent.Assignment("vm-a", "Photos"),
            new ShareAgent.Assignment("vm-b", "Photos"), new ShareAgent.Assignment("vm-c", "Photos"),
            new ShareAgent.Assignment("vm-c", "Texts")));
    return new ShareAgent(manager, cloud, config, tmp.resolve("agent"), clock);
  }

  private void put(String prefix, String name, String text) throws IOException {
    Path local = tmp.resolve("put");
    Files.writeString(local, text);
    try (S3CloudDisk writer = new S3CloudDisk(server.endpoint(), CLOUD, prefix, null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY))) {
      writer.upload(name, local, writer.stat(name).map(CloudDisk.Entry::etag).orElse(null));
    }
  }

  private void seed(String prefix) throws IOException {
    put(prefix, "Photos/beach day.jpg", "a photo of the beach");
    put(prefix, "Photos/Ünïcødé ✓.png", "a photo with a Unicode name");
    put(prefix, "Texts/notes.txt", "meeting at noon\n");
  }

  @Test
  void aVmsNewFileReachesTheCloudAndOnlyThatVmIsRead() throws Exception {
    seed("push/");
    ShareAgent agent = agent("push/", ImageFormat.EXT4, CloudSync.Policy.KEEP_BOTH);
    ShareStatus first = agent.round();
    assertThat(first.connected()).isTrue();
    assertThat(first.generation()).isEqualTo(1);
    assertThat(first.disks()).extracting(ShareStatus.Disk::group).containsExactly("Photos", "Texts");
    assertThat(first.vms()).extracting(ShareStatus.Vm::vm).containsExactlyInAnyOrder("vm-a", "vm-b", "vm-c", "vm-c");
    // Each VM sees exactly its groups.
    assertThat(files(volumeOf(agent, "vm-c", "Texts"), ImageFormat.EXT4)).containsOnlyKeys("notes.txt");
    assertThat(files(volumeOf(agent, "vm-b", "Photos"), ImageFormat.EXT4))
        .containsOnlyKeys("beach day.jpg", "Ünïcødé ✓.png");

    guestWrite(volumeOf(agent, "vm-a", "Photos"), mounted -> Files.writeString(mounted.resolve("new photo ✓.jpg"),
        "vm-a's new photo"));
    store.reset();
    ShareStatus second = agent.round();
    // The unchanged files were not read: their bytes still map onto their content objects, which
    // the round never touched; the new file's bytes came from vm-a's own segments, and the only
    // content read is the new file's own, on its way to the cloud.
    String newContent = ContentStore.PREFIX + java.util.HexFormat.of().formatHex(java.security.MessageDigest
        .getInstance("SHA-256").digest("vm-a's new photo".getBytes(StandardCharsets.UTF_8)));
    assertThat(store.reads(ContentStore.PREFIX)).isEqualTo(store.reads(newContent)).isPositive();
    assertThat(store.reads("segments/")).isPositive();
    assertThat(read("push/", "Photos/new photo ✓.jpg")).isEqualTo("vm-a's new photo");
    assertThat(second.counters().uploaded()).isEqualTo(1);
    // Only vm-a's disk was snapshotted and listed: the others had no new segment.
    for (VmView view : agent.views()) {
      assertThat(view.syncs()).as(view.vm() + "/" + view.group()).isEqualTo(view.vm().equals("vm-a") ? 1 : 0);
    }
    // A round with nothing new does nothing.
    ShareStatus third = agent.round();
    assertThat(third.counters().uploaded()).isEqualTo(1);
  }

  @Test
  void anOutageKeepsTheChangeInTheOutboxAcrossARestartAndItGoesUpOnReconnection() throws Exception {
    seed("offline/");
    ShareAgent agent = agent("offline/", ImageFormat.EXT4, CloudSync.Policy.KEEP_BOTH);
    agent.round();
    server.stop();
    guestWrite(volumeOf(agent, "vm-b", "Photos"), mounted -> Files.writeString(mounted.resolve("offline.txt"),
        "written while the cloud was away"));
    long start = System.nanoTime();
    ShareStatus down = agent.round();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    assertThat(down.connected()).isFalse();
    assertThat(down.lastError()).contains("127.0.0.1");
    assertThat(down.vms()).filteredOn(vm -> vm.vm().equals("vm-b")).extracting(ShareStatus.Vm::pending).containsExactly(1L);

    // The agent restarts: nothing is lost, the change is still waiting.
    ShareAgent restarted = agent("offline/", ImageFormat.EXT4, CloudSync.Policy.KEEP_BOTH);
    assertThat(restarted.outbox().size()).isEqualTo(1);
    assertThat(restarted.round().connected()).isFalse();
    server.restart();
    ShareStatus back = restarted.round();
    assertThat(back.connected()).isTrue();
    assertThat(restarted.outbox().size()).isZero();
    assertThat(read("offline/", "Photos/offline.txt")).isEqualTo("written while the cloud was away");
  }

  @Test
  void aFilePutInTheCloudReachesAVmAtItsNextStartAndOwnUploadsAreNotPulled() throws Exception {
    seed("pull/");
    ShareAgent agent = agent("pull/", ImageFormat.EXT4, CloudSync.Policy.KEEP_BOTH);
    agent.round();
    guestWrite(volumeOf(agent, "vm-a", "Photos"), mounted -> Files.writeString(mounted.resolve("by vm-a.jpg"), "A"));
    agent.round();
    put("pull/", "Photos/from the cloud.jpg", "put by someone else");
    long fetchedBefore = store.written(ContentStore.PREFIX);
    clock.advance(Duration.ofHours(2));
    ShareStatus pulled = agent.round();
    assertThat(pulled.generation()).isEqualTo(2);
    assertThat(pulled.counters().ownSkipped()).isEqualTo(1);
    // Only the foreign file was fetched: the own upload's bytes were already in the store.
    assertThat(store.written(ContentStore.PREFIX) - fetchedBefore).isEqualTo("put by someone else".length());
    assertThat(pulled.events().get(pulled.events().size() - 1).message()).contains("1 change(s) pulled")
        .contains("1 change(s) of the share's own folded in");
    // A running VM's disk is not changed under it; at its next start it gets generation 2.
    assertThat(files(volumeOf(agent, "vm-b", "Photos"), ImageFormat.EXT4)).doesNotContainKey("from the cloud.jpg");
    String before = volumeOf(agent, "vm-b", "Photos");
    List<String> left = agent.rebase("vm-b");
    assertThat(left).containsExactly(before);
    assertThat(files(volumeOf(agent, "vm-b", "Photos"), ImageFormat.EXT4))
        .containsEntry("from the cloud.jpg", "put by someone else").containsEntry("by vm-a.jpg", "A");
    // The old disk is retired, still synced until released; then it is gone.
    assertThat(agent.round().vms()).filteredOn(ShareStatus.Vm::retired).extracting(ShareStatus.Vm::volume)
        .containsExactly(before);
    agent.release(before);
    assertThat(manager.find(before)).isEmpty();
    assertThat(agent.views()).extracting(VmView::volume).doesNotContain(before);
    // A further round pulls nothing: the cloud holds nothing the generation does not.
    clock.advance(Duration.ofHours(2));
    assertThat(agent.round().generation()).isEqualTo(2);
  }

  @Test
  void aFileChangedInTheCloudAndInAVmKeepsBoth() throws Exception {
    seed("conflict/");
    ShareAgent agent = agent("conflict/", ImageFormat.EXT4, CloudSync.Policy.KEEP_BOTH);
    agent.round();
    put("conflict/", "Texts/notes.txt", "changed in the cloud\n");
    guestWrite(volumeOf(agent, "vm-c", "Texts"), mounted -> Files.writeString(mounted.resolve("notes.txt"),
        "changed in vm-c\n"));
    ShareStatus status = agent.round();
    assertThat(read("conflict/", "Texts/notes.txt")).isEqualTo("changed in the cloud\n");
    Map<String, String> texts = list("conflict/", "Texts/");
    assertThat(texts).hasSize(2);
    String copy = texts.keySet().stream().filter(name -> name.contains("conflict vm-c")).findFirst().orElseThrow();
    assertThat(copy).startsWith("Texts/notes (conflict vm-c 2026-12-05 080000)").endsWith(".txt");
    assertThat(texts.get(copy)).isEqualTo("changed in vm-c\n");
    assertThat(status.counters().conflicts()).isEqualTo(1);
    assertThat(status.vms()).filteredOn(vm -> vm.vm().equals("vm-c") && vm.group().equals("Texts"))
        .extracting(ShareStatus.Vm::conflicts).containsExactly(1L);
  }

  @Test
  void aVmsSecondChangeAfterAPullFollowsItsFirstAndIsNoConflict() throws Exception {
    seed("again/");
    ShareAgent agent = agent("again/", ImageFormat.EXT4, CloudSync.Policy.KEEP_BOTH);
    agent.round();
    String disk = volumeOf(agent, "vm-a", "Photos");
    guestWrite(disk, mounted -> {
      Files.writeString(mounted.resolve("mine.txt"), "first");
      Files.writeString(mounted.resolve("beach day.jpg"), "edited once");
    });
    agent.round();
    // A pull folds the share's own changes into generation 2; vm-a keeps running on generation 1.
    clock.advance(Duration.ofHours(2));
    assertThat(agent.round().generation()).isEqualTo(2);
    guestWrite(disk, mounted -> {
      Files.writeString(mounted.resolve("mine.txt"), "second");
      Files.writeString(mounted.resolve("beach day.jpg"), "edited twice");
      Files.delete(mounted.resolve("Ünïcødé ✓.png"));
    });
    ShareStatus status = agent.round();
    assertThat(list("again/", "Photos/")).containsOnly(Map.entry("Photos/mine.txt", "second"),
        Map.entry("Photos/beach day.jpg", "edited twice"));
    assertThat(status.counters().conflicts()).isZero();
    // And a third, after the next pull.
    clock.advance(Duration.ofHours(2));
    agent.round();
    guestWrite(disk, mounted -> Files.writeString(mounted.resolve("mine.txt"), "third"));
    assertThat(agent.round().counters().conflicts()).isZero();
    assertThat(read("again/", "Photos/mine.txt")).isEqualTo("third");
  }

  @Test
  void twoVmsChangingOneFileIsAConflictToo() throws Exception {
    seed("two-vms/");
    ShareAgent agent = agent("two-vms/", ImageFormat.EXT4, CloudSync.Policy.KEEP_BOTH);
    agent.round();
    guestWrite(volumeOf(agent, "vm-a", "Photos"), mounted -> Files.writeString(mounted.resolve("beach day.jpg"), "A's"));
    guestWrite(volumeOf(agent, "vm-b", "Photos"), mounted -> Files.writeString(mounted.resolve("beach day.jpg"), "B's"));
    ShareStatus status = agent.round();
    Map<String, String> photos = list("two-vms/", "Photos/");
    // The first VM's change went up; the second's did not overwrite it: it sits next to it.
    assertThat(photos.get("Photos/beach day.jpg")).isIn("A's", "B's");
    String loser = photos.get("Photos/beach day.jpg").equals("A's") ? "vm-b" : "vm-a";
    assertThat(photos).hasEntrySatisfying(
        photos.keySet().stream().filter(n -> n.contains("(conflict " + loser)).findFirst().orElseThrow(),
        text -> assertThat(text).isEqualTo(loser.equals("vm-a") ? "A's" : "B's"));
    assertThat(status.counters().conflicts()).isEqualTo(1);
  }

  @Test
  void aDeleteReachesTheCloudOnlyWhileTheCloudCopyIsUnchanged() throws Exception {
    seed("delete/");
    put("delete/", "Photos/keep me.jpg", "v1");
    ShareAgent agent = agent("delete/", ImageFormat.EXT4, CloudSync.Policy.KEEP_BOTH);
    agent.round();
    put("delete/", "Photos/keep me.jpg", "v2 from the cloud");
    guestWrite(volumeOf(agent, "vm-b", "Photos"), mounted -> {
      Files.delete(mounted.resolve("beach day.jpg"));
      Files.delete(mounted.resolve("keep me.jpg"));
    });
    agent.round();
    Map<String, String> photos = list("delete/", "Photos/");
    assertThat(photos).doesNotContainKey("Photos/beach day.jpg").containsEntry("Photos/keep me.jpg", "v2 from the cloud");
  }

  @Test
  void fatDisksChangedByAnotherFatImplementationSyncToo() throws Exception {
    seed("fat/");
    ShareAgent agent = agent("fat/", ImageFormat.VFAT, CloudSync.Policy.KEEP_BOTH);
    agent.round();
    Path file = tmp.resolve("from-mtools.txt");
    Files.writeString(file, "written by mtools");
    try (Volume volume = manager.open(volumeOf(agent, "vm-c", "Texts"))) {
      GuestWrites.apply(volume, tmp.resolve("guest"), image -> Proc.run(Duration.ofMinutes(1),
          Map.of("LC_ALL", "C.UTF-8", "MTOOLS_SKIP_CHECK", "1"),
          List.of("mcopy", "-i", image.toString(), file.toString(), "::/Ñew file.txt")).requireSuccess());
    }
    agent.round();
    assertThat(read("fat/", "Texts/Ñew file.txt")).isEqualTo("written by mtools");
  }

  // ---------------------------------------------------------------------------------------------

  private void guestWrite(String volumeName, GuestWrites.MountedChange change) throws IOException {
    try (Volume volume = manager.open(volumeName)) {
      GuestWrites.apply(volume, tmp.resolve("guest"), GuestWrites.mounted(tmp.resolve("guest"), change));
    }
  }

  private static String volumeOf(ShareAgent agent, String vm, String group) throws IOException {
    return agent.views().stream().filter(v -> v.vm().equals(vm) && v.group().equals(group) && !v.retired()).findFirst()
        .orElseThrow()
        .volume();
  }

  /** The files of a VM's disk as its snapshot shows them, read with the project's reader. */
  private Map<String, String> files(String volumeName, ImageFormat format) throws IOException {
    String snapshot = "look-" + System.nanoTime();
    manager.snapshot(volumeName, snapshot);
    Map<String, String> out = new TreeMap<>();
    try (SnapshotDevice device = manager.openSnapshot(volumeName, snapshot)) {
      ImageReader.Blocks blocks = SharePush.blocks(device);
      for (ImageReader.FoundFile found : format.reader().list(blocks).files()) {
        out.put(String.join("/", found.path()), new String(ImageFixture.read(blocks, found), StandardCharsets.UTF_8));
      }
    }
    manager.deleteSnapshot(volumeName, snapshot);
    return out;
  }

  private String read(String prefix, String name) throws IOException {
    return list(prefix, "").get(name);
  }

  /** The cloud's files under prefix + under, with their text. */
  private Map<String, String> list(String prefix, String under) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (S3CloudDisk reader = new S3CloudDisk(server.endpoint(), CLOUD, prefix, null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY))) {
      for (CloudDisk.Entry entry : reader.list()) {
        if (entry.name().startsWith(under)) {
          Path local = tmp.resolve("get");
          reader.download(entry.name(), entry.etag(), local);
          out.put(entry.name(), Files.readString(local));
        }
      }
    }
    return out;
  }

  /** A clock the test moves: pulls happen every interval of it. */
  static final class MutableClock extends Clock {
    private volatile Instant now;

    MutableClock(Instant start) {
      this.now = start;
    }

    void advance(Duration duration) {
      now = now.plus(duration);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
