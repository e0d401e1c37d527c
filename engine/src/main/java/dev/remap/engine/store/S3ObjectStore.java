package dev.remap.engine.store;

import dev.remap.engine.store.StoreMetrics.Operation;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Objects in an S3 bucket, under a key prefix ({@code s3://bucket/prefix?endpoint=...}), through
 * the AWS SDK v2 with the JDK's HTTP client.
 *
 * <p><b>Atomicity and durability</b> are S3's: a PUT is visible whole or not at all and is durable
 * once acknowledged. putIfAbsent is a conditional PUT ({@code If-None-Match: *}): the server
 * answers 412 when the key exists, so concurrent creators cannot both win. (AWS S3 and s3proxy
 * 4.1.0, which the tests run, honour it; a server that ignored the header would make putIfAbsent
 * a plain put.) When the SDK had to retry and the retry meets 412, the lost first attempt may be
 * what created the object: the object is read back and the call reports true if it holds exactly
 * the caller's bytes.
 *
 * <p><b>Failures.</b> Transient errors are retried by the SDK ({@link S3Clients}: connect timeout,
 * read timeout, retry strategy). Metadata calls (stat, each list page, delete) give up after
 * {@value #METADATA_SECONDS} s in all and check after {@value #CHECK_SECONDS} s, so an unreachable
 * server is reported in seconds; data transfers and batch deletes are bounded by the read timeout
 * (silence on the socket) rather than a total, since a large object takes as long as it takes.
 * Every failure becomes a {@link StoreException} through {@link S3Errors}.
 *
 * <p>Opening does not contact the server. A missing bucket is reported by the first request that
 * meets it; stat, whose 404 cannot tell a missing key from a missing bucket, asks about the bucket
 * until a request has proven it exists.
 *
 * <p><b>Threads.</b> The SDK client is thread-safe; this class keeps no other mutable state than
 * counters and a bucket-seen flag.
 */
public final class S3ObjectStore implements ObjectStore {

  static final int METADATA_SECONDS = 10;
  static final int CHECK_SECONDS = 5;
  /** The most keys one DeleteObjects request takes. */
  private static final int DELETE_BATCH = 1000;

  private final StoreUri.S3 uri;
  private final AwsCredentialsProvider credentials;
  private final S3Client client;
  private final S3Errors errors;
  private final StoreCounters counters = new StoreCounters();
  private final AwsRequestOverrideConfiguration metadataTimeout = timeout(METADATA_SECONDS);
  private volatile boolean bucketSeen;

  private S3ObjectStore(StoreUri.S3 uri, AwsCredentialsProvider credentials, S3Client client) {
    this.uri = uri;
    this.credentials = credentials;
    this.client = client;
    this.errors = new S3Errors(uri);
  }

  /**
   * Opens the store without contacting the server. credentials may be null: then the AWS default
   * chain is used (environment variables, system properties, the credentials file, container and
   * instance roles), or the named profile of the credentials file when the URI has profile=.
   */
  public static S3ObjectStore open(StoreUri.S3 uri, S3Credentials credentials) {
    AwsCredentialsProvider provider = S3Clients.credentials(uri, credentials);
    return new S3ObjectStore(uri, provider, S3Clients.client(uri, provider));
  }

  @Override
  public void put(String key, ByteBuffer data) throws IOException {
    String objectKey = objectKey(key);
    int length = data.remaining();
    call(Operation.PUT, "write object " + key, key,
        () -> client.putObject(r -> r.bucket(uri.bucket()).key(objectKey).contentLength((long) length), body(data)));
    counters.addBytes(Operation.PUT, length);
  }

  @Override
  public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
    String objectKey = objectKey(key);
    int length = data.remaining();
    String action = "create object " + key;
    for (int attempt = 1; attempt <= 3; attempt++) {
      boolean last = attempt == 3;
      Conditional outcome = counters.count(Operation.PUT, () -> {
        try {
          client.putObject(r -> r.bucket(uri.bucket()).key(objectKey).contentLength((long) length).ifNoneMatch("*"),
              body(data));
          bucketSeen = true;
          return Conditional.CREATED;
        } catch (S3Exception e) {
          if (e.statusCode() == 412) {
            return e.numAttempts() != null && e.numAttempts() > 1 ? Conditional.MAYBE_OURS : Conditional.EXISTS;
          }
          // AWS: another conditional write of the key was in flight; trying again settles it.
          if (e.statusCode() == 409 && !last) {
            return Conditional.CONFLICT;
          }
          throw errors.translate(e, action, key);
        } catch (SdkException e) {
          throw errors.translate(e, action, key);
        }
      });
      switch (outcome) {
        case CREATED:
          counters.addBytes(Operation.PUT, length);
          return true;
        case EXISTS:
          return false;
        case MAYBE_OURS:
          // The SDK retried after an attempt whose answer was lost: that attempt may have created
          // the object. It did if the object holds exactly our bytes (another writer's identical
          // bytes are indistinguishable, and just as good).
          try {
            boolean ours = ByteBuffer.wrap(get(key)).equals(data);
            if (ours) {
              counters.addBytes(Operation.PUT, length);
            }
            return ours;
          } catch (NoSuchObjectException e) {
            break; // Deleted meanwhile: the key is free again, try once more.
          }
        default:
          break;
      }
    }
    throw new StoreException(StoreException.Reason.FAILED, "the S3 server " + uri.endpointName()
        + " kept reporting conflicting writes of object " + key + " in bucket " + uri.bucket());
  }

  /** How one conditional PUT ended. */
  private enum Conditional {
    CREATED, EXISTS, MAYBE_OURS, CONFLICT
  }

  @Override
  public int read(String key, long offset, ByteBuffer dst) throws IOException {
    String objectKey = objectKey(key);
    if (offset < 0) {
      throw new IllegalArgumentException("negative offset " + offset + " reading object " + key);
    }
    if (!dst.hasRemaining()) {
      return 0;
    }
    String range = "bytes=" + offset + "-" + (offset + dst.remaining() - 1);
    String action = "read object " + key;
    int read = counters.count(Operation.GET, () -> {
      try (ResponseInputStream<GetObjectResponse> in =
               client.getObject(r -> r.bucket(uri.bucket()).key(objectKey).range(range))) {
        bucketSeen = true;
        if (in.response().contentRange() == null) {
          // The server ignored the range and is sending the whole object.
          if (offset > 0) {
            in.abort();
            throw new StoreException(StoreException.Reason.FAILED, "the S3 server " + uri.endpointName()
                + " ignored the byte range of a read of object " + key + " in bucket " + uri.bucket());
          }
          int n = ByteBuffers.readFully(in, dst);
          in.abort(); // Rather than draining the rest of the object to keep the connection.
          return n;
        }
        return ByteBuffers.readFully(in, dst);
      } catch (S3Exception e) {
        if (e.statusCode() == 416) {
          return 0; // The range starts at or past the end: nothing to read, not an error.
        }
        throw errors.translate(e, action, key);
      } catch (SdkException e) {
        throw errors.translate(e, action, key);
      } catch (StoreException e) {
        throw e;
      } catch (IOException e) {
        throw errors.translate(e, action);
      }
    });
    counters.addBytes(Operation.GET, read);
    return read;
  }

  @Override
  public byte[] get(String key) throws IOException {
    String objectKey = objectKey(key);
    byte[] bytes = call(Operation.GET, "read object " + key, key,
        () -> client.getObjectAsBytes(r -> r.bucket(uri.bucket()).key(objectKey)).asByteArrayUnsafe());
    counters.addBytes(Operation.GET, bytes.length);
    return bytes;
  }

  @Override
  public Optional<ObjectInfo> stat(String key) throws IOException {
    String objectKey = objectKey(key);
    String action = "look up object " + key;
    Optional<HeadObjectResponse> head = counters.count(Operation.HEAD, () -> {
      try {
        HeadObjectResponse response = client.headObject(r -> r.bucket(uri.bucket()).key(objectKey)
            .overrideConfiguration(metadataTimeout));
        bucketSeen = true;
        return Optional.of(response);
      } catch (S3Exception e) {
        if (e.statusCode() == 404) {
          return Optional.empty();
        }
        throw errors.translate(e, action, key);
      } catch (SdkException e) {
        throw errors.translate(e, action, key);
      }
    });
    if (head.isEmpty()) {
      requireBucket();
      return Optional.empty();
    }
    return Optional.of(new ObjectInfo(key, head.get().contentLength(), orEpoch(head.get().lastModified())));
  }

  @Override
  public List<ObjectInfo> list(String prefix) throws IOException {
    String listed = uri.prefix() + ObjectKeys.requireValidPrefix(prefix);
    List<ObjectInfo> found = new ArrayList<>();
    String token = null;
    do {
      String continuation = token;
      ListObjectsV2Response page = call(Operation.LIST, "list keys under " + (prefix.isEmpty() ? "the store" : prefix), null,
          () -> client.listObjectsV2(r -> r.bucket(uri.bucket()).prefix(listed).continuationToken(continuation)
              .overrideConfiguration(metadataTimeout)));
      for (S3Object object : page.contents()) {
        String key = object.key().substring(uri.prefix().length());
        // Objects someone else put under the prefix with keys this store cannot name are skipped.
        if (ObjectKeys.isValid(key)) {
          found.add(new ObjectInfo(key, object.size() == null ? 0 : object.size(), orEpoch(object.lastModified())));
        }
      }
      token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
    } while (token != null);
    // S3 already sorts by UTF-8 bytes, which for the key alphabet is String order; some servers do not.
    found.sort(Comparator.comparing(ObjectInfo::key));
    return found;
  }

  @Override
  public void delete(String key) throws IOException {
    String objectKey = objectKey(key);
    try {
      call(Operation.DELETE, "delete object " + key, key, () -> client.deleteObject(r -> r.bucket(uri.bucket())
          .key(objectKey).overrideConfiguration(metadataTimeout)));
    } catch (NoSuchObjectException e) {
      // Some servers answer NoSuchKey where S3 answers 204: gone is gone.
    }
  }

  @Override
  public void deleteAll(Collection<String> keys) throws IOException {
    List<ObjectIdentifier> objects = new ArrayList<>();
    for (String key : new LinkedHashSet<>(keys)) {
      objects.add(ObjectIdentifier.builder().key(objectKey(key)).build());
    }
    for (int from = 0; from < objects.size(); from += DELETE_BATCH) {
      List<ObjectIdentifier> batch = objects.subList(from, Math.min(objects.size(), from + DELETE_BATCH));
      DeleteObjectsResponse response = call(Operation.DELETE, "delete " + batch.size() + " objects", null,
          () -> client.deleteObjects(r -> r.bucket(uri.bucket())
              .delete(Delete.builder().objects(batch).quiet(true).build())));
      List<S3Error> failed = response.errors().stream().filter(e -> !"NoSuchKey".equals(e.code())).toList();
      if (!failed.isEmpty()) {
        S3Error first = failed.get(0);
        throw new StoreException("AccessDenied".equals(first.code()) ? StoreException.Reason.ACCESS_DENIED
            : StoreException.Reason.FAILED, "the S3 server " + uri.endpointName() + " did not delete " + failed.size()
            + " of " + batch.size() + " objects in bucket " + uri.bucket() + ", the first "
            + first.key().substring(uri.prefix().length()) + " (" + first.code() + ")");
      }
    }
  }

  /**
   * Lists at most one key under the prefix: proves in one request that the endpoint answers, the
   * credentials are accepted, the bucket exists and listing is allowed.
   */
  @Override
  public void check() throws IOException {
    call(Operation.LIST, "check the store", null, () -> client.listObjectsV2(r -> r.bucket(uri.bucket())
        .prefix(uri.prefix()).maxKeys(1).overrideConfiguration(timeout(CHECK_SECONDS))));
  }

  @Override
  public StoreMetrics metrics() {
    return counters.snapshot();
  }

  @Override
  public String describe() {
    return uri.toString();
  }

  @Override
  public void close() {
    client.close();
    if (credentials instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        // Nothing a caller could do: the provider held only caches and a refresh thread.
      }
    }
  }

  @Override
  public String toString() {
    return describe();
  }

  private String objectKey(String key) {
    return uri.prefix() + ObjectKeys.requireValid(key);
  }

  /** Runs one SDK request, counted, with its failures translated. */
  private <T> T call(Operation operation, String action, String key, Supplier<T> request) throws IOException {
    return counters.count(operation, () -> {
      try {
        T result = request.get();
        bucketSeen = true;
        return result;
      } catch (SdkException e) {
        throw errors.translate(e, action, key);
      }
    });
  }

  /** Fails with a clear message if the bucket is missing; asks the server only until it is known. */
  private void requireBucket() throws IOException {
    if (bucketSeen) {
      return;
    }
    boolean exists = counters.count(Operation.HEAD, () -> {
      try {
        client.headBucket(r -> r.bucket(uri.bucket()).overrideConfiguration(metadataTimeout));
        return true;
      } catch (S3Exception e) {
        if (e.statusCode() == 404) {
          return false;
        }
        throw errors.translate(e, "look up the bucket", null);
      } catch (SdkException e) {
        throw errors.translate(e, "look up the bucket", null);
      }
    });
    if (!exists) {
      throw errors.missingBucket(null);
    }
    bucketSeen = true;
  }

  /** A request body over the buffer's remaining bytes without copying them; every retry re-reads it. */
  private static RequestBody body(ByteBuffer data) {
    ByteBuffer view = data.asReadOnlyBuffer();
    return RequestBody.fromContentProvider(() -> ByteBuffers.inputStream(view.duplicate()), view.remaining(),
        "application/octet-stream");
  }

  private static AwsRequestOverrideConfiguration timeout(int seconds) {
    return AwsRequestOverrideConfiguration.builder().apiCallTimeout(Duration.ofSeconds(seconds)).build();
  }

  private static Instant orEpoch(Instant instant) {
    return instant != null ? instant : Instant.EPOCH;
  }
}
