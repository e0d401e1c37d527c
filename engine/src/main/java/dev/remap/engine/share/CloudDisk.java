package dev.remap.engine.share;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A user's cloud disk: the objects under a prefix of a bucket, seen as files whose names are the
 * keys after the prefix. Unlike Remap's own store, names here are the user's: spaces, Unicode and
 * deep folders are fine, and they never become store keys. Changes are conditional on the version
 * the share last saw (the ETag), so a concurrent change in the cloud is never overwritten
 * silently: it fails with {@link ConflictException}.
 */
public interface CloudDisk extends Closeable {

  /** A file of the cloud disk: name relative to the prefix, size, version tag, last change. */
  record Entry(String name, long size, String etag, Instant modified) {
    public Entry {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(etag, "etag");
      Objects.requireNonNull(modified, "modified");
    }
  }

  /** A conditional change found the file other than expected: changed, created or deleted meanwhile. */
  final class ConflictException extends IOException {
    private static final long serialVersionUID = 1L;

    public ConflictException(String message) {
      super(message);
    }
  }

  /**
   * Every file under the prefix, sorted by name. Keys ending in '/' (folder markers some tools
   * make) are folders, returned by {@link #folders()}, not files.
   */
  List<Entry> list() throws IOException;

  /** The folder markers seen by the last {@link #list()} (names without the trailing '/'). */
  List<String> folders();

  /** The file's current state, or empty when there is no such file. */
  java.util.Optional<Entry> stat(String name) throws IOException;

  /** Copies the file's bytes into target; fails with ConflictException if its version is no longer etag. */
  void download(String name, String etag, Path target) throws IOException;

  /**
   * Writes source as the file name if it still has version expected (null: only if it does not
   * exist) and returns the new version.
   */
  String upload(String name, Path source, String expected) throws IOException;

  /** Deletes the file if it still has version expected. */
  void delete(String name, String expected) throws IOException;

  /**
   * Proves in one request that the endpoint answers, the credentials are accepted, the bucket
   * exists and listing is allowed; fails with a sentence naming what is wrong.
   */
  void check() throws IOException;

  /** Where the files are, without credentials, for messages. */
  String describe();
}
