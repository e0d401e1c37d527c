package dev.remap.cli;

import dev.remap.api.common.GoDuration;
import dev.remap.engine.core.Sizes;
import dev.remap.engine.share.CloudSync;
import dev.remap.engine.share.ImageFormat;
import dev.remap.engine.share.S3CloudDisk;
import dev.remap.engine.share.ShareAgent;
import dev.remap.engine.share.ShareRemoval;
import dev.remap.engine.share.ShareSplit;
import dev.remap.engine.share.ShareStatus;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.S3Credentials;
import dev.remap.engine.volume.VolumeManager;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code remap share-agent}: one LogicalDiskShare's data work (docs/SHARE.md), the process the
 * operator runs per share. Every --retry-interval it runs a round of the engine's
 * {@link ShareAgent}; a failing round is reported in the status and retried, never fatal. Its
 * HTTP face ({@link ShareAgentHttp}): GET /status, GET /healthz, POST /rebase?vm=, POST
 * /release?volume=, POST /delete ({@link Rounds}). The cloud's credentials come from REMAP_CLOUD_ACCESS_KEY_ID and
 * REMAP_CLOUD_SECRET_ACCESS_KEY, the store's from REMAP_STORE_* (never arguments, which a pod's
 * spec and ps show).
 */
@Command(name = "share-agent", mixinStandardHelpOptions = true,
    description = "Run a LogicalDiskShare's agent: fetch the cloud disk's files, build the logical disks by"
        + " remapping, give VMs their copies, send what VMs write back, pull what changes in the cloud")
final class ShareAgentCommand implements Callable<Integer> {

  static final String CLOUD = "REMAP_CLOUD";

  @Mixin StoreOptions store;

  @Option(names = "--share-id", required = true, paramLabel = "ID",
      description = "The share's id in the store (letters, digits, '.', '_', '-'): its objects live under shares/ID/")
  String shareId;

  @Option(names = "--cloud-endpoint", paramLabel = "URL", description = "S3 endpoint of the cloud disk; unset: AWS S3")
  String endpoint;

  @Option(names = "--bucket", required = true, description = "Bucket of the cloud disk")
  String bucket;

  @Option(names = "--prefix", defaultValue = "", description = "Key prefix of the files; empty: the whole bucket")
  String prefix;

  @Option(names = "--region", description = "Region of the bucket")
  String region;

  @Option(names = "--split", defaultValue = "single", description = "single, byFolder or byDataType (default ${DEFAULT-VALUE})")
  String split;

  @Option(names = "--data-type", paramLabel = "NAME=EXT[,EXT...]", description = "A data type of byDataType (repeatable, in order)")
  List<String> dataTypes = new ArrayList<>();

  @Option(names = "--others", defaultValue = "other",
      description = "Group of root files (byFolder) and files of no type (byDataType); empty: they stay in the cloud")
  String others;

  @Option(names = "--filesystem", defaultValue = "ext4", description = "ext4 or vfat (default ${DEFAULT-VALUE})")
  String filesystem;

  @Option(names = "--free-space", defaultValue = "1G", paramLabel = "SIZE", description = "Room each disk leaves for new files")
  String freeSpace;

  @Option(names = "--direction", defaultValue = "both", description = "pull, push or both (default ${DEFAULT-VALUE})")
  String direction;

  @Option(names = "--conflicts", defaultValue = "keepBoth", description = "keepBoth, cloudWins or vmWins")
  String conflicts;

  @Option(names = "--interval", defaultValue = "30s", description = "How often to pull the cloud's changes")
  String interval;

  @Option(names = "--retry-interval", defaultValue = "1s",
      description = "How often to run a round: check the cloud, stage VMs' changes, send them")
  String retryInterval;

  @Option(names = "--read-only", description = "VMs get the base disks themselves, read-only; nothing is pushed")
  boolean readOnly;

  @Option(names = "--vm", paramLabel = "NAME=GROUP[,GROUP...]", description = "A VM and the groups it gets (repeatable)")
  List<String> vms = new ArrayList<>();

  @Option(names = "--listen", defaultValue = "127.0.0.1:9810", paramLabel = "HOST:PORT", description = "HTTP address of /status")
  String listen;

