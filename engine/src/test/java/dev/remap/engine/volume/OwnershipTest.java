package dev.remap.engine.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One owner per volume across nodes: two volume managers on one store, each with its own journal
 * folder and node id, stand for two nodes; a child JVM stands for a node that dies or hangs
 * (SIGKILL, SIGSTOP: real faults, not simulated ones).
 */
class OwnershipTest {

  private static final Duration TTL = Duration.ofMillis(600);
  private static final int BLOCK = 4096;

  @TempDir Path tmp;
  private ObjectStore store;
  private final List<AutoCloseable> open = new ArrayList<>();
  private final List<Process> children = new ArrayList<>();

  @BeforeEach
  void createVolume() throws Exception {
    store = FileObjectStore.open(tmp.resolve("store"));
    node("setup").create("shared", 8L << 20, BLOCK, 64 << 10);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (Process child : children) {
      child.destroyForcibly().waitFor();
    }
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    store.close();
  }

  private VolumeManager node(String name) {
    return node(name, Duration.ofSeconds(20));
  }

  private VolumeManager node(String name, Duration handover) {
    VolumeOptions options = VolumeOptions.defaults(tmp.resolve("journal-" + name))
        .withJournal(16 << 20, 4 << 20)
        .withSegments(64 << 10, Duration.ofMillis(20), 4)
        .withNode(name)
        .withLease(TTL, handover);
    return new VolumeManager(store, options);
  }

  private Volume openOn(VolumeManager node) throws IOException {
    Volume volume = node.open("shared");
    open.add(volume);
    return volume;
  }

  @Test
  void aVolumeOpenOnTwoNodesMovesToWhicheverUsesItAndEachSeesTheOthersWrites() throws Exception {
    Volume a = openOn(node("node-a"));
    a.write(0, filled(0x11, 8 * BLOCK), false); // journaled, not flushed: the handover takes it along
    Volume b = openOn(node("node-b"));
    assertThat(a.isOwner()).isTrue();
    assertThat(b.isOwner()).as("the second node waits on standby").isFalse();

    assertThat(read(b, 0, 8 * BLOCK)).isEqualTo(filled(0x11, 8 * BLOCK).array());
    assertThat(b.isOwner()).isTrue();
    assertThat(a.isOwner()).isFalse();

    b.write(4 * BLOCK, filled(0x22, 4 * BLOCK), false);
    a.write(6 * BLOCK, filled(0x33, 2 * BLOCK), false); // takes it back, on top of b's writes
    assertThat(a.isOwner()).isTrue();
    byte[] expected = new byte[8 * BLOCK];
    java.util.Arrays.fill(expected, 0, 4 * BLOCK, (byte) 0x11);
    java.util.Arrays.fill(expected, 4 * BLOCK, 6 * BLOCK, (byte) 0x22);
    java.util.Arrays.fill(expected, 6 * BLOCK, 8 * BLOCK, (byte) 0x33);
    assertThat(read(a, 0, 8 * BLOCK)).isEqualTo(expected);
    assertThat(read(b, 0, 8 * BLOCK)).isEqualTo(expected);

    LeaseRecord lease = node("observer").ownership().read("shared").orElseThrow();
    assertThat(lease.node()).isEqualTo("node-b");
    assertThat(lease.epoch()).as("four owners one after the other").isEqualTo(4);
  }

