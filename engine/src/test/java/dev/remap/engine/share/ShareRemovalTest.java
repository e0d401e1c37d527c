package dev.remap.engine.share;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ForwardingObjectStore;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.S3Credentials;
import dev.remap.engine.volume.StoreLayout;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeMeta;
import dev.remap.engine.volume.VolumeOptions;
import dev.remap.testkit.Ports;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Removing a share from the store, with the real parts: a file store as Remap's, s3proxy as the
 * cloud, VMs' writes made by the kernel's ext4 driver. Two shares live side by side, one's id a
 * prefix of the other's ("rm" and "rm-b"): removing "rm" leaves no key of it (volumes, their
 * checkpoints and snapshots, shares/rm/) and every key of "rm-b" and the shared content. A change
 * still in the outbox is refused (nothing deleted) unless abandoned; a removal cut short is
 * finished by the next; a removal of a removed share does nothing.
 */
class ShareRemovalTest {

  private static final String CLOUD = "share-removal";
  private static S3ServerProcess server;

  @TempDir Path tmp;
  private ObjectStore store;
  private VolumeManager manager;
  private final ShareAgentTest.MutableClock clock = new ShareAgentTest.MutableClock(Instant.parse("2026-12-05T08:00:00Z"));
  private final List<S3CloudDisk> clouds = new ArrayList<>();

