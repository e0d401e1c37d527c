package dev.remap.engine.share;

import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeException;
import dev.remap.engine.volume.VolumeManager;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Deletes a share's older generations once no VM is on them: a base disk of a generation older
 * than the newest goes when no VM view names that generation and group (a VM's clone, retired or
 * not, until the operator releases it; or, in a read-only share, the base itself, which its VMs
 * use directly). The newest generation's bases are never touched. A generation whose bases are
 * all gone loses its file ({@code N.gen}) too: only the newest is ever read again, and while the
 * file stays, every content it names is kept by the collection ({@link ShareCollector}).
 *
 * <p>Deleting a base frees none of the objects its mapping names by itself: a VM's clone was made
 * by {@code createFrom} with a copy of the base's mapping (VolumeSnapshots.createFrom writes it
 * as the clone's own checkpoint 0), so the clone maps the meta object and the content parts
 * itself and keeps them while it exists; what nothing maps any more goes at the next collection.
 *
 * <p>Order and crashes: bases first, then the file, so a crash in between leaves a file whose
 * bases are gone, deleted at the next round. Threads: the agent's round only (it also owns the
 * views, so no VM moves onto a generation while this looks at it).
 */
final class OldGenerations {

  private final VolumeManager manager;
  private final ObjectStore store;
  private final String prefix;
  /** Generation files are immutable: each old one is read once, not every round. */
  private final Map<String, Generation> read = new HashMap<>();
  /**
   * What the last look saw, when it left nothing it could delete later: while the newest
   * generation and the disks VMs are on stay the same, there is nothing new to look at, so a round
   * costs no LIST of the generations (a round runs every retryInterval, a second by default).
   */
  private long settledNewest = -1;
  private Set<String> settledUses = Set.of();

  OldGenerations(VolumeManager manager, String shareId) {
    this.manager = manager;
    this.store = manager.store();
    this.prefix = "shares/" + shareId + "/generations/";
  }

  /** Deletes what no VM of views is on below generation newest; says what it deleted, if anything. */
  Optional<String> collect(long newest, List<VmView> views) throws IOException {
    Set<String> uses = new HashSet<>();
    views.forEach(v -> uses.add(v.volume() + " " + v.group() + " " + v.generation()));
    if (newest == settledNewest && uses.equals(settledUses)) {
      return Optional.empty();
    }
    boolean settled = true;
    List<String> deleted = new ArrayList<>();
    for (ObjectInfo info : store.list(prefix)) {
      Generation generation;
      try {
        generation = read.containsKey(info.key()) ? read.get(info.key())
            : Generation.decode(store.get(info.key()), info.key());
      } catch (NoSuchObjectException e) {
        continue;
      }
      if (generation.number() >= newest) {
        continue;
      }
      read.put(info.key(), generation);
      boolean allGone = true;
      for (Generation.Group group : generation.groups()) {
        boolean used = views.stream().anyMatch(v -> v.volume().equals(group.volume())
            || v.generation() == generation.number() && v.group().equals(group.name()));
        if (used) {
          allGone = false;
        } else if (manager.find(group.volume()).isPresent()) {
          try {
            manager.delete(group.volume());
            deleted.add(group.volume());
          } catch (VolumeException inUse) {
            // A node still holds it (a read-only base a VM had not let go of yet): next round.
            allGone = false;
            settled = false;
          }
        }
      }
      if (allGone) {
        store.delete(info.key());
        read.remove(info.key());
      }
    }
    settledNewest = settled ? newest : -1;
    settledUses = uses;
    return deleted.isEmpty() ? Optional.empty()
        : Optional.of("older generations' disks no VM is on any more deleted: " + String.join(", ", deleted));
  }
}
