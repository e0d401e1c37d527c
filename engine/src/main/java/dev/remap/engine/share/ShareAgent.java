package dev.remap.engine.share;

import dev.remap.engine.core.MappingTable;
import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.StoreException;
import dev.remap.engine.volume.SnapshotDevice;
import dev.remap.engine.volume.VolumeManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * One share's data work, one round at a time ({@link #round}; the agent process calls it every
 * retryInterval): check the cloud, build the first generation, give each assigned VM its disks
 * (copy-on-write clones of the group's base), stage what VMs wrote into the outbox, send the
 * outbox while the cloud answers, and every interval pull the cloud's changes into a new
 * generation. Everything it knows is in the store (generations, VM views, outbox, status), so a
 * restarted agent goes on where the last one stopped. Staging needs no cloud: while it is
 * unreachable, VMs' changes still reach the outbox and wait there. Rounds also delete what is no
 * longer used: old generations' disks ({@link OldGenerations}), share objects ({@link ShareCollector}).
 *
 * <p>Threads: one agent per share, one round at a time (rounds are synchronized).
 */
public final class ShareAgent {

  /** Which way changes flow (the API's spec.sync.direction). */
  public enum Direction { PULL, PUSH, BOTH }

  /** A VM's claim on a group (from the share's allocation). */
  public record Assignment(String vm, String group) {}

  /**
   * The share's settings. readOnly: every VM gets the group's base disk itself, read-only, and
   * nothing is pushed (the API requires direction pull then).
   */
  public record Config(String shareId, ShareSplit.Rule rule, ImageFormat format, long freeSpace, Direction direction,
      CloudSync.Policy policy, Duration interval, boolean readOnly, List<Assignment> assignments) {
    public Config {
      ShareRemoval.requireId(shareId);
      assignments = List.copyOf(assignments);
    }
  }

  private final ObjectStore store;
  private final VolumeManager manager;
  private final CloudDisk cloud;
  private final Config config;
  private final ContentStore contents;
  private final Outbox outbox;
  private final ShareBuilder builder;
  private final SharePush push;
  private final ShareViews views;
  private final CloudSync sync;
  private final OldGenerations old;
  private final ShareCollector collector;
  private final Clock clock;
  private final Deque<ShareStatus.Event> events = new ArrayDeque<>();
  private Instant nextPull = Instant.MIN;
  private ShareStatus.Counters counters = new ShareStatus.Counters(0, 0, 0, 0);
  private ShareStatus last;
  /** Conflicts met per VM since the share was made (carried over from the last status). */
  private final java.util.Map<String, Long> conflictsByVm = new java.util.TreeMap<>();
  /** Why a VM disk's changes could not be read at the last round, by volume. */
  private final java.util.Map<String, String> problems = new java.util.HashMap<>();

  public ShareAgent(VolumeManager manager, CloudDisk cloud, Config config, java.nio.file.Path scratch, Clock clock)
      throws IOException {
    this.store = manager.store();
    this.manager = manager;
    this.cloud = cloud;
    this.config = config;
    this.clock = clock;
    this.contents = new ContentStore(store, scratch.resolve("content"));
    this.outbox = new Outbox(store, config.shareId());
    this.builder = new ShareBuilder(manager, contents);
    this.views = new ShareViews(store, config.shareId(), config.readOnly());
    this.push = new SharePush(manager, contents, outbox, config.rule(), config.format(), scratch.resolve("push"), clock);
    this.sync = new CloudSync(cloud, contents, outbox, config.policy(), scratch.resolve("sync"));
    this.old = new OldGenerations(manager, config.shareId());
    this.collector = new ShareCollector(manager);
    try {
      last = ShareStatus.decode(store.get(statusKey()), statusKey());
      counters = last.counters();
      last.events().forEach(events::addLast);
      last.vms().forEach(vm -> conflictsByVm.merge(vm.vm(), vm.conflicts(), Math::max));
    } catch (NoSuchObjectException e) {
      // A new share.
    }
  }

  /** One round; returns the status it saved. */
  public synchronized ShareStatus round() throws IOException {
    Instant now = clock.instant();
    boolean connected;
    String error = "";
    String reason = "";
    try {
      cloud.check();
      connected = true;
    } catch (IOException e) {
      connected = false;
      error = e.getMessage();
      reason = reason(e);
    }
    Optional<Generation> current = newestGeneration();
    List<ShareStatus.Missing> missing = new ArrayList<>();
    if (current.isEmpty() && connected) {
      ShareBuilder.Report report = builder.build(cloud, options(), Optional.empty(), List.of(), 1);
      current = Optional.of(report.generation());
      counters = new ShareStatus.Counters(counters.pulled() + report.downloaded(), counters.uploaded(),
          counters.ownSkipped(), counters.conflicts());
      event(now, "generation 1 built: " + report.downloaded() + " files fetched from " + cloud.describe());
      nextPull = now.plus(config.interval());
    }
    if (current.isPresent()) {
      Set<String> groups = current.get().groups().stream().map(Generation.Group::name).collect(Collectors.toSet());
      List<Assignment> assignments = expand(current.get());
      for (Assignment assignment : assignments) {
        if (groups.contains(assignment.group())) {
          ensureDisk(assignment, current.get());
        } else {
          missing.add(new ShareStatus.Missing(assignment.vm(), assignment.group()));
        }
      }
      for (VmView view : views()) {
        // A VM no longer given a group keeps its disk until the operator releases it (it may still
        // be attached); it is retired, so it is synced but never rebased.
        if (!view.retired() && !assignments.contains(new Assignment(view.vm(), view.group()))) {
          views.save(view.retire());
        }
      }
      if (config.direction() != Direction.PULL && !config.readOnly()) {
        for (VmView view : views()) {
          SharePush.Result result;
          try {
            result = push.sync(view);
            problems.remove(view.volume());
          } catch (IOException | RuntimeException e) {
            // One disk the share cannot read (a guest turned on a feature the reader refuses, a
            // damaged filesystem) must not stop the others: it is reported and tried again.
            String problem = "the changes of VM " + view.vm() + " on disk " + view.group() + " cannot be read: "
                + e.getMessage();
            if (!problem.equals(problems.put(view.volume(), problem))) {
              event(now, true, problem);
            }
            continue;
          }
          if (result.snapshotted()) {
            views.save(result.view());
            if (!result.staged().isEmpty()) {
              event(now, "VM " + view.vm() + " changed " + result.staged().size() + " file(s) on disk "
                  + view.group() + "; staged for the cloud");
            }
          }
        }
      }
      if (connected && config.direction() != Direction.PULL) {
        CloudSync.Result drained = sync.drain(this::appliedOne);
        drained.events().forEach(notice -> event(now, notice.conflict(), notice.message()));
        drained.conflictsByVm().forEach((vm, n) -> conflictsByVm.merge(vm, (long) n, Long::sum));
        // The views learn the versions the share's changes made, so a VM's next change to a file
        // expects the version its own last change produced (the applied records that also say
        // so are forgotten when a pull folds them into a generation).
        views.advance(outbox.appliedChanges());
        if (drained.stoppedBy().isPresent()) {
          connected = false;
          error = drained.stoppedBy().get().getMessage();
          reason = reason(drained.stoppedBy().get());
        }
      }
      if (connected && config.direction() != Direction.PUSH && !now.isBefore(nextPull)) {
        current = Optional.of(pull(current.get(), now));
        nextPull = now.plus(config.interval());
      }
      old.collect(current.get().number(), views()).ifPresent(message -> event(now, message));
    }
    collector.due(now).ifPresent(e -> event(e.at(), e.warning(), e.message()));
    ShareStatus status = status(connected, error, reason, current, missing, now);
    store.put(statusKey(), ByteBuffer.wrap(status.encode()));
    last = status;
    return status;
  }

  /**
   * Moves vm's disks to the newest generation: new disks, so never under a mounted filesystem
   * (the VM gets them at its next start, or hot-plugged beside the old ones, which stay retired,
   * and synced, until released). Only disks whose changes are all sent move; returns the volumes
   * left behind, which the caller releases once the VM no longer uses them.
   */
  public synchronized List<String> rebase(String vm) throws IOException {
    Optional<Generation> current = newestGeneration();
    List<String> old = new ArrayList<>();
    if (current.isEmpty()) {
      return old;
    }
    long pending = pendingOf(vm);
    if (pending == 0 && !outbox.appliedChanges().isEmpty()) {
      // The VM's sent changes must be in the generation it moves to, or its files would vanish
      // from its disk until the next one: fold them in first (needs the cloud; else stay).
      try {
        cloud.check();
        current = Optional.of(pull(current.get(), clock.instant()));
      } catch (dev.remap.engine.store.StoreException e) {
        return old;
      }
    }
    for (VmView view : views()) {
      if (!view.vm().equals(vm) || view.retired() || view.generation() >= current.get().number() || pending > 0) {
        continue;
      }
      if (!config.readOnly()) {
        SharePush.Result result = push.sync(view);
        views.save(result.view());
        if (!result.staged().isEmpty()) {
          // New changes: they go up first; the VM moves at a later start.
          continue;
        }
      }
      views.save(views().stream().filter(v -> v.volume().equals(view.volume())).findFirst().orElse(view).retire());
      ensureDisk(new Assignment(vm, view.group()), current.get());
      old.add(view.volume());
    }
    return old;
  }

  /**
   * Forgets a retired disk the VM no longer uses: its view goes, and the volume too (unless it is
   * a read-only share's base, which other VMs may still use). Refuses a disk whose changes are not
   * all staged yet, or that is not retired.
   */
  public synchronized void release(String volume) throws IOException {
    Optional<VmView> view = views().stream().filter(v -> v.volume().equals(volume)).findFirst();
    if (view.isEmpty()) {
      return;
    }
    if (!view.get().retired()) {
      throw new IllegalStateException("disk " + volume + " of VM " + view.get().vm() + " is in use: only a retired disk"
          + " (one the VM moved away from) can be released");
    }
    if (!config.readOnly()) {
      SharePush.Result result = push.sync(view.get());
      views.save(result.view());
      if (!result.staged().isEmpty()) {
        throw new IllegalStateException("disk " + volume + " of VM " + view.get().vm() + " had new changes; they are"
            + " staged now: release it again");
      }
      manager.delete(volume);
    }
    views.delete(view.get());
  }

  /** The VMs' disks now (one per assigned group, and retired ones until released). */
  public synchronized List<VmView> views() throws IOException {
    return views.all();
  }

  public Outbox outbox() {
    return outbox;
  }

  public Optional<Generation> newestGeneration() throws IOException {
    List<ObjectInfo> generations = store.list("shares/" + config.shareId() + "/generations/");
    if (generations.isEmpty()) {
      return Optional.empty();
    }
    String key = generations.get(generations.size() - 1).key();
    return Optional.of(Generation.decode(store.get(key), key));
  }

  /** The volume of vm's disk for group in generation number. */
  public static String vmVolume(String shareId, String group, String vm, long number) {
    return ShareBuilder.volumeName(shareId, group, number) + "-vm-" + ShareViews.hash(vm).substring(0, 12);
  }

  /** Called by the outbox's applier after each change reaches the cloud: the counters are saved at once. */
  private void appliedOne(CloudSync.Notice notice) {
    counters = new ShareStatus.Counters(counters.pulled(), counters.uploaded() + 1, counters.ownSkipped(),
        counters.conflicts() + (notice.conflict() ? 1 : 0));
    if (last != null) {
      try {
        // A crash later in the round must not lose the count of a change already in the cloud.
        store.put(statusKey(), ByteBuffer.wrap(new ShareStatus(last.connected(), last.lastError(), last.errorReason(),
            last.generation(), last.lastSync(), counters, last.disks(), last.vms(), last.missing(), last.events())
            .encode()));
      } catch (IOException e) {
        // The round's own status write comes next; a failure here only delays the count.
      }
    }
  }

  /**
   * The assignments with "all" (the API's word for every group) spelled out: in a single split it
   * is the one group's name; otherwise every group of the generation.
   */
  private List<Assignment> expand(Generation generation) {
    List<Assignment> out = new ArrayList<>();
    for (Assignment assignment : config.assignments()) {
      if (assignment.group().equals(ShareSplit.ALL) && config.rule().mode() != ShareSplit.Mode.SINGLE) {
        generation.groups().forEach(g -> out.add(new Assignment(assignment.vm(), g.name())));
      } else {
        out.add(assignment);
      }
    }
    return out.stream().distinct().toList();
  }

  private Generation pull(Generation current, Instant now) throws IOException {
    List<Outbox.Applied> own = outbox.appliedChanges();
    SharePull.Plan plan = SharePull.plan(current, cloud.list(), own);
    if (!plan.needsGeneration()) {
      return current;
    }
    ShareBuilder.Report report = builder.build(cloud, options(), Optional.of(current), own, current.number() + 1);
    outbox.forget(own);
    counters = new ShareStatus.Counters(counters.pulled() + report.downloaded(), counters.uploaded(),
        counters.ownSkipped() + plan.own(), counters.conflicts());
    event(now, "generation " + report.generation().number() + " built: " + plan.foreign() + " change(s) pulled from "
        + "the cloud (" + report.downloaded() + " file(s) fetched), " + plan.own()
        + " change(s) of the share's own folded in without fetching them");
    return report.generation();
  }

  private void ensureDisk(Assignment assignment, Generation generation) throws IOException {
    for (VmView view : views()) {
      if (view.vm().equals(assignment.vm()) && view.group().equals(assignment.group()) && !view.retired()) {
        return;
      }
    }
    Generation.Group group = generation.group(assignment.group());
    String volume = config.readOnly() ? group.volume()
        : vmVolume(config.shareId(), group.name(), assignment.vm(), generation.number());
    if (manager.find(volume).isEmpty()) {
      MappingTable base;
      try (SnapshotDevice origin = manager.openOrigin(group.volume())) {
        base = origin.mapping();
      }
      manager.createFrom(volume, base, "share:" + config.shareId() + "/" + group.name() + "@" + generation.number()
          + " for " + assignment.vm());
    }
    views.save(push.initialView(assignment.vm(), generation, group, volume));
  }

  private ShareStatus status(boolean connected, String error, String reason, Optional<Generation> current,
      List<ShareStatus.Missing> missing, Instant now) throws IOException {
    List<ShareStatus.Disk> disks = new ArrayList<>();
    current.ifPresent(g -> g.groups().forEach(group -> disks.add(new ShareStatus.Disk(group.name(), group.volume(),
        group.size(), group.files().size(), group.fileBytes(), group.skipped()))));
    java.util.Map<String, Long> pending = new java.util.HashMap<>();
    long waiting = 0;
    for (Outbox.Batch batch : outbox.pending()) {
      for (Outbox.Op op : batch.ops()) {
        pending.merge(op.vm(), 1L, Long::sum);
        waiting++;
      }
    }
    List<ShareStatus.Vm> vms = new ArrayList<>();
    for (VmView view : views()) {
      vms.add(new ShareStatus.Vm(view.vm(), view.group(), view.volume(), view.generation(), view.size(),
          pending.getOrDefault(view.vm(), 0L), conflictsByVm.getOrDefault(view.vm(), 0L), view.retired(),
          problems.get(view.volume())));
    }
    Instant lastSync = connected && waiting == 0 ? now : last == null ? null : last.lastSync();
    return new ShareStatus(connected, error, reason, current.map(Generation::number).orElse(0L), lastSync, counters, disks,
        vms, missing, List.copyOf(events));
  }

  private static String reason(IOException e) {
    return e instanceof StoreException store ? store.reason().name() : StoreException.Reason.FAILED.name();
  }

  private long pendingOf(String vm) throws IOException {
    long count = 0;
    for (Outbox.Batch batch : outbox.pending()) {
      count += batch.ops().stream().filter(op -> op.vm().equals(vm)).count();
    }
    return count;
  }

  private void event(Instant at, String message) {
    event(at, false, message);
  }

  private void event(Instant at, boolean warning, String message) {
    events.addLast(new ShareStatus.Event(at, warning, message));
    while (events.size() > ShareStatus.EVENTS) {
      events.removeFirst();
    }
  }

  private ShareBuilder.Options options() {
    return new ShareBuilder.Options(config.shareId(), config.rule(), config.format(), config.freeSpace());
  }

  private String statusKey() {
    return "shares/" + config.shareId() + "/status";
  }
}