  @Option(names = "--scratch", paramLabel = "DIR", description = "Local folder for files in flight (default: a temporary one)")
  Path scratch;

  @Option(names = "--once", description = "Run one round, print the status and exit (1 when the cloud did not answer)")
  boolean once;

  /** The running agent's rounds, once call() has made them (tests read what they did). */
  volatile Rounds rounds;

  @Override
  public Integer call() throws Exception {
    ShareAgent.Config config = config();
    Map<String, String> env = System.getenv();
    String id = env.get(CLOUD + "_ACCESS_KEY_ID");
    String secret = env.get(CLOUD + "_SECRET_ACCESS_KEY");
    if ((id == null) != (secret == null)) {
      throw new IllegalArgumentException(CLOUD + "_ACCESS_KEY_ID and " + CLOUD + "_SECRET_ACCESS_KEY go together");
    }
    Path work = scratch != null ? Files.createDirectories(scratch) : Files.createTempDirectory("remap-share-");
    try (ObjectStore opened = EnvCredentials.open(store.store, EnvCredentials.STORE, env);
        S3CloudDisk cloud = new S3CloudDisk(endpoint == null ? null : URI.create(endpoint), bucket, prefix, region,
            id == null ? null : new S3Credentials(id, secret))) {
      VolumeManager manager = store.volumes(opened);
      ShareAgent agent = new ShareAgent(manager, cloud, config, work, Clock.systemUTC());
      if (once) {
        ShareStatus status = agent.round();
        System.out.print(new String(status.encode(), java.nio.charset.StandardCharsets.UTF_8));
        return status.connected() ? 0 : 1;
      }
      Duration every = GoDuration.parse("--retry-interval", retryInterval);
      rounds = new Rounds(agent, config, new ShareRemoval(manager, shareId));
      try (ShareAgentHttp http = ShareAgentHttp.start(listen, agent, rounds)) {
        rounds.http = http;
        System.out.println("share agent " + shareId + " for " + cloud.describe() + " on http://" + http.address());
        while (!Thread.currentThread().isInterrupted()) {
          long started = System.nanoTime();
          rounds.runOne();
          long left = every.toNanos() - (System.nanoTime() - started);
          if (left > 0) {
            Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
          }
        }
      }
    }
    return 0;
  }

  /**
   * The agent's rounds and the share's deletion (POST /delete). Lock: a round and a deletion both
   * hold this object's monitor, so a deletion waits for the round in flight and, once it has
   * removed the share, no round starts again (a round would build the share anew): the process
   * idles until the operator deletes its Deployment. A refused or failed deletion lets the rounds
   * go on, so the changes that wait still reach the cloud.
   */
  static final class Rounds implements ShareAgentHttp.Deleter {
    private final ShareAgent agent;
    private final ShareAgent.Config config;
    private final ShareRemoval removal;
    /** Set once the HTTP face runs, before the first round. */
    volatile ShareAgentHttp http;
    private boolean deleted;
    /** Rounds not run because the share was deleted: the loop still turns, and does nothing. */
    private long skipped;

    Rounds(ShareAgent agent, ShareAgent.Config config, ShareRemoval removal) {
      this.agent = agent;
      this.config = config;
      this.removal = removal;
    }

    synchronized void runOne() {
      if (deleted) {
        skipped++;
        return;
      }
      try {
        http.publish(agent.round());
      } catch (RuntimeException | java.io.IOException e) {
        // A round that fails (the store unreachable, a damaged object) is told and retried.
        http.failed(e);
        System.err.println("share agent round failed: " + e.getMessage());
      }
    }

    synchronized long skipped() {
      return skipped;
    }

