package dev.remap.engine.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.store.StoreException.Reason;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract against a real S3 server process (s3proxy), plus what only S3 has. */
class S3ObjectStoreTest extends ObjectStoreContract {

  static final String BUCKET = "remap-test";
  static final S3Credentials CREDENTIALS = new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY);
  private static final AtomicInteger STORES = new AtomicInteger();

  static S3ServerProcess server;

  @TempDir
  Path temp;

  @BeforeAll
  static void startServer() {
    server = S3ServerProcess.start();
    server.createBucket(BUCKET);
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  /** Every test gets its own prefix in the one bucket: a fresh, empty store. */
  @Override
  protected ObjectStore openStore() throws IOException {
    return ObjectStores.open(StoreUri.parse(server.storeUri(BUCKET, "t" + STORES.incrementAndGet() + "/")), CREDENTIALS);
  }

  @Override
  protected long listRequestsFor(int keys) {
    return (keys + 999) / 1000;
  }

  @Override
  protected long deleteRequestsFor(int keys) {
    return (keys + 999) / 1000;
  }

  @Test
  void theStorePrefixIsPrependedToEveryKeyAndHiddenFromCallers() throws IOException {
    store.put("seg/1", ByteBuffer.wrap("one".getBytes(UTF_8)));
    String prefix = store.describe().replaceAll("^s3://" + BUCKET + "/([^?]*)\\?.*$", "$1");

    try (ObjectStore whole = ObjectStores.open(StoreUri.parse(server.storeUri(BUCKET, "")), CREDENTIALS)) {
      assertThat(keys(whole.list(prefix))).containsExactly(prefix + "seg/1");
      assertThat(new String(whole.get(prefix + "seg/1"), UTF_8)).isEqualTo("one");
    }
    assertThat(keys(store.list(""))).containsExactly("seg/1");
  }

  @Test
  void describeIsTheUriWithoutCredentials() {
    assertThat(store.describe())
        .startsWith("s3://" + BUCKET + "/t")
        .contains("endpoint=" + server.endpoint(), "region=us-east-1", "pathStyle=true")
        .doesNotContain(S3ServerProcess.SECRET_KEY, S3ServerProcess.ACCESS_KEY);
  }

  @Test
  void aWrongSecretIsNamedWithoutShowingIt() throws IOException {
    String wrong = "not-the-secret-1234";
    try (ObjectStore bad = ObjectStores.open(StoreUri.parse(server.storeUri(BUCKET, "")),
        new S3Credentials(S3ServerProcess.ACCESS_KEY, wrong))) {
      assertThatThrownBy(bad::check).isInstanceOfSatisfying(StoreException.class, e -> {
        assertThat(e.reason()).isEqualTo(Reason.CREDENTIALS);
        assertThat(e.getMessage()).contains("rejected the credentials for bucket " + BUCKET, "SignatureDoesNotMatch",
            server.endpoint().toString()).doesNotContain(wrong);
      });
      assertThatThrownBy(() -> bad.put("x", ByteBuffer.wrap(new byte[1]))).isInstanceOf(StoreException.class)
          .hasMessageNotContaining(wrong);
      assertThat(bad.metrics().of(StoreMetrics.Operation.LIST).failures()).isEqualTo(1);
    }
  }

  @Test
  void anUnknownAccessKeyIsNamed() throws IOException {
    try (ObjectStore bad = ObjectStores.open(StoreUri.parse(server.storeUri(BUCKET, "")),
        new S3Credentials("nobody", S3ServerProcess.SECRET_KEY))) {
      assertThatThrownBy(() -> bad.get("x")).isInstanceOfSatisfying(StoreException.class,
              e -> assertThat(e.reason()).isEqualTo(Reason.CREDENTIALS))
          .hasMessageContaining("InvalidAccessKeyId").hasMessageNotContaining(S3ServerProcess.SECRET_KEY);
    }
  }

  @Test
  void aMissingBucketIsAClearErrorAndIsNotCreated() throws IOException {
    try (ObjectStore missing = ObjectStores.open(StoreUri.parse(server.storeUri("no-such-bucket", "p/")), CREDENTIALS)) {
      String expected = "the S3 bucket no-such-bucket does not exist at " + server.endpoint();
      assertThatThrownBy(missing::check).isInstanceOfSatisfying(StoreException.class,
          e -> assertThat(e.reason()).isEqualTo(Reason.NO_BUCKET)).hasMessageContaining(expected);
      assertThatThrownBy(() -> missing.stat("k")).isInstanceOf(StoreException.class).hasMessageContaining(expected);
      assertThatThrownBy(() -> missing.get("k")).isInstanceOf(StoreException.class).hasMessageContaining(expected);
      assertThatThrownBy(() -> missing.list("")).isInstanceOf(StoreException.class).hasMessageContaining(expected);
      assertThatThrownBy(() -> missing.put("k", ByteBuffer.wrap(new byte[1])))
          .isInstanceOf(StoreException.class).hasMessageContaining(expected);
      assertThatThrownBy(missing::check).isInstanceOf(StoreException.class);
    }
    assertThat(server.dataDir().resolve("no-such-bucket")).doesNotExist();
  }

  @Test
  void credentialsComeFromANamedProfileOfTheCredentialsFile() throws IOException {
    Path file = temp.resolve("credentials");
    Files.writeString(file, "[remap-test]\naws_access_key_id = " + S3ServerProcess.ACCESS_KEY
        + "\naws_secret_access_key = " + S3ServerProcess.SECRET_KEY + "\n");
    String before = System.getProperty("aws.sharedCredentialsFile");
    System.setProperty("aws.sharedCredentialsFile", file.toString());
    try {
      try (ObjectStore viaProfile = ObjectStores.open(server.storeUri(BUCKET, "profile/") + "&profile=remap-test")) {
        viaProfile.put("k", ByteBuffer.wrap("v".getBytes(UTF_8)));
        assertThat(viaProfile.get("k")).isEqualTo("v".getBytes(UTF_8));
      }
      try (ObjectStore noSuchProfile = ObjectStores.open(server.storeUri(BUCKET, "") + "&profile=absent")) {
        assertThatThrownBy(noSuchProfile::check).isInstanceOfSatisfying(StoreException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.CREDENTIALS)).hasMessageContaining("profile absent");
      }
    } finally {
      if (before == null) {
        System.clearProperty("aws.sharedCredentialsFile");
      } else {
        System.setProperty("aws.sharedCredentialsFile", before);
      }
    }
  }
}
