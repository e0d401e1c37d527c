package dev.remap.engine.share;

import dev.remap.engine.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Applies the outbox to the cloud, oldest change first (seed 004's second and third updating
 * units): each change is conditional on the version the VM started from, so a file changed in the
 * cloud meanwhile is a conflict, settled by the share's policy instead of overwritten:
 *
 * <ul>
 *   <li>{@link Policy#KEEP_BOTH} (default): the cloud's version stays, the VM's goes next to it as
 *       {@code NAME (conflict VM YYYY-MM-DD HHMMSS).EXT};
 *   <li>{@link Policy#CLOUD_WINS}: the VM's change is dropped;
 *   <li>{@link Policy#VM_WINS}: the VM's version replaces the cloud's.
 * </ul>
 * A VM's delete reaches the cloud only while the cloud's copy is the one the VM saw; otherwise the
 * cloud's copy stays (with VM_WINS it goes). A change whose bytes are already in the cloud under
 * that name (applied just before a crash) is recognised by content and not made twice.
 *
 * <p>An unreachable cloud stops the run: the rest stays in the outbox, durable, for the next run
 * (the agent retries every retryInterval). Not thread-safe: one agent per share.
 */
public final class CloudSync {

  public enum Policy { KEEP_BOTH, CLOUD_WINS, VM_WINS }

  /** A sentence for an event; conflict: whether it tells a conflict (a warning). */
  public record Notice(String message, boolean conflict) {}

  /** What a run did: changes applied, conflicts met, sentences for events, and whether it got through. */
  public record Result(int applied, int conflicts, java.util.Map<String, Integer> conflictsByVm, List<Notice> events,
      Optional<IOException> stoppedBy) {}

  private static final DateTimeFormatter CONFLICT_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HHmmss")
      .withZone(ZoneOffset.UTC);

  private final CloudDisk cloud;
  private final ContentStore contents;
  private final Outbox outbox;
  private final Policy policy;
  private final Path scratch;

  public CloudSync(CloudDisk cloud, ContentStore contents, Outbox outbox, Policy policy, Path scratch)
      throws IOException {
    this.cloud = cloud;
    this.contents = contents;
    this.outbox = outbox;
    this.policy = policy;
    this.scratch = Files.createDirectories(scratch);
  }

  public Result drain() throws IOException {
    return drain(notice -> { });
  }

  /** As {@link #drain()}, telling onApplied of each change as soon as it is out of the outbox. */
  public Result drain(java.util.function.Consumer<Notice> onApplied) throws IOException {
    int applied = 0;
    int conflicts = 0;
    List<Notice> events = new ArrayList<>();
    java.util.Map<String, Integer> byVm = new java.util.TreeMap<>();
    List<Outbox.Applied> history = new ArrayList<>(outbox.appliedChanges());
    for (Outbox.Batch batch : outbox.pending()) {
      Outbox.Batch rest = batch;
      while (!rest.ops().isEmpty()) {
        Outbox.Op op = rest.ops().get(0);
        Outcome outcome;
        try {
          outcome = apply(op, expected(op, history));
        } catch (StoreException e) {
          return new Result(applied, conflicts, byVm, events, Optional.of(e));
        }
        outbox.applied(rest, outcome.record());
        onApplied.accept(new Notice(outcome.event(), outcome.conflict()));
        if (outcome.record() != null) {
          history.add(outcome.record());
        }
        if (outcome.conflict()) {
          conflicts++;
          byVm.merge(op.vm(), 1, Integer::sum);
        }
        events.add(new Notice(outcome.event(), outcome.conflict()));
        applied++;
        rest = new Outbox.Batch(rest.key(), rest.ops().subList(1, rest.ops().size()));
      }
    }
    return new Result(applied, conflicts, byVm, events, Optional.empty());
  }

  private record Outcome(Outbox.Applied record, boolean conflict, String event) {}

  private Outcome apply(Outbox.Op op, String expected) throws IOException {
    return op.kind() == Outbox.Kind.PUT ? put(op, expected) : delete(op, expected);
  }

  private Outcome put(Outbox.Op op, String expected) throws IOException {
    Path local = scratch.resolve("upload-" + UUID.randomUUID());
    try {
      contents.copyTo(op.content(), local);
      try {
        String etag = cloud.upload(op.cloudName(), local, expected);
        return new Outcome(record(op.vm(), op.cloudName(), expected, etag, op.content()), false,
            "uploaded " + op.cloudName() + " (" + op.content().size() + " bytes) from VM " + op.vm());
      } catch (CloudDisk.ConflictException e) {
        Optional<CloudDisk.Entry> current = cloud.stat(op.cloudName());
        if (current.isPresent() && sameContent(current.get(), op.content())) {
          return new Outcome(record(op.vm(), op.cloudName(), expected, current.get().etag(), op.content()), false,
              op.cloudName() + " from VM " + op.vm() + " was already in the cloud");
        }
        String etagNow = current.map(CloudDisk.Entry::etag).orElse(null);
        switch (policy) {
          case CLOUD_WINS:
            return new Outcome(null, true, "conflict: " + op.cloudName() + " changed in the cloud and in VM " + op.vm()
                + "; the cloud's version is kept (cloudWins) and the VM's change dropped");
          case VM_WINS:
            String etag = cloud.upload(op.cloudName(), local, etagNow);
            return new Outcome(record(op.vm(), op.cloudName(), etagNow, etag, op.content()), true, "conflict: " + op.cloudName()
                + " changed in the cloud and in VM " + op.vm() + "; the VM's version replaced it (vmWins)");
          default:
            String[] copy = keepCopy(conflictName(op.cloudName(), op.vm(), op.staged()), local, op.content());
            return new Outcome(record(op.vm(), copy[0], null, copy[1], op.content()), true, "conflict: "
                + op.cloudName() + " changed in the cloud and in VM " + op.vm() + "; both kept, the VM's version as "
                + copy[0]);
        }
      }
    } finally {
      Files.deleteIfExists(local);
    }
  }

  private Outcome delete(Outbox.Op op, String expected) throws IOException {
    try {
      cloud.delete(op.cloudName(), expected);
      return new Outcome(record(op.vm(), op.cloudName(), expected, "", null), false,
          "deleted " + op.cloudName() + " as VM " + op.vm() + " did");
    } catch (CloudDisk.ConflictException e) {
      if (policy == Policy.VM_WINS) {
        Optional<CloudDisk.Entry> current = cloud.stat(op.cloudName());
        if (current.isPresent()) {
          cloud.delete(op.cloudName(), current.get().etag());
        }
        return new Outcome(record(op.vm(), op.cloudName(), current.map(CloudDisk.Entry::etag).orElse(null), "", null), true,
            "conflict: " + op.cloudName() + " changed in the cloud and was deleted in VM " + op.vm()
                + "; deleted (vmWins)");
      }
      return new Outcome(null, true, "conflict: " + op.cloudName() + " changed in the cloud since VM " + op.vm()
          + " deleted it; the cloud's copy is kept");
    }
  }

  /**
   * The version op must find: the one the VM saw, moved forward over the changes the share made
   * to that file for the same VM since (a VM's second change to a file follows its first). Another
   * VM's change is not followed: two VMs changing one file is a conflict like any other. "" stands
   * for "the version the VM's own earlier change made".
   */
  static String expected(Outbox.Op op, List<Outbox.Applied> history) {
    String expected = op.expected();
    if (expected != null && expected.isEmpty()) {
      expected = null;
      for (Outbox.Applied applied : history) {
        if (applied.cloudName().equals(op.cloudName()) && applied.vm().equals(op.vm())) {
          expected = applied.etag().isEmpty() ? null : applied.etag();
        }
      }
      return expected;
    }
    for (Outbox.Applied applied : history) {
      if (applied.cloudName().equals(op.cloudName()) && applied.vm().equals(op.vm()) && applied.previous() != null
          && applied.previous().equals(expected)) {
        expected = applied.etag().isEmpty() ? null : applied.etag();
      }
    }
    return expected;
  }

  /**
   * Uploads the VM's version as copy, unless a retry finds it there already with these bytes; a
   * copy of that name with other bytes (two changes of one file staged in the same second) makes
   * the name "... 2)", "... 3)" and so on. Answers the name used and its version.
   */
  private String[] keepCopy(String copy, Path local, ContentStore.Content content) throws IOException {
    for (int n = 1; n <= 100; n++) {
      String name = n == 1 ? copy : copy.replaceFirst("\\)(\\.[^./]*)?$", " " + n + ")$1");
      try {
        return new String[] {name, cloud.upload(name, local, null)};
      } catch (CloudDisk.ConflictException e) {
        Optional<CloudDisk.Entry> there = cloud.stat(name);
        if (there.isPresent() && sameContent(there.get(), content)) {
          return new String[] {name, there.get().etag()};
        }
      }
    }
    throw new IOException("100 conflict copies named like " + copy + " exist in " + cloud.describe()
        + " with other bytes; the VM's change waits in the outbox");
  }

  private boolean sameContent(CloudDisk.Entry entry, ContentStore.Content content) throws IOException {
    return entry.size() == content.size() && contents.fetch(cloud, entry).content().equals(content);
  }

  private static Outbox.Applied record(String vm, String name, String previous, String etag,
      ContentStore.Content content) {
    return new Outbox.Applied(null, vm, name, previous, etag, content);
  }

  /**
   * NAME (conflict VM TIME).EXT: next to the original, sorted with it, the extension kept for the
   * apps. TIME is when the VM's change was staged, so a retry after a crash names the same copy,
   * whose bytes it then recognises instead of making a second one.
   */
  private static String conflictName(String name, String vm, java.time.Instant staged) {
    int slash = name.lastIndexOf('/');
    int dot = name.lastIndexOf('.');
    String tag = " (conflict " + vm + " " + CONFLICT_TIME.format(staged) + ")";
    return dot > slash + 1 ? name.substring(0, dot) + tag + name.substring(dot) : name + tag;
  }
}
