package dev.remap.csi.server;

import io.grpc.Status;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One in-flight operation per volume and per snapshot name. CSI allows a CO to send a second
 * call for the same volume while the first still runs (after a timeout, or a restart of the CO);
 * the second one is answered ABORTED at once rather than queued, which is what the spec asks and
 * what lets the CO retry with backoff instead of piling up calls.
 *
 * <p>Keys are namespaced ("volume:", "snapshot:") because a snapshot and a volume may share a name.
 * The node service and the controller share one instance in "all" mode, so a snapshot never runs
 * while the same volume is being unstaged.
 */
public final class NameLocks {

  private final Set<String> busy = ConcurrentHashMap.newKeySet();

  /** A held lock; close releases it. */
  public interface Held extends AutoCloseable {
    @Override
    void close();
  }

  public Held volume(String name) {
    return acquire("volume", name);
  }

  public Held snapshot(String name) {
    return acquire("snapshot", name);
  }

  /** Both or neither. Nothing waits for a lock, so the order cannot deadlock; volume first anyway. */
  public Held volumeAndSnapshot(String volume, String snapshot) {
    Held v = volume(volume);
    try {
      Held s = snapshot(snapshot);
      return () -> {
        s.close();
        v.close();
      };
    } catch (RuntimeException e) {
      v.close();
      throw e;
    }
  }

  private Held acquire(String kind, String name) {
    String key = kind + ":" + name;
    if (!busy.add(key)) {
      throw Status.ABORTED
          .withDescription("an operation on " + kind + " " + name + " is already in progress; retry later")
          .asRuntimeException();
    }
    return () -> busy.remove(key);
  }
}
