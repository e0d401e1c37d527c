package dev.remap.engine.share;

import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.S3Clients;
import dev.remap.engine.store.S3Credentials;
import dev.remap.engine.store.S3Errors;
import dev.remap.engine.store.StoreUri;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A cloud disk on S3 or an S3-compatible server, with the same client settings and error
 * sentences as Remap's own S3 store ({@link S3Clients}, {@link S3Errors}).
 *
 * <p><b>Conditions.</b> Downloads send If-Match with the version the share listed, uploads
 * If-Match with the version it saw (or If-None-Match: * for a new file), so a change made in the
 * cloud meanwhile is a {@link CloudDisk.ConflictException}, never overwritten. Deletes ask the
 * file's version first and then delete: S3 servers do not all honour If-Match on DELETE, so a
 * change in the short window between the two requests is not detected (docs/SHARE.md says so).
 *
 * <p><b>Threads.</b> The SDK client is thread-safe; the folder list is the last listing's.
 */
public final class S3CloudDisk implements CloudDisk {

  private static final AwsRequestOverrideConfiguration METADATA_TIMEOUT = timeout(10);
  private static final AwsRequestOverrideConfiguration CHECK_TIMEOUT = timeout(5);

  private final StoreUri.S3 bucket;
  private final String prefix;
  private final S3Client client;
  private final S3Errors errors;
  private volatile List<String> folders = List.of();

  /**
   * prefix is the user's key prefix (any characters; a trailing '/' is added when missing, ""
   * for the whole bucket); endpoint null for AWS; credentials null for the default chain.
   */
  public S3CloudDisk(URI endpoint, String bucketName, String prefix, String region, S3Credentials credentials) {
    this.bucket = new StoreUri.S3(bucketName, "", endpoint, region == null || region.isBlank() ? "us-east-1" : region,
        endpoint != null, null);
    this.prefix = prefix == null || prefix.isEmpty() || prefix.endsWith("/") ? nullToEmpty(prefix) : prefix + "/";
    this.client = S3Clients.client(bucket, S3Clients.credentials(bucket, credentials));
    this.errors = new S3Errors(bucket);
  }

  @Override
  public List<Entry> list() throws IOException {
    List<Entry> found = new ArrayList<>();
    List<String> markers = new ArrayList<>();
    String token = null;
    do {
      String continuation = token;
      ListObjectsV2Response page = call("list the files under " + describe(), null,
          () -> client.listObjectsV2(r -> r.bucket(bucket.bucket()).prefix(prefix).continuationToken(continuation)
              .overrideConfiguration(METADATA_TIMEOUT)));
      for (S3Object object : page.contents()) {
        String name = object.key().substring(prefix.length());
        if (name.isEmpty()) {
          continue;
        }
        if (name.endsWith("/")) {
          markers.add(name.substring(0, name.length() - 1));
        } else {
          found.add(new Entry(name, object.size() == null ? 0 : object.size(), unquote(object.eTag()),
              object.lastModified() == null ? Instant.EPOCH : object.lastModified()));
        }
      }
      token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
    } while (token != null);
    found.sort(Comparator.comparing(Entry::name));
    markers.sort(null);
    folders = List.copyOf(markers);
    return found;
  }

  @Override
  public List<String> folders() {
    return folders;
  }

  @Override
  public java.util.Optional<Entry> stat(String name) throws IOException {
    String key = prefix + name;
    try {
      HeadObjectResponse head = call("look up " + name, name, () -> client.headObject(r -> r.bucket(bucket.bucket())
          .key(key).overrideConfiguration(METADATA_TIMEOUT)));
      return java.util.Optional.of(new Entry(name, head.contentLength() == null ? 0 : head.contentLength(),
          unquote(head.eTag()), head.lastModified() == null ? Instant.EPOCH : head.lastModified()));
    } catch (NoSuchObjectException e) {
      return java.util.Optional.empty();
    }
  }

  @Override
  public void download(String name, String etag, Path target) throws IOException {
    String key = prefix + name;
    Path part = target.resolveSibling(target.getFileName() + ".part");
    try (ResponseInputStream<GetObjectResponse> in = conditional("read " + name, name,
        () -> client.getObject(r -> r.bucket(bucket.bucket()).key(key).ifMatch(quote(etag))))) {
      try {
        Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        throw errors.translate(e, "read " + name);
      }
    }
    Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public String upload(String name, Path source, String expected) throws IOException {
    String key = prefix + name;
    long length = Files.size(source);
    PutObjectResponse response = conditional("write " + name, name,
        () -> client.putObject(r -> {
          r.bucket(bucket.bucket()).key(key).contentLength(length);
          if (expected == null) {
            r.ifNoneMatch("*");
          } else {
            r.ifMatch(quote(expected));
          }
        }, RequestBody.fromFile(source)));
    return unquote(response.eTag());
  }

  @Override
  public void delete(String name, String expected) throws IOException {
    String key = prefix + name;
    java.util.Optional<Entry> current = stat(name);
    if (current.isEmpty()) {
      return;
    }
    if (!current.get().etag().equals(expected)) {
      throw new ConflictException(name + " changed in " + describe() + " since the share last saw it: not deleted");
    }
    call("delete " + name, name, () -> client.deleteObject(r -> r.bucket(bucket.bucket()).key(key)
        .overrideConfiguration(METADATA_TIMEOUT)));
  }

  @Override
  public void check() throws IOException {
    call("check the cloud disk", null, () -> client.listObjectsV2(r -> r.bucket(bucket.bucket()).prefix(prefix)
        .maxKeys(1).overrideConfiguration(CHECK_TIMEOUT)));
  }

  @Override
  public String describe() {
    return "s3://" + bucket.bucket() + "/" + prefix + (bucket.endpoint() != null ? " at " + bucket.endpoint() : "");
  }

  @Override
  public void close() {
    client.close();
  }

  /** A request whose 412 (or 404 for a file that should exist) means someone else changed the file. */
  private <T> T conditional(String action, String name, Supplier<T> request) throws IOException {
    try {
      return request.get();
    } catch (S3Exception e) {
      if (e.statusCode() == 412) {
        throw new ConflictException(name + " changed in " + describe() + " since the share last saw it");
      }
      throw errors.translate(e, action, name);
    } catch (SdkException e) {
      throw errors.translate(e, action, name);
    }
  }

  private <T> T call(String action, String name, Supplier<T> request) throws IOException {
    try {
      return request.get();
    } catch (SdkException e) {
      throw errors.translate(e, action, name);
    }
  }

  private static String quote(String etag) {
    return "\"" + etag + "\"";
  }

  private static String unquote(String etag) {
    if (etag == null) {
      return "";
    }
    return etag.length() >= 2 && etag.startsWith("\"") && etag.endsWith("\"") ? etag.substring(1, etag.length() - 1) : etag;
  }

  private static String nullToEmpty(String text) {
    return text == null ? "" : text;
  }

  private static AwsRequestOverrideConfiguration timeout(int seconds) {
    return AwsRequestOverrideConfiguration.builder().apiCallTimeout(Duration.ofSeconds(seconds)).build();
  }
}
