package dev.remap.engine.volume;

import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ObjectStores;
import dev.remap.engine.store.S3Credentials;
import dev.remap.engine.store.StoreUri;
import dev.remap.testkit.S3ServerProcess;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The cleaner's promises on a real S3 server (s3proxy): segment sizes come from its listings,
 * victims are read with ranged GETs, and collection deletes in batches.
 */
class CleanerS3Test extends CleanerTest {

  private static final String BUCKET = "remap-cleaner";
  private static final AtomicInteger STORES = new AtomicInteger();
  private static S3ServerProcess server;

  @BeforeAll
  static void startServer() {
    server = S3ServerProcess.start();
    server.createBucket(BUCKET);
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @Override
  protected ObjectStore openStore() throws Exception {
    return ObjectStores.open(StoreUri.parse(server.storeUri(BUCKET, "c" + STORES.incrementAndGet() + "/")),
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY));
  }
}
