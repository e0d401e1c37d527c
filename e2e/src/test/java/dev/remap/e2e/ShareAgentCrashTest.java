package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.share.ShareStatus;
import dev.remap.testkit.Await;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The share agent's durability claim tested the way it can fail (docs/SHARE.md, "Offline" and
 * "Conflicts and deletes"): everything it knows is in Remap's store, so a SIGKILL at any moment
 * loses no change a VM synced and makes none twice. The real {@code ./remap share-agent} runs
 * against s3proxy as the cloud and a file store; two VMs (vm-a on Photos, vm-b on Texts, a byFolder
 * split) change their disks through the kernel's ext4 driver while the agent is down, right after
 * a kill; the agent is started again and SIGKILLed at a random moment (while the JVM starts, in
 * a round, in a pull: up to 1.5 s after its first round would end), or after it reported
 * everything sent. Each kill is printed with the agent's last status. At the end one agent
 * runs until nothing is pending, and the bucket must hold exactly what the disks hold, name by
 * name and SHA-256 by SHA-256: no change lost, no conflict copy, no file left over.
 */
class ShareAgentCrashTest {

  private static final String BUCKET = "crash-files";
  private static final Duration SETTLE = Duration.ofSeconds(90);
  /** A pull every second: generations are built (and killed while being built) during the run. */
  private static final String INTERVAL = "1s";
  private static final Map<String, String> GROUP_OF = Map.of("vm-a", "Photos", "vm-b", "Texts");

  @TempDir Path tmp;
  private S3ServerProcess cloud;
  private CrashableShareAgent agent;

  @BeforeEach
  void startCloud() {
    cloud = S3ServerProcess.start();
    cloud.createBucket(BUCKET);
  }

  @AfterEach
  void stopAll() {
    if (agent != null) {
      agent.close();
    }
    cloud.close();
  }

  @Test
  void sigkillAtRandomMomentsLosesNoSyncedChangeAndMakesNoneTwice() throws IOException {
    Run run = new Run("vms.crash", "crash/");
    run.iterations(20, -1);
    Map<String, String> disks = run.settle();
    Map<String, String> inBucket = run.bucket.hashes();
    assertThat(inBucket).as("the bucket against the VMs' disks: %s", difference(disks, inBucket)).isEqualTo(disks);
    assertThat(disks).as("the VMs' disks against what the test wrote: %s", difference(run.expected, disks))
        .isEqualTo(run.expected);
    assertThat(run.settled.counters().conflicts()).as("conflicts (the cloud was not changed)").isZero();
    run.assertUploadsCounted();
  }

  @Test
  void aRealConflictAmongTheKillsStillGivesExactlyOneConflictCopy() throws IOException {
    Run run = new Run("vms.conflict", "conflict/");
    run.iterations(9, 3);
    Map<String, String> disks = run.settle();
    assertThat(disks).as("the VMs' disks against what the test wrote: %s", difference(run.expected, disks))
        .isEqualTo(run.expected);
    Map<String, String> inBucket = new TreeMap<>(run.bucket.hashes());
    List<String> copies = inBucket.keySet().stream().filter(n -> n.contains("(conflict")).toList();
    assertThat(copies).as("conflict copies; the bucket against the VMs' disks: %s", difference(disks, inBucket))
        .hasSize(1);
    assertThat(copies.get(0)).matches("Texts/notes \\(conflict vm-b \\d{4}-\\d{2}-\\d{2} \\d{6}\\)\\.txt");
    assertThat(inBucket.remove(copies.get(0))).as("the copy holds vm-b's version").isEqualTo(disks.get(Run.NOTES));
    // Apart from the copy the bucket is the disks, except that notes.txt stays the cloud's version.
    Map<String, String> rest = new TreeMap<>(disks);
    rest.put(Run.NOTES, run.cloudNotes);
    assertThat(inBucket).as("the rest of the bucket: %s", difference(rest, inBucket)).isEqualTo(rest);
    // The counters are kept within one per kill (assertUploadsCounted): a conflict applied just
    // before a kill may be counted twice or not at all; the one copy above is what the user sees.
    assertThat(run.settled.counters().conflicts()).as("conflicts counted").isBetween(1L - run.kills, 1L + run.kills);
    run.assertUploadsCounted();
  }

  /** One share's life: the VMs' changes, the kills, and what the test expects the disks to hold. */
  private final class Run {

    static final String NOTES = "Texts/notes.txt";

    final ShareBucket bucket;
    final CrashableShareAgent.Settings settings;
    final ShareDiskGuest guest = new ShareDiskGuest(tmp.resolve("store"), tmp.resolve("guest"));
    final long seed = System.nanoTime();
    final Random random = new Random(seed);
    /** Cloud name to SHA-256 of every file on the VMs' disks, as the test made them. */
    final Map<String, String> expected = new TreeMap<>();
    final Map<String, String> volumes = new TreeMap<>();
    int changes;
    /** How long the agent took to a first round that sent everything (learnt as the run goes). */
    long firstRoundMillis;
    int killedAfterARound;
    int kills;
    String cloudNotes = "";
    ShareStatus settled;

