package dev.remap.engine.share;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a share's agent reports (lastError: the cloud's or the store's sentence; errorReason: its
 * kind, a {@link dev.remap.engine.store.StoreException.Reason} name, "" when all is well), kept in the store at {@code shares/ID/status} (replaced after
 * every round) for the operator to read: whether the cloud answered, the generation VMs start
 * from, per disk what it holds, per VM what it has and what waits to go up, counters and the
 * latest events.
 */
public record ShareStatus(boolean connected, String lastError, String errorReason, long generation, Instant lastSync, Counters counters,
    List<Disk> disks, List<Vm> vms, List<Missing> missing, List<Event> events) {

  private static final String MAGIC = "remap-share-status 1";
  /** The events kept: the newest ones. */
  public static final int EVENTS = 20;

  public ShareStatus {
    lastError = lastError == null ? "" : lastError;
    errorReason = errorReason == null ? "" : errorReason;
    disks = List.copyOf(disks);
    vms = List.copyOf(vms);
    missing = List.copyOf(missing);
    events = List.copyOf(events);
  }

  /** Totals since the share was made: files pulled from the cloud, changes sent, own changes not pulled, conflicts. */
  public record Counters(long pulled, long uploaded, long ownSkipped, long conflicts) {}

  /** A group's disk in the current generation. */
  public record Disk(String group, String volume, long size, long files, long bytes, List<Generation.Skipped> skipped) {
    public Disk {
      skipped = List.copyOf(skipped);
    }
  }

  /**
   * A VM's disk: its group, volume, the generation it belongs to, changes waiting to go up,
   * conflicts met; retired: the VM has a newer disk for the group and this one waits for release;
   * problem: why its changes cannot be read (a sentence), "" when they can.
   */
  public record Vm(String vm, String group, String volume, long generation, long size, long pending, long conflicts,
      boolean retired, String problem) {
    public Vm {
      problem = problem == null ? "" : problem;
    }
  }

  /** A VM given a group the share does not have (no such folder or type in the cloud). */
  public record Missing(String vm, String group) {}

  /** Something the agent did or met; warning: a conflict or a disk it cannot read, for a person to look at. */
  public record Event(Instant at, boolean warning, String message) {}

  public byte[] encode() {
    StringBuilder out = new StringBuilder(MAGIC).append('\n');
    out.append("share ").append(connected).append(' ').append(generation).append(' ')
        .append(lastSync == null ? "~" : lastSync.toString()).append(' ').append(Generation.enc(lastError)).append(' ')
        .append(Generation.enc(errorReason)).append('\n');
    out.append("counters ").append(counters.pulled()).append(' ').append(counters.uploaded()).append(' ')
        .append(counters.ownSkipped()).append(' ').append(counters.conflicts()).append('\n');
    for (Disk disk : disks) {
      out.append("disk ").append(Generation.enc(disk.group())).append(' ').append(disk.volume()).append(' ')
          .append(disk.size()).append(' ').append(disk.files()).append(' ').append(disk.bytes()).append('\n');
      for (Generation.Skipped skipped : disk.skipped()) {
        out.append("skipped ").append(Generation.enc(skipped.cloudName())).append(' ')
            .append(Generation.enc(skipped.reason())).append('\n');
      }
    }
    for (Vm vm : vms) {
      out.append("vm ").append(Generation.enc(vm.vm())).append(' ').append(Generation.enc(vm.group())).append(' ')
          .append(vm.volume()).append(' ').append(vm.generation()).append(' ').append(vm.size()).append(' ')
          .append(vm.pending()).append(' ')
          .append(vm.conflicts()).append(' ').append(vm.retired()).append(' ').append(Generation.enc(vm.problem()))
          .append('\n');
    }
    for (Missing gap : missing) {
      out.append("missing ").append(Generation.enc(gap.vm())).append(' ').append(Generation.enc(gap.group())).append('\n');
    }
    for (Event event : events) {
      out.append("event ").append(event.at()).append(' ').append(event.warning()).append(' ')
          .append(Generation.enc(event.message())).append('\n');
    }
    out.append("end\n");
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  public static ShareStatus decode(byte[] bytes, String what) throws IOException {
    String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n");
    if (lines.length < 4 || !lines[0].equals(MAGIC) || !lines[lines.length - 1].equals("end")) {
      throw new IOException(what + " is not a whole share status");
    }
    try {
      String[] share = lines[1].split(" ");
      String[] c = lines[2].split(" ");
      List<Disk> disks = new ArrayList<>();
      List<Vm> vms = new ArrayList<>();
      List<Event> events = new ArrayList<>();
      List<Missing> missing = new ArrayList<>();
      for (int i = 3; i < lines.length - 1; i++) {
        String[] f = lines[i].split(" ");
        switch (f[0]) {
          case "disk" -> disks.add(new Disk(Generation.dec(f[1]), f[2], Long.parseLong(f[3]), Long.parseLong(f[4]),
              Long.parseLong(f[5]), new ArrayList<>()));
          case "skipped" -> {
            Disk last = disks.remove(disks.size() - 1);
            List<Generation.Skipped> skipped = new ArrayList<>(last.skipped());
            skipped.add(new Generation.Skipped(Generation.dec(f[1]), Generation.dec(f[2])));
            disks.add(new Disk(last.group(), last.volume(), last.size(), last.files(), last.bytes(), skipped));
          }
          case "vm" -> vms.add(new Vm(Generation.dec(f[1]), Generation.dec(f[2]), f[3], Long.parseLong(f[4]),
              Long.parseLong(f[5]), Long.parseLong(f[6]), Long.parseLong(f[7]), Boolean.parseBoolean(f[8]),
              Generation.dec(f[9])));
          case "missing" -> missing.add(new Missing(Generation.dec(f[1]), Generation.dec(f[2])));
          case "event" -> events.add(new Event(Instant.parse(f[1]), Boolean.parseBoolean(f[2]), Generation.dec(f[3])));
          default -> throw new IOException(what + " has an unknown line: " + f[0]);
        }
      }
      return new ShareStatus(Boolean.parseBoolean(share[1]), Generation.dec(share[4]), Generation.dec(share[5]),
          Long.parseLong(share[2]),
          share[3].equals("~") ? null : Instant.parse(share[3]),
          new Counters(Long.parseLong(c[1]), Long.parseLong(c[2]), Long.parseLong(c[3]), Long.parseLong(c[4])),
          disks, vms, missing, events);
    } catch (RuntimeException e) {
      throw new IOException(what + " is damaged: " + e.getMessage(), e);
    }
  }
}
