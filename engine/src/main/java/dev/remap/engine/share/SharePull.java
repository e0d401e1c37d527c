package dev.remap.engine.share;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Whether the cloud changed since a generation, telling the cloud's own changes from the share's
 * (seed 004: "determine whether the changed cloud disk data is uploaded from the physical host;
 * if not, obtain it"). A file whose name and version the share itself produced is ours: it is
 * never fetched (its content is in the store already) and never counted as a change pulled from
 * the cloud, but it is folded into the next generation so that the other VMs see it at their
 * next start. Pure.
 */
public final class SharePull {

  private SharePull() {}

  /** foreign: changes made in the cloud by others; own: changes the share made itself. */
  public record Plan(int foreign, int own) {
    public boolean needsGeneration() {
      return foreign > 0 || own > 0;
    }
  }

  public static Plan plan(Generation current, List<CloudDisk.Entry> listing, List<Outbox.Applied> applied) {
    Map<String, String> base = new HashMap<>();
    for (Generation.Group group : current.groups()) {
      group.files().forEach(f -> base.put(f.cloudName(), f.etag()));
      group.skipped().forEach(s -> base.put(s.cloudName(), null));
    }
    current.unplaced().forEach(s -> base.put(s.cloudName(), null));
    Set<String> ownVersions = new HashSet<>();
    Set<String> ownDeletes = new HashSet<>();
    for (Outbox.Applied change : applied) {
      if (change.etag().isEmpty()) {
        ownDeletes.add(change.cloudName());
      } else {
        ownVersions.add(change.cloudName() + "\n" + change.etag());
      }
    }
    int foreign = 0;
    int own = 0;
    Set<String> listed = new HashSet<>();
    for (CloudDisk.Entry entry : listing) {
      listed.add(entry.name());
      boolean known = base.containsKey(entry.name());
      String etag = base.get(entry.name());
      // Skipped files have no version recorded: they count as unchanged while they stay listed.
      if (known && (etag == null || etag.equals(entry.etag()))) {
        continue;
      }
      if (ownVersions.contains(entry.name() + "\n" + entry.etag())) {
        own++;
      } else {
        foreign++;
      }
    }
    for (String name : base.keySet()) {
      if (!listed.contains(name)) {
        if (ownDeletes.contains(name)) {
          own++;
        } else {
          foreign++;
        }
      }
    }
    return new Plan(foreign, own);
  }
}
