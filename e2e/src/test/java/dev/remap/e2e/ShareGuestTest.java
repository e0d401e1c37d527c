package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.share.ShareStatus;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import dev.remap.testkit.Await;
import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.RemapPaths;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A LogicalDiskShare's whole data path with real guests (docs/SHARE.md): the agent runs as
 * {@code ./remap share-agent}, the cloud disk is a real S3 server (s3proxy), Remap's store is a
 * folder shared by the agent and {@code ./remap serve}, and each VM is the QEMU test guest whose
 * disks QEMU reads from serve over NBD. The guests' own kernels mount the disks by label, list
 * them, write and sync; the test checks what a user would: the bucket's objects and bytes, the
 * agent's /status. Guests run one after another; each script ends with {@code sync}, since the
 * share sees only what the guest wrote to its disk.
 */
class ShareGuestTest {

  private static final String BUCKET = "family-files";
  private static final Duration ROUNDS = Duration.ofSeconds(60);

  @TempDir Path tmp;
  private S3ServerProcess cloud;
  private BackgroundProcess serve;
  private final List<ShareAgentProcess> agents = new ArrayList<>();

  @BeforeEach
  void startCloud() {
    cloud = S3ServerProcess.start();
    cloud.createBucket(BUCKET);
  }

  @AfterEach
  void stopAll() {
    agents.forEach(ShareAgentProcess::close);
    if (serve != null) {
      serve.close();
    }
    cloud.close();
  }

  private String store() {
    return "file://" + tmp.resolve("store");
  }

  private Path socket() {
    return tmp.resolve("nbd.sock");
  }

  private ShareBucket bucket(String prefix) {
    return new ShareBucket(cloud, BUCKET, prefix, tmp);
  }

  /** The agent, then serve on the same store: a second owner with its own journal and node id. */
  private ShareAgentProcess startAgentAndServe(String id, String prefix, String filesystem, List<String> vms) {
    ShareAgentProcess agent = ShareAgentProcess.start(store(), tmp, id, cloud, BUCKET, prefix, filesystem, vms);
    agents.add(agent);
    if (serve == null) {
      serve = BackgroundProcess.start(RemapPaths.root().resolve("remap").toString(), "serve", "--store", store(),
          "--socket", socket().toString(), "--node-id", "serve-node", "--journal", tmp.resolve("serve-journal").toString());
      serve.awaitSocket(socket(), Duration.ofSeconds(60));
    }
    return agent;
  }

  private ShareGuest.Result boot(Map<String, String> disks, String script) {
    ShareGuest.Result result = ShareGuest.boot(socket(), List.copyOf(disks.values()), script);
    System.out.printf("guest with %s: %d s; kernel: %s%n", disks.keySet(), result.seconds(), result.kernelMessages());
    return result;
  }

  private static byte[] random(long seed, int size) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** Name to SHA-256 of files, keeping only those under folder (the name without it). */
  private static Map<String, String> under(String folder, Map<String, byte[]> files) {
    Map<String, String> out = new TreeMap<>();
    files.forEach((name, bytes) -> {
      if (name.startsWith(folder + "/")) {
        out.put(name.substring(folder.length() + 1), ShareGuest.sha256(bytes));
      }
    });
    return out;
  }

