package dev.remap.engine.store;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * Where the engine persists everything: data segments, mapping checkpoints, volume metadata and
 * snapshot manifests. Almost every object is written once and never changed (a new generation gets
 * a new key); a few small metadata objects are replaced whole with {@link #put}.
 *
 * <h2>Contract (every implementation; one test suite checks it against each)</h2>
 * <ul>
 *   <li><b>Keys</b> follow {@link ObjectKeys}; a bad key is an IllegalArgumentException naming it,
 *       thrown before the store is touched.
 *   <li><b>Atomicity.</b> A reader never sees part of an object: it sees no object, a whole old
 *       version or the whole new one. A failed put leaves the old version (or nothing).
 *   <li><b>Durability.</b> When put, putIfAbsent, delete or deleteAll return, the change survives a
 *       crash of the process and of the machine (file store: data and directory entries are fsynced;
 *       S3: the server acknowledged it). The one exception is {@link #putIfAbsentLazily}: its object
 *       is durable only once a {@link #syncLazy} naming it has returned.
 *   <li><b>Buffers.</b> put reads {@code data} from its position to its limit and does not move its
 *       position; the caller must not change those bytes until put returns, and may reuse them
 *       after (a store keeps no reference: the uploader writes segment after segment from one
 *       buffer); heap and direct buffers alike. read fills {@code dst}
 *       from its position and advances it by the count returned.
 *   <li><b>Errors.</b> A missing object is {@link NoSuchObjectException}; a failure of the store
 *       (unreachable, credentials, missing bucket or folder, permission) is {@link StoreException}
 *       with a sentence a user can act on, never containing a secret.
 *   <li><b>Threads.</b> Every method may be called from any number of threads at once.
 *   <li><b>Metrics.</b> Every backend request is counted in {@link #metrics()}.
 * </ul>
 * A file store cannot hold both "a" and "a/b" (a file cannot be a folder); S3 can. Callers keep
 * their key layouts free of that case.
 */
public interface ObjectStore extends Closeable {

  /** Creates or replaces the object, atomically and durably (see the contract above). */
  void put(String key, ByteBuffer data) throws IOException;

  /**
   * Creates the object only if no object has the key, atomically: of several concurrent callers
   * exactly one gets true, and an existing object is never replaced. (One exception, on S3: after
   * a retried request, a caller whose bytes equal the existing object's gets true, because its lost
   * first attempt may be what created it; see {@link S3ObjectStore}.)
   *
   * @return true if this call created the object, false if one existed already
   */
  boolean putIfAbsent(String key, ByteBuffer data) throws IOException;

  /**
   * As {@link #putIfAbsent} (atomic, visible to every reader at once, never replacing an object),
   * but the object need not be durable when it returns: it is once {@link #syncLazy} has been
   * called with its key and returned. Until then a crash of the machine (not of the process) may
   * leave no object, or one with missing or wrong bytes, so a caller verifies such objects after a
   * crash (segments carry a checksum of their data for that). The default is putIfAbsent: durable
   * at once, as on S3 (an acknowledged PUT is durable) and in every store that does not override it.
   *
   * @return true if this call created the object, false if one existed already
   */
  default boolean putIfAbsentLazily(String key, ByteBuffer data) throws IOException {
    return putIfAbsent(key, data);
  }

  /**
   * Makes a local file the object key as it is, without copying its bytes, if this store can (the
   * file store, on the file system the file is on: a second name for it), lazily as {@link
   * #putIfAbsentLazily}: durable once {@link #syncLazy} naming key has returned. The caller must
   * never change the bytes it will read through key afterwards; bytes the file gains later are
   * the object's too. True if key names that file now (this call linked it, or an earlier one
   * did), and then the object counts as just written (its modification time is now, as a put's);
   * false if this store cannot adopt it or key names another object (the caller copies the bytes
   * instead). The default cannot.
   */
  default boolean adoptLazily(String key, java.nio.file.Path file) throws IOException {
    return false;
  }

  /**
   * Makes the objects under these keys durable, whoever wrote them lazily (this process or one
   * that crashed before syncing them); a key with no object is skipped. A store may sync several at
   * once (the file store fsyncs each folder once). The default does nothing: every write was
   * durable already.
   */
  default void syncLazy(Collection<String> keys) throws IOException {
    // Nothing is ever written lazily by a store that does not override putIfAbsentLazily.
  }

  /**
   * Does {@link #putIfAbsentLazily} return before its object is durable (so that {@link #syncLazy}
   * has work to do)? Callers that batch their syncs wait for one only when it does; false by default.
   */
  default boolean defersDurability() {
    return false;
  }

  /**
   * Reads bytes of the object starting at offset into dst, until dst is full or the object ends.
   * A dst with nothing remaining returns 0 without touching the store.
   *
   * @return the number of bytes read: fewer than dst had room for only at the end of the object,
   *     0 when offset is at or past the end
   * @throws NoSuchObjectException if there is no such object
   */
  int read(String key, long offset, ByteBuffer dst) throws IOException;

  /**
   * Reads a whole object.
   *
   * @throws NoSuchObjectException if there is no such object
   */
  byte[] get(String key) throws IOException;

  /** Size and last modification of the object, or empty if there is none. */
  Optional<ObjectInfo> stat(String key) throws IOException;

  /**
   * Every object whose key starts with prefix ("" for all), sorted by key. Complete: it follows
   * the backend's pages (S3 returns at most 1,000 keys a request).
   */
  List<ObjectInfo> list(String prefix) throws IOException;

  /** Deletes the object if it exists; deleting a missing object is not an error. Durable. */
  void delete(String key) throws IOException;

  /**
   * Deletes every given object that exists (batched where the backend allows: 1,000 keys a
   * request on S3). Every key is checked before anything is deleted. Not atomic as a whole: on
   * failure some objects may be gone already; calling it again finishes the job.
   */
  void deleteAll(Collection<String> keys) throws IOException;

  /**
   * Is the store usable: reachable, the credentials accepted, the bucket or folder there? Fails
   * quickly (seconds) with a {@link StoreException} that says which, for a health probe.
   */
  void check() throws IOException;

  /** The counters since the store was opened. */
  StoreMetrics metrics();

  /** The store's URI, without credentials (there never are any in it): safe to log and show. */
  String describe();

  /**
   * Whether reads are served from this machine's own files (no network): a volume on such a store
   * may then be read by a connection's own thread instead of a worker. False unless known.
   */
  default boolean isLocal() {
    return false;
  }
}