  @Test
  void writersOnTwoNodesTakingTurnsLoseNothing() throws Exception {
    Volume a = openOn(node("node-a"));
    Volume b = openOn(node("node-b"));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<Void>> done = new ArrayList<>();
      for (Volume[] pair : new Volume[][] {{a}, {b}}) {
        Volume v = pair[0];
        int base = v == a ? 0 : 64;
        done.add(pool.submit((Callable<Void>) () -> {
          for (int round = 1; round <= 5; round++) {
            for (int i = 0; i < 64; i++) {
              v.write((long) (base + i) * BLOCK, stamp(base + i, round), false);
            }
          }
          return null;
        }));
      }
      for (Future<Void> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    a.close();
    b.close();
    try (Volume fresh = node("node-c").open("shared")) {
      for (int i = 0; i < 128; i++) {
        assertThat(read(fresh, (long) i * BLOCK, BLOCK)).as("block %d", i).isEqualTo(stamp(i, 5).array());
      }
    }
  }

  @Test
  void aSnapshotByNameTakesTheVolumeFromItsOwnerAndHoldsWhatItJournaled() throws Exception {
    Volume a = openOn(node("node-a"));
    a.write(0, filled(0x44, 4 * BLOCK), false);
    VolumeManager controller = node("controller");
    controller.snapshot("shared", "s1");
    a.write(0, filled(0x55, 4 * BLOCK), false); // asks for it back
    try (var snapshot = controller.openSnapshot("shared", "s1")) {
      ByteBuffer got = ByteBuffer.allocate(4 * BLOCK);
      snapshot.read(0, got);
      assertThat(got.array()).isEqualTo(filled(0x44, 4 * BLOCK).array());
    }
    assertThat(read(a, 0, 4 * BLOCK)).isEqualTo(filled(0x55, 4 * BLOCK).array());
  }

  @Test
  void ofTwoNodesOpeningAFreeVolumeAtOnceExactlyOneOwnsIt() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Volume>> opened = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        VolumeManager n = node("racer-" + i);
        opened.add(pool.submit(() -> openOn(n)));
      }
      int owners = 0;
      for (Future<Volume> f : opened) {
        owners += f.get().isOwner() ? 1 : 0;
      }
      assertThat(owners).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void deletingAVolumeAnotherNodeServesIsRefusedNamingThatNode() throws Exception {
    openOn(node("node-a"));
    assertThatThrownBy(() -> node("node-b").delete("shared"))
        .isInstanceOf(VolumeException.class)
        .hasMessageContaining("in use by node node-a");
  }

  @Test
  void aNodeThatDiedIsTakenOverAfterItsLeaseStopsMoving() throws Exception {
    Process owner = holder("node-a", 0x66, "uploaded");
    owner.destroyForcibly().waitFor(); // SIGKILL: it neither hands over nor renews
    Volume b = openOn(node("node-b"));
    assertThat(b.isOwner()).isFalse();
    long start = System.nanoTime();
    assertThat(read(b, 0, 16 * BLOCK)).isEqualTo(filled(0x66, 16 * BLOCK).array());
    assertThat(Duration.ofNanos(System.nanoTime() - start)).as("waited for two lease times").isGreaterThan(TTL);
    assertThat(b.isOwner()).isTrue();
  }

  @Test
  void aNodeComingBackAfterATakeOverSetsItsStaleJournalAsideInsteadOfReplayingIt() throws Exception {
    Process owner = holder("node-a", 0x77, "journal-only");
    owner.destroyForcibly().waitFor();
    Volume b = openOn(node("node-b"));
    // Node A's flushed writes were only in its journal: node B cannot have them.
    assertThat(read(b, 0, BLOCK)).isEqualTo(new byte[BLOCK]);
    b.write(0, filled(0x78, BLOCK), false);

    // Node A comes back with the journal it had (same folder, same node id).
    VolumeOptions options = VolumeOptions.defaults(tmp.resolve("journal-node-a"))
        .withJournal(16 << 20, 4 << 20).withNode("node-a").withLease(TTL, Duration.ofSeconds(20));
    Volume a = openOn(new VolumeManager(store, options));
    assertThat(a.isOwner()).isFalse();
    assertThat(read(a, 0, BLOCK)).as("node B's write, not A's stale one").isEqualTo(filled(0x78, BLOCK).array());
    try (Stream<Path> kept = Files.walk(tmp.resolve("journal-node-a"))) {
      assertThat(kept.filter(p -> p.toString().contains("orphaned-") && p.toString().endsWith(".wal")))
          .as("the stale journal is kept aside").isNotEmpty();
    }
  }

  @Test
  void anOwnerThatHangsMakesTheWaiterFailNamingIt() throws Exception {
    Process owner = holder("node-a", 0x79, "uploaded");
    new ProcessBuilder("kill", "-STOP", Long.toString(owner.pid())).start().waitFor();
    Volume b = openOn(node("node-b", Duration.ofMillis(500)));
    assertThatThrownBy(() -> read(b, 0, BLOCK))
        .isInstanceOf(VolumeException.class)
        .hasMessageContaining("in use by node node-a, which did not hand it over");
    assertThat(b.isOwner()).isFalse();
  }