    @Override
    public synchronized ShareAgentHttp.Deletion delete(boolean abandon) throws java.io.IOException {
      String id = config.shareId();
      if (deleted) {
        return new ShareAgentHttp.Deletion(true, 0, "share " + id + " is deleted");
      }
      // A last round, so that what VMs wrote since the last one is staged and sent: needed when
      // VMs have disks that send (a generation exists), or when changes already wait.
      boolean sends = config.direction() != ShareAgent.Direction.PULL && !config.readOnly()
          && agent.newestGeneration().isPresent();
      String why = "";
      if (sends || removal.pending() > 0) {
        ShareStatus last = agent.round();
        http.publish(last);
        why = last.connected() ? "" : "the cloud did not answer (" + last.lastError() + "): ";
      }
      ShareRemoval.Result result;
      try {
        result = removal.remove(abandon);
      } catch (ShareRemoval.PendingChangesException e) {
        return new ShareAgentHttp.Deletion(false, e.pending(), why + e.getMessage()
            + " (POST /delete?abandon=true deletes it anyway)");
      }
      deleted = true;
      System.out.println("share " + id + " deleted: " + result.volumes().size() + " volume(s) and "
          + result.objects() + " object(s) removed from the store");
      return new ShareAgentHttp.Deletion(true, 0, "share " + id + " is deleted: " + result.volumes().size()
          + " volume(s) and " + result.objects() + " object(s) removed from the store");
    }
  }

  ShareAgent.Config config() {
    Map<String, List<String>> types = new LinkedHashMap<>();
    for (String type : dataTypes) {
      int eq = type.indexOf('=');
      if (eq <= 0 || eq == type.length() - 1) {
        throw new IllegalArgumentException("--data-type: '" + type + "' is not NAME=EXT[,EXT...]");
      }
      types.put(type.substring(0, eq), List.of(type.substring(eq + 1).split(",")));
    }
    ShareSplit.Mode mode = switch (split) {
      case "single" -> ShareSplit.Mode.SINGLE;
      case "byFolder" -> ShareSplit.Mode.BY_FOLDER;
      case "byDataType" -> ShareSplit.Mode.BY_DATA_TYPE;
      default -> throw new IllegalArgumentException("--split: '" + split + "' is not single, byFolder or byDataType");
    };
    if ((mode == ShareSplit.Mode.BY_DATA_TYPE) != !types.isEmpty()) {
      throw new IllegalArgumentException("--data-type is given when, and only when, --split is byDataType");
    }
    ImageFormat format = switch (filesystem) {
      case "ext4" -> ImageFormat.EXT4;
      case "vfat" -> ImageFormat.VFAT;
      default -> throw new IllegalArgumentException("--filesystem: '" + filesystem + "' is not ext4 or vfat");
    };
    ShareAgent.Direction flow = switch (direction) {
      case "pull" -> ShareAgent.Direction.PULL;
      case "push" -> ShareAgent.Direction.PUSH;
      case "both" -> ShareAgent.Direction.BOTH;
      default -> throw new IllegalArgumentException("--direction: '" + direction + "' is not pull, push or both");
    };
    CloudSync.Policy policy = switch (conflicts) {
      case "keepBoth" -> CloudSync.Policy.KEEP_BOTH;
      case "cloudWins" -> CloudSync.Policy.CLOUD_WINS;
      case "vmWins" -> CloudSync.Policy.VM_WINS;
      default -> throw new IllegalArgumentException("--conflicts: '" + conflicts + "' is not keepBoth, cloudWins or vmWins");
    };
    if (readOnly && flow != ShareAgent.Direction.PULL) {
      throw new IllegalArgumentException("--read-only needs --direction pull: a read-only share sends nothing");
    }
    List<ShareAgent.Assignment> assignments = new ArrayList<>();
    for (String vm : vms) {
      int eq = vm.indexOf('=');
      if (eq <= 0 || eq == vm.length() - 1) {
        throw new IllegalArgumentException("--vm: '" + vm + "' is not NAME=GROUP[,GROUP...]");
      }
      for (String group : vm.substring(eq + 1).split(",")) {
        assignments.add(new ShareAgent.Assignment(vm.substring(0, eq), group));
      }
    }
    long free;
    try {
      free = Sizes.parse(freeSpace);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--free-space: " + e.getMessage());
    }
    return new ShareAgent.Config(shareId, new ShareSplit.Rule(mode, types, others.isEmpty() ? null : others), format,
        free, flow, policy, GoDuration.parse("--interval", interval), readOnly, assignments);
  }
}