    Run(String id, String prefix) {
      bucket = new ShareBucket(cloud, BUCKET, prefix, tmp);
      settings = new CrashableShareAgent.Settings("file://" + tmp.resolve("store"), tmp, id, cloud, BUCKET, prefix,
          "byFolder", INTERVAL, List.of("vm-a=Photos", "vm-b=Texts"));
      put("Photos/beach day.jpg", bytes(200_000));
      put("Photos/old.png", bytes(30_000));
      put(NOTES, "meeting at noon\n".getBytes(StandardCharsets.UTF_8));
      System.out.printf("%s: random seed %d%n", id, seed);
      // Generation 1 and the VMs' disks; then the first kill, with the agent idle.
      agent = CrashableShareAgent.start(settings);
      ShareStatus first = await("generation 1 with both VMs' disks",
          s -> s.connected() && s.generation() >= 1 && s.vms().size() == 2);
      firstRoundMillis = agent.aliveMillis();
      GROUP_OF.keySet().forEach(vm -> volumes.put(vm, ShareAgentProcess.disksOf(first, vm).get(GROUP_OF.get(vm))));
      kill("after generation 1", first);
    }

    private void put(String name, byte[] bytes) {
      bucket.put(name, bytes);
      expected.put(name, ShareGuest.sha256(bytes));
    }

    /**
     * count rounds of: a VM changes its disk while the agent is down, the agent starts and is
     * killed. At conflictAt, notes.txt is changed in the cloud and in vm-b in the same round.
     */
    void iterations(int count, int conflictAt) throws IOException {
      // In the conflict run notes.txt changes only at conflictAt: its one conflict is what the test counts.
      List<String> protectedNames = new ArrayList<>(conflictAt >= 0 ? List.of(NOTES) : List.of());
      for (int i = 0; i < count; i++) {
        String vm = i % 2 == 0 ? "vm-a" : "vm-b";
        String group = GROUP_OF.get(vm);
        if (i == conflictAt) {
          vm = "vm-b";
          group = "Texts";
          cloudNotes = ShareGuest.sha256(bytesOf("meeting moved to 2 pm\n"));
          bucket.put(NOTES, bytesOf("meeting moved to 2 pm\n"));
        }
        String what = change(i, vm, group, i == conflictAt, protectedNames);
        agent = CrashableShareAgent.start(settings);
        boolean letRun = i % 4 == 2;
        // The random moment covers the JVM's start, the first round (staging, sending, a pull) and
        // the rounds after: its window is the last measured time to a first round plus 1.5 s.
        long pause = letRun ? random.nextInt(600) : random.nextInt((int) firstRoundMillis + 1500);
        ShareStatus seen = null;
        if (letRun) {
          seen = await("everything sent", s -> s.connected() && s.vms().stream().allMatch(v -> v.pending() == 0));
          firstRoundMillis = agent.aliveMillis();
        }
        long until = agent.aliveMillis() + pause;
        while (agent.aliveMillis() < until) {
          seen = agent.status().orElse(seen);
          CrashableShareAgent.sleep(Math.min(50, Math.max(1, until - agent.aliveMillis())));
        }
        if (!letRun && seen != null) {
          killedAfterARound++;
        }
        System.out.printf("iteration %d: %s%n", i, what);
        kill(letRun ? "after it reported everything sent and " + pause + " ms more" : "at a random moment", seen);
      }
      // Without this the run could pass with every random kill landing before the agent's first round.
      assertThat(killedAfterARound).as("random kills that came after the agent had finished a round")
          .isGreaterThanOrEqualTo(count / 5);
    }