  private static byte[] awaitObject(ShareBucket bucket, String name, ShareAgentProcess agent) {
    try {
      Await.until(name + " in the bucket", ROUNDS, () -> bucket.get(name).isPresent());
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "; the agent's status:\n" + agent.statusText() + "\nits output:\n"
          + agent.output(), e);
    }
    return bucket.get(name).orElseThrow();
  }

  private static List<String> changeEvents(ShareStatus status) {
    return status.events().stream().map(ShareStatus.Event::message).filter(m -> m.startsWith("VM ")).toList();
  }

  private static final String MOUNT_PHOTOS_RO = "mount -o ro LABEL=Photos /mnt/photos\nlist Photos /mnt/photos\n";
  private static final String MOUNT_TEXTS_RO = "mount -o ro LABEL=Texts /mnt/texts\nlist Texts /mnt/texts\n";
  private static final String SYNC = "umount /mnt/photos /mnt/texts 2>/dev/null || true\nsync\n";

  @Test
  void threeGuestsSeeTheirGroupsAndTheirWritesOutagesPullsAndConflictsGoThroughTheShare() throws IOException {
    long started = System.nanoTime();
    ShareBucket bucket = bucket("shared/");
    Map<String, byte[]> files = new TreeMap<>();
    files.put("Photos/beach day.jpg", random(1, 200_000));
    files.put("Photos/Ünïcødé ✓.png", random(2, 50_000));
    files.put("Texts/notes.txt", "meeting at noon\n".getBytes(StandardCharsets.UTF_8));
    files.forEach(bucket::put);
    ShareAgentProcess agent = startAgentAndServe("vms.family", "shared/", "ext4",
        List.of("vm-a=Photos", "vm-b=Photos", "vm-c=Photos,Texts"));

    // 1. The first round builds generation 1; each VM mounts its disks by label and sees exactly its groups' files.
    ShareStatus first = agent.await("generation 1 with the VMs' disks", ROUNDS,
        s -> s.generation() == 1 && s.vms().size() == 4);
    assertThat(first.connected()).isTrue();
    assertThat(first.counters().pulled()).isEqualTo(3);
    assertThat(first.disks()).extracting(ShareStatus.Disk::group).containsExactly("Photos", "Texts");
    // vm-b and vm-c only read: mounted read-only, so the kernel writes nothing (not even the superblock's mount count).
    ShareGuest.Result b = boot(ShareAgentProcess.disksOf(first, "vm-b"), MOUNT_PHOTOS_RO + SYNC);
    assertThat(b.labels()).containsExactly("Photos");
    assertThat(b.files("Photos")).isEqualTo(under("Photos", files));
    ShareGuest.Result c = boot(ShareAgentProcess.disksOf(first, "vm-c"), MOUNT_PHOTOS_RO + MOUNT_TEXTS_RO + SYNC);
    assertThat(c.labels()).containsExactly("Photos", "Texts");
    assertThat(c.files("Photos")).isEqualTo(under("Photos", files));
    assertThat(c.files("Texts")).isEqualTo(under("Texts", files));

    // 2. vm-a lists its disk, writes a new photo and syncs: the object appears with the same bytes, only vm-a was read.
    Map<String, String> aDisks = ShareAgentProcess.disksOf(first, "vm-a");
    ShareGuest.Result a = boot(aDisks, """
        mount LABEL=Photos /mnt/photos
        list Photos /mnt/photos
        dd if=/dev/urandom of="/mnt/photos/new ✓.jpg" bs=1024 count=300 2>/dev/null
        echo "WROTE $(sha256sum "/mnt/photos/new ✓.jpg" | cut -c1-64)"
        """ + SYNC);
    assertThat(a.labels()).containsExactly("Photos");
    assertThat(a.files("Photos")).isEqualTo(under("Photos", files));
    byte[] newPhoto = awaitObject(bucket, "Photos/new ✓.jpg", agent);
    assertThat(ShareGuest.sha256(newPhoto)).isEqualTo(a.value("WROTE"));
    assertThat(newPhoto).hasSize(300 * 1024);
    files.put("Photos/new ✓.jpg", newPhoto);
    ShareStatus pushed = agent.await("1 upload counted", ROUNDS, s -> s.counters().uploaded() >= 1);
    assertThat(pushed.counters().uploaded()).isEqualTo(1);
    assertThat(changeEvents(pushed)).as(agent.statusText())
        .containsExactly("VM vm-a changed 1 file(s) on disk Photos; staged for the cloud");
    assertThat(pushed.vms()).extracting(ShareStatus.Vm::problem).containsOnly("");
    try (ObjectStore observed = FileObjectStore.open(tmp.resolve("store"))) {
      VolumeManager volumes = new VolumeManager(observed,
          VolumeOptions.defaults(tmp.resolve("observer-journal")).withNode("observer"));
      assertThat(volumes.newestSegment(aDisks.get("Photos"))).as("vm-a wrote its disk").isPresent();
      for (String vm : List.of("vm-b", "vm-c")) {
        for (String volume : ShareAgentProcess.disksOf(first, vm).values()) {
          assertThat(volumes.newestSegment(volume)).as(vm + "'s disk " + volume + " was never written").isEmpty();
        }
      }
    }

    // 3. The cloud goes away: the status says so within a round or two; vm-b's write waits in the outbox.
    long stopping = System.nanoTime();
    cloud.stop(); // returns once the server process has exited
    long stopped = System.nanoTime();
    ShareStatus down = agent.await("connected=false", Duration.ofSeconds(10), s -> !s.connected());
    long noticedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopped);
    System.out.printf("the agent's status said connected=false %d ms after the cloud stopped (%d ms after the stop"
        + " began)%n", noticedMillis, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopping));
    assertThat(noticedMillis).isLessThan(3_000);
    assertThat(down.lastError()).isNotEmpty();
    ShareGuest.Result offline = boot(ShareAgentProcess.disksOf(first, "vm-b"), """
        mount LABEL=Photos /mnt/photos
        printf 'written while the cloud was away\\n' > /mnt/photos/offline.txt
        echo "WROTE $(sha256sum /mnt/photos/offline.txt | cut -c1-64)"
        """ + SYNC);
    ShareStatus waiting = agent.await("vm-b's change in the outbox", ROUNDS,
        s -> ShareAgentProcess.pendingOf(s, "vm-b") == 1);
    assertThat(waiting.connected()).isFalse();
    cloud.restart();
    byte[] offlineText = awaitObject(bucket, "Photos/offline.txt", agent);
    assertThat(ShareGuest.sha256(offlineText)).isEqualTo(offline.value("WROTE"));
    files.put("Photos/offline.txt", offlineText);
    ShareStatus back = agent.await("the outbox drained", ROUNDS,
        s -> s.connected() && ShareAgentProcess.pendingOf(s, "vm-b") == 0 && s.counters().uploaded() == 2);
    assertThat(back.lastError()).isEmpty();

    // 4. A file put into the bucket: the next generation has it, fetched alone; the share's own uploads are not fetched.
    long generationBefore = back.generation();
    byte[] foreign = random(3, 120_000);
    bucket.put("Photos/from the cloud.jpg", foreign);
    files.put("Photos/from the cloud.jpg", foreign);
    ShareStatus pulled = agent.await("the foreign file pulled into a new generation", ROUNDS,
        s -> s.generation() > generationBefore && s.counters().pulled() > 3);
    assertThat(pulled.counters().pulled()).as("the 3 seeds, then the foreign file alone").isEqualTo(4);
    assertThat(pulled.counters().ownSkipped()).as("vm-a's and vm-b's uploads seen again, not fetched").isEqualTo(2);
    Map<String, String> cBefore = ShareAgentProcess.disksOf(pulled, "vm-c");
    assertThat(agent.rebase("vm-c")).containsExactlyInAnyOrderElementsOf(cBefore.values());
    ShareStatus rebased = agent.await("vm-c's disks in the newest generation", ROUNDS, s -> s.vms().stream()
        .filter(d -> d.vm().equals("vm-c") && !d.retired()).filter(d -> d.generation() == s.generation()).count() == 2);
    Map<String, String> cDisks = ShareAgentProcess.disksOf(rebased, "vm-c");
    assertThat(cDisks.values()).doesNotContainAnyElementsOf(cBefore.values());

    // 5. notes.txt changes in the cloud and in vm-c (which still has the old one): both are kept.
    byte[] cloudNotes = "meeting moved to 2 pm\n".getBytes(StandardCharsets.UTF_8);
    bucket.put("Texts/notes.txt", cloudNotes);
    ShareGuest.Result conflict = boot(cDisks, MOUNT_PHOTOS_RO + """
        mount LABEL=Texts /mnt/texts
        list Texts /mnt/texts
        printf 'vm-c: lunch at one\\n' > /mnt/texts/notes.txt
        echo "WROTE $(sha256sum /mnt/texts/notes.txt | cut -c1-64)"
        """ + SYNC);
    assertThat(conflict.files("Photos")).isEqualTo(under("Photos", files));
    assertThat(conflict.files("Texts")).isEqualTo(under("Texts", files));
    ShareStatus conflicted = agent.await("a conflict counted", ROUNDS, s -> s.counters().conflicts() >= 1);
    assertThat(conflicted.counters().conflicts()).isEqualTo(1);
    assertThat(conflicted.vms()).filteredOn(d -> d.vm().equals("vm-c")).extracting(ShareStatus.Vm::conflicts)
        .containsOnly(1L);
    Map<String, String> texts = new TreeMap<>(bucket.hashes());
    texts.keySet().removeIf(name -> !name.startsWith("Texts/"));
    assertThat(texts).hasSize(2).containsEntry("Texts/notes.txt", ShareGuest.sha256(cloudNotes));
    String copy = texts.keySet().stream().filter(n -> !n.equals("Texts/notes.txt")).findFirst().orElseThrow();
    assertThat(copy).matches("Texts/notes \\(conflict vm-c \\d{4}-\\d{2}-\\d{2} \\d{6}\\)\\.txt");
    assertThat(texts.get(copy)).isEqualTo(conflict.value("WROTE"));
    System.out.printf("ext4 share with three guests: %d s%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
  }

  @Test
  void aFileTheGuestKernelWritesOnAVfatDiskReachesTheCloudWithItsUnicodeName() {
    long started = System.nanoTime();
    ShareBucket bucket = bucket("fat/");
    Map<String, byte[]> files = new TreeMap<>();
    files.put("Photos/beach day.jpg", random(4, 80_000));
    files.put("Photos/Ünïcødé ✓.png", random(5, 30_000));
    files.forEach(bucket::put);
    ShareAgentProcess agent = startAgentAndServe("vms.windows", "fat/", "vfat", List.of("vm-w=Photos"));
    ShareStatus first = agent.await("generation 1 with vm-w's disk", ROUNDS,
        s -> s.generation() == 1 && s.vms().size() == 1);

    // The guest kernel's vfat driver reads the builder's FAT and long names, then writes a file with a Unicode name.
    ShareGuest.Result w = boot(ShareAgentProcess.disksOf(first, "vm-w"), """
        mount -t vfat -o utf8 LABEL=PHOTOS /mnt/photos
        list Photos /mnt/photos
        dd if=/dev/urandom of="/mnt/photos/Grüße ✓ aus der VM.bin" bs=1024 count=200 2>/dev/null
        echo "WROTE $(sha256sum "/mnt/photos/Grüße ✓ aus der VM.bin" | cut -c1-64)"
        """ + SYNC);
    assertThat(w.labels()).containsExactly("PHOTOS");
    assertThat(w.files("Photos")).isEqualTo(under("Photos", files));
    byte[] written = awaitObject(bucket, "Photos/Grüße ✓ aus der VM.bin", agent);
    assertThat(ShareGuest.sha256(written)).isEqualTo(w.value("WROTE"));
    ShareStatus pushed = agent.await("1 upload counted", ROUNDS, s -> s.counters().uploaded() >= 1);
    assertThat(pushed.counters().uploaded()).isEqualTo(1);
    assertThat(bucket.hashes()).containsOnlyKeys("Photos/beach day.jpg", "Photos/Ünïcødé ✓.png",
        "Photos/Grüße ✓ aus der VM.bin");
    System.out.printf("vfat share with one guest: %d s%n", TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
  }
}