  @Test
  void usageIsPublishedInTheLeaseAndAddsUpAcrossOwners() throws Exception {
    VolumeManager a = node("node-a");
    VolumeManager b = node("node-b");
    // What each node's layers above the volume counted (an NBD export's queue and RAM tier).
    java.util.concurrent.atomic.AtomicReference<Usage> countedOnA = new java.util.concurrent.atomic.AtomicReference<>(Usage.ZERO);
    java.util.concurrent.atomic.AtomicReference<Usage> countedOnB = new java.util.concurrent.atomic.AtomicReference<>(Usage.ZERO);
    Volume onA = openOn(a);
    onA.countUsage(countedOnA::get);
    onA.write(0, filled(1, BLOCK), false);
    countedOnA.set(new Usage(10, 4, 40960, 16384, 7, 3, 0, 0));
    awaitUsage(b, u -> u.writes() == 4); // published by a renewal while A serves it
    Volume onB = openOn(b);
    onB.countUsage(countedOnB::get);
    onB.write(BLOCK, filled(2, BLOCK), false); // B takes the volume over: the usage goes on with the lease
    countedOnB.set(new Usage(1, 2, 4096, 8192, 0, 1, 0, 0));
    awaitUsage(a, u -> u.writes() == 6);
    assertThat(a.usage("shared").orElseThrow()).isEqualTo(new Usage(11, 6, 45056, 24576, 7, 4, 0, 0));
    // Back to A: its own counters went on from where they were, nothing is counted twice.
    onA.write(0, filled(3, BLOCK), false);
    onB.close();
    onA.close();
    assertThat(b.usage("shared").orElseThrow()).isEqualTo(new Usage(11, 6, 45056, 24576, 7, 4, 0, 0));
  }

  private static void awaitUsage(VolumeManager reader, java.util.function.Predicate<Usage> done) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      java.util.Optional<Usage> usage = reader.usage("shared");
      if (usage.isPresent() && done.test(usage.get())) {
        return;
      }
      assertThat(System.nanoTime()).as("usage published in time: %s", usage).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  @Test
  void leasesRoundTripAndDamageIsNamed() {
    LeaseRecord lease = new LeaseRecord("id-1", "node-a", "inst", 7, 3, 15000, 1234, false);
    assertThat(LeaseRecord.decode(lease.encode().array(), "x")).isEqualTo(lease);
    LeaseRecord used = lease.withUsage(new Usage(1, 2, 3, 4, 5, 6, 7, 8));
    assertThat(LeaseRecord.decode(used.encode().array(), "x")).isEqualTo(used);
    assertThat(used.renewed(99).usage()).isEqualTo(used.usage());
    assertThat(lease.renewed(99).serial()).isEqualTo(4);
    assertThat(lease.asReleased(99).heldFor("id-1")).isFalse();
    assertThat(lease.heldFor("id-2")).isFalse();
    assertThatThrownBy(() -> LeaseRecord.decode("format=remap-lease-1\nvolumeId=a\n".getBytes(StandardCharsets.UTF_8),
        "the lease of volume v")).hasMessage("the lease of volume v is damaged: it has no node");
    assertThatThrownBy(() -> LeaseRecord.decode("hello".getBytes(StandardCharsets.UTF_8), "the lease of volume v"))
        .hasMessageContaining("is damaged: line 'hello' is not key=value");
  }

  /** Starts a LeaseHolder child serving "shared" as node and waits until it wrote and flushed. */
  private Process holder(String node, int fill, String mode) throws Exception {
    Process child = new ProcessBuilder(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        LeaseHolder.class.getName(), tmp.resolve("store").toString(), tmp.resolve("journal-" + node).toString(),
        node, Long.toString(TTL.toMillis()), Integer.toString(fill), mode))
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    children.add(child);
    BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    assertThat(out.readLine()).isEqualTo("READY");
    return child;
  }

  private static byte[] read(Volume v, long offset, int length) throws IOException {
    ByteBuffer got = ByteBuffer.allocate(length);
    v.read(offset, got);
    return got.array();
  }

  private static ByteBuffer filled(int value, int length) {
    byte[] bytes = new byte[length];
    java.util.Arrays.fill(bytes, (byte) value);
    return ByteBuffer.wrap(bytes);
  }

  private static ByteBuffer stamp(int index, int round) {
    ByteBuffer b = ByteBuffer.allocate(BLOCK);
    while (b.hasRemaining()) {
      b.putLong(((long) round << 32) | index);
    }
    return b.flip();
  }
}