    /** The VM's change for iteration i (while the agent is down); returns what it did. */
    private String change(int i, String vm, String group, boolean conflict, List<String> protectedNames)
        throws IOException {
      List<String> mine = expected.keySet().stream()
          .filter(n -> n.startsWith(group + "/") && !protectedNames.contains(n)).toList();
      Map<String, byte[]> writes = new TreeMap<>();
      List<String> deletes = new ArrayList<>();
      writes.put(group + "/f-" + i + ".bin", bytes(1 + random.nextInt(256 << 10)));
      if (conflict) {
        writes.put(NOTES, bytesOf("vm-b: lunch at one " + seed + "\n"));
      } else if (i % 3 == 1 && !mine.isEmpty()) {
        // Every third iteration rewrites, the next deletes: both VMs do both (they alternate).
        writes.put(mine.get(random.nextInt(mine.size())), bytes(1 + random.nextInt(128 << 10)));
      } else if (i % 3 == 2 && mine.size() > 1) {
        deletes.add(mine.get(random.nextInt(mine.size())));
      }
      long start = System.nanoTime();
      int blocks = guest.write(volumes.get(vm), root -> {
        for (Map.Entry<String, byte[]> w : writes.entrySet()) {
          Files.write(root.resolve(w.getKey().substring(group.length() + 1)), w.getValue());
        }
        for (String name : deletes) {
          Files.delete(root.resolve(name.substring(group.length() + 1)));
        }
      });
      writes.forEach((name, bytes) -> expected.put(name, ShareGuest.sha256(bytes)));
      deletes.forEach(expected::remove);
      changes += writes.size() + deletes.size();
      List<String> said = new ArrayList<>();
      writes.forEach((name, bytes) -> said.add("wrote " + name + " (" + bytes.length + " bytes)"));
      deletes.forEach(name -> said.add("deleted " + name));
      return vm + " " + String.join(", ", said) + (conflict ? " while the cloud changed it too" : "") + ": " + blocks
          + " blocks in " + (System.nanoTime() - start) / 1_000_000 + " ms";
    }

    private void kill(String when, ShareStatus seen) {
      long alive = agent.aliveMillis();
      agent.kill();
      kills++;
      System.out.printf("  SIGKILL %s, %d ms after the start; it last said: %s%n", when, alive, describe(seen));
      agent.output().lines().filter(l -> l.contains("failed") || l.contains("Exception"))
          .forEach(l -> System.out.println("  agent: " + l));
      agent.close();
      agent = null;
    }

    /**
     * The last agent runs until nothing is pending; it is stopped, and the VMs' disks are read
     * through the kernel. Returns cloud name to SHA-256 of every file on them.
     */
    Map<String, String> settle() throws IOException {
      agent = CrashableShareAgent.start(settings);
      settled = await("nothing pending, connected", s -> s.connected() && s.vms().size() == 2
          && s.vms().stream().allMatch(v -> v.pending() == 0));
      System.out.printf("settled: %s%n", describe(settled));
      // The agent's own account of what it sent last (its last 20 events), to read a failure against.
      settled.events().forEach(e -> System.out.println("  event: " + e.message()));
      agent.close();
      agent = null;
      Map<String, String> disks = new TreeMap<>();
      for (Map.Entry<String, String> vm : volumes.entrySet()) {
        String group = GROUP_OF.get(vm.getKey());
        guest.files(vm.getValue()).forEach((path, sha) -> disks.put(group + "/" + path, sha));
      }
      return disks;
    }

    /**
     * Every change the VMs made was counted as sent, within one per kill: the agent saves its
     * counters right after each change leaves the outbox, so a kill between the two loses that one
     * count, and a change applied just before a kill and recognised again after it is counted twice
     * (never the change itself: the bucket's checks above say so). docs/SHARE.md, Limits.
     */
    void assertUploadsCounted() {
      assertThat(settled.counters().uploaded()).as("uploads counted against the %d changes made, %d kills", changes,
          kills).isBetween((long) changes - kills, (long) changes + kills);
    }

    private ShareStatus await(String what, java.util.function.Predicate<ShareStatus> condition) {
      AtomicReference<ShareStatus> seen = new AtomicReference<>();
      try {
        Await.until(what, SETTLE, () -> {
          Optional<ShareStatus> status = agent.status();
          status.ifPresent(seen::set);
          return status.isPresent() && condition.test(status.get());
        });
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "; the agent last said: " + describe(seen.get()) + "\nits output:\n"
            + agent.output(), e);
      }
      return seen.get();
    }

    private byte[] bytes(int size) {
      byte[] bytes = new byte[size];
      random.nextBytes(bytes);
      return bytes;
    }
  }

  private static byte[] bytesOf(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** What actual lacks, has too many, or holds with other bytes than expected, for a failure's message. */
  private static String difference(Map<String, String> expected, Map<String, String> actual) {
    List<String> out = new ArrayList<>();
    expected.forEach((name, sha) -> {
      if (!actual.containsKey(name)) {
        out.add("missing " + name);
      } else if (!actual.get(name).equals(sha)) {
        out.add("other bytes in " + name);
      }
    });
    actual.keySet().stream().filter(name -> !expected.containsKey(name)).forEach(name -> out.add("extra " + name));
    return out.isEmpty() ? "the same" : String.join("; ", out);
  }

  private static String describe(ShareStatus s) {
    if (s == null) {
      return "nothing (no round finished)";
    }
    long pending = s.vms().stream().mapToLong(ShareStatus.Vm::pending).sum();
    return "generation " + s.generation() + ", connected " + s.connected() + ", pending " + pending + ", uploaded "
        + s.counters().uploaded() + ", conflicts " + s.counters().conflicts() + ", own skipped "
        + s.counters().ownSkipped() + (s.lastError().isEmpty() ? "" : ", error " + s.lastError());
  }
}