  @BeforeAll
  static void startServer() throws IOException {
    server = S3ServerProcess.start();
    server.createBucket(CLOUD);
    put("Photos/beach day.jpg", "a photo of the beach");
    put("Texts/notes.txt", "meeting at noon\n");
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @BeforeEach
  void open() throws IOException {
    store = FileObjectStore.open(tmp.resolve("store"));
    manager = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("journal")));
  }

  @AfterEach
  void close() throws IOException {
    for (S3CloudDisk cloud : clouds) {
      cloud.close();
    }
    store.close();
  }

  @Test
  void removingAShareLeavesNoneOfItsKeysAndEveryOtherKey() throws Exception {
    ShareAgent other = agent("rm-b", server.endpoint());
    other.round();
    ShareAgent agent = agent("rm", server.endpoint());
    agent.round();
    // vm-a writes (the change goes up), the cloud changes (generation 2), vm-a moves to it: the
    // share has two generations' bases, vm-a's two clones, vm-b's clones and a snapshot left over.
    guestWrite(volumeOf(agent, "vm-a", "Photos"), mounted -> Files.writeString(mounted.resolve("mine.txt"), "A"));
    assertThat(agent.round().counters().uploaded()).isEqualTo(1);
    clock.advance(Duration.ofHours(2));
    assertThat(agent.round().generation()).isEqualTo(2);
    assertThat(agent.rebase("vm-a")).hasSize(1);
    manager.snapshot(volumeOf(agent, "vm-b", "Texts"), "left-by-a-crash");
    ShareRemoval removal = new ShareRemoval(manager, "rm");
    assertThat(removal.volumes()).as("2 generations' bases, vm-a's 2 clones, vm-b's 2").hasSize(2 + 2 + 2 + 2).allMatch(v -> v.startsWith("share-rm-"));
    Set<String> ids = new TreeSet<>();
    for (String volume : removal.volumes()) {
      ids.add(manager.meta(volume).id());
    }
    Set<String> before = keys();
    long otherVolumes = manager.list().stream().filter(v -> v.name().startsWith("share-rm-b-")).count();
    assertThat(otherVolumes).isEqualTo(2 + 1 + 2);

    ShareRemoval.Result result = removal.remove(false);

    assertThat(result.volumes()).hasSize(8);
    assertThat(manager.list()).extracting(VolumeMeta::name).hasSize((int) otherVolumes)
        .allMatch(name -> name.startsWith("share-rm-b-"));
    Set<String> expected = new TreeSet<>();
    Pattern ofRm = Pattern.compile(".*share-rm-[0-9a-f]{12}-g.*");
    for (String key : before) {
      boolean mine = key.startsWith("shares/rm/") || ofRm.matcher(key).matches()
          || ids.stream().anyMatch(id -> key.startsWith(StoreLayout.checkpointPrefix(id))
              || key.equals(StoreLayout.synced(id)));
      if (!mine) {
        expected.add(key);
      }
    }
    assertThat(expected).as("the other share's keys").anyMatch(k -> k.startsWith("shares/rm-b/"))
        .anyMatch(k -> k.startsWith("volumes/share-rm-b-")).anyMatch(k -> k.startsWith(ContentStore.PREFIX));
    // Every key of the other share and the shared content stays; of "rm" nothing but the segments
    // vm-a wrote, which no mapping references now (the store's collection frees them).
    assertThat(keys()).isEqualTo(expected);
    assertThat(keys()).noneMatch(k -> k.startsWith("shares/rm/"));

    // A second removal has nothing left to do and writes nothing.
    assertThat(new ShareRemoval(manager, "rm").remove(false)).isEqualTo(new ShareRemoval.Result(List.of(), 0));
    assertThat(keys()).isEqualTo(expected);
    // The other share still works: its round finds every disk it had.
    assertThat(other.round().vms()).hasSize(3);
  }

  @Test
  void aChangeNotYetSentIsRefusedWithNothingDeletedUnlessAbandoned() throws Exception {
    agent("rm", server.endpoint()).round();
    // The agent restarts while the cloud cannot be reached; vm-b's write waits in the outbox.
    ShareAgent offline = agent("rm", URI.create("http://127.0.0.1:" + Ports.free()));
    guestWrite(volumeOf(offline, "vm-b", "Texts"), mounted -> Files.writeString(mounted.resolve("late.txt"), "B"));
    assertThat(offline.round().connected()).isFalse();
    Set<String> before = keys();
    ShareRemoval removal = new ShareRemoval(manager, "rm");
    assertThat(removal.pending()).isEqualTo(1);

    assertThatThrownBy(() -> removal.remove(false)).isInstanceOfSatisfying(ShareRemoval.PendingChangesException.class,
        e -> assertThat(e.pending()).isEqualTo(1))
        .hasMessage("share rm has 1 change(s) of its VMs not yet sent to the cloud; removing it now would lose them:"
            + " remove it once they are sent, or abandon them");
    assertThat(keys()).isEqualTo(before);

    assertThat(removal.remove(true).volumes()).hasSize(2 + 3);
    assertThat(keys()).noneMatch(k -> k.startsWith("shares/rm/") || k.startsWith("volumes/share-rm-"));
  }

  @Test
  void aRemovalCutShortIsFinishedByTheNextWithoutAskingAgain() throws Exception {
    agent("rm", server.endpoint()).round();
    ShareAgent offline = agent("rm", URI.create("http://127.0.0.1:" + Ports.free()));
    guestWrite(volumeOf(offline, "vm-a", "Photos"), mounted -> Files.writeString(mounted.resolve("late.txt"), "A"));
    offline.round();
    // The process dies after its third volume: the store refuses everything from then on.
    ObjectStore dying = new ForwardingObjectStore(store) {
      private int volumesDeleted;

      @Override
      public void delete(String key) throws IOException {
        if (key.startsWith(StoreLayout.metaPrefix()) && ++volumesDeleted > 3) {
          throw new IOException("the process died");
        }
        super.delete(key);
      }
    };
    VolumeManager crashing = new VolumeManager(dying, VolumeOptions.defaults(tmp.resolve("journal")));
    assertThatThrownBy(() -> new ShareRemoval(crashing, "rm").remove(true)).hasMessage("the process died");
    assertThat(new ShareRemoval(manager, "rm").volumes()).hasSize(2);
    assertThat(store.list("shares/rm/outbox/")).as("the abandoned change is still there").hasSize(1);

    // The next run (told nothing about abandoning) finishes: the decision was taken.
    assertThat(new ShareRemoval(manager, "rm").remove(false).volumes()).hasSize(2);
    assertThat(keys()).noneMatch(k -> k.startsWith("shares/rm/") || k.startsWith("volumes/share-rm-"));
  }

  @Test
  void theSharedFoldersAreNoShare() {
    assertThatThrownBy(() -> new ShareRemoval(manager, "content")).hasMessageContaining("share id 'content' is invalid");
    assertThatThrownBy(() -> new ShareRemoval(manager, "../x")).hasMessageContaining("share id '../x' is invalid");
    // Nor can an agent start on them: its records would be mixed with every share's content.
    assertThatThrownBy(() -> new ShareAgent.Config("meta", new ShareSplit.Rule(ShareSplit.Mode.SINGLE, Map.of(), "other"), ImageFormat.EXT4, 0,
        ShareAgent.Direction.BOTH, CloudSync.Policy.KEEP_BOTH, java.time.Duration.ofSeconds(30), false, List.of()))
        .hasMessageContaining("share id 'meta' is invalid");
  }

  // ---------------------------------------------------------------------------------------------

  /** A byFolder share: vm-a gets Photos, vm-b Photos and Texts. */
  private ShareAgent agent(String id, URI endpoint) throws IOException {
    S3CloudDisk cloud = new S3CloudDisk(endpoint, CLOUD, "", null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY));
    clouds.add(cloud);
    ShareAgent.Config config = new ShareAgent.Config(id, new ShareSplit.Rule(ShareSplit.Mode.BY_FOLDER, Map.of(),
        "other"), ImageFormat.EXT4, 16L << 20, ShareAgent.Direction.BOTH, CloudSync.Policy.KEEP_BOTH,
        Duration.ofHours(1), false, List.of(new ShareAgent.Assignment("vm-a", "Photos"),
            new ShareAgent.Assignment("vm-b", "Photos"), new ShareAgent.Assignment("vm-b", "Texts")));
    return new ShareAgent(manager, cloud, config, tmp.resolve("agent-" + id), clock);
  }

  private static void put(String name, String text) throws IOException {
    Path local = Files.createTempFile("share-removal-", ".txt");
    Files.writeString(local, text);
    try (S3CloudDisk writer = new S3CloudDisk(server.endpoint(), CLOUD, "", null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY))) {
      writer.upload(name, local, writer.stat(name).map(CloudDisk.Entry::etag).orElse(null));
    } finally {
      Files.delete(local);
    }
  }

  private void guestWrite(String volumeName, GuestWrites.MountedChange change) throws IOException {
    try (Volume volume = manager.open(volumeName)) {
      GuestWrites.apply(volume, tmp.resolve("guest"), GuestWrites.mounted(tmp.resolve("guest"), change));
    }
  }

  private static String volumeOf(ShareAgent agent, String vm, String group) throws IOException {
    return agent.views().stream().filter(v -> v.vm().equals(vm) && v.group().equals(group) && !v.retired())
        .findFirst().orElseThrow().volume();
  }

  private Set<String> keys() throws IOException {
    Set<String> out = new TreeSet<>();
    for (ObjectInfo info : store.list("")) {
      out.add(info.key());
    }
    return out;
  }
}
