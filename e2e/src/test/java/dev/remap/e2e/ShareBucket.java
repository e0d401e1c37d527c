package dev.remap.e2e;

import dev.remap.engine.share.CloudDisk;
import dev.remap.engine.share.S3CloudDisk;
import dev.remap.engine.store.S3Credentials;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The cloud disk as its user sees it, a prefix of a bucket on the test's S3 server: files put
 * into it by someone else and files read back from it by name, through the S3 API (never the
 * server's data folder). A new client per call, so that a stopped and restarted server is met
 * like any client would meet it.
 */
final class ShareBucket {

  private final S3ServerProcess server;
  private final String bucket;
  private final String prefix;
  private final Path scratch;

  ShareBucket(S3ServerProcess server, String bucket, String prefix, Path scratch) {
    this.server = server;
    this.bucket = bucket;
    this.prefix = prefix;
    this.scratch = scratch;
  }

  private S3CloudDisk client() {
    return new S3CloudDisk(server.endpoint(), bucket, prefix, null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY));
  }

  /** Puts (or replaces) name with bytes, as another program writing to the bucket would. */
  void put(String name, byte[] bytes) {
    try (S3CloudDisk cloud = client()) {
      Path local = Files.createTempFile(scratch, "put", ".bin");
      Files.write(local, bytes);
      cloud.upload(name, local, cloud.stat(name).map(CloudDisk.Entry::etag).orElse(null));
      Files.delete(local);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot put " + name + " into " + bucket + "/" + prefix, e);
    }
  }

  /** The bytes of name, empty when the bucket has no such file. */
  Optional<byte[]> get(String name) {
    try (S3CloudDisk cloud = client()) {
      Optional<CloudDisk.Entry> entry = cloud.stat(name);
      if (entry.isEmpty()) {
        return Optional.empty();
      }
      Path local = Files.createTempFile(scratch, "get", ".bin");
      cloud.download(name, entry.get().etag(), local);
      byte[] bytes = Files.readAllBytes(local);
      Files.delete(local);
      return Optional.of(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + name + " from " + bucket + "/" + prefix, e);
    }
  }

  /** Every file under the prefix, by name, with its SHA-256 (hex). */
  Map<String, String> hashes() {
    Map<String, String> out = new TreeMap<>();
    try (S3CloudDisk cloud = client()) {
      for (CloudDisk.Entry entry : cloud.list()) {
        out.put(entry.name(), ShareGuest.sha256(get(entry.name()).orElseThrow()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + bucket + "/" + prefix, e);
    }
    return out;
  }
}
