package dev.remap.engine.store;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.engine.store.StoreException.Reason;
import dev.remap.testkit.S3ServerProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.function.Consumer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/** The S3 server goes away and comes back: the store says so quickly and then works again. */
class S3ServerOutageTest {

  private static final Duration FAIL_FAST = Duration.ofSeconds(S3ObjectStore.CHECK_SECONDS + 3);

  @Test
  void anOutageIsReportedWithinSecondsAndTheStoreRecoversAfterIt() throws IOException {
    try (S3ServerProcess server = S3ServerProcess.start()) {
      server.createBucket("outage");
      try (ObjectStore store = ObjectStores.open(StoreUri.parse(server.storeUri("outage", "v/")),
          S3ObjectStoreTest.CREDENTIALS)) {
        store.put("before", ByteBuffer.wrap("kept".getBytes(UTF_8)));
        store.check();

        server.stop();
        String unreachable = "cannot reach the S3 endpoint " + server.endpoint() + " for bucket outage: connection refused";
        Consumer<StoreException> isOutage = e -> {
          assertThat(e.reason()).isEqualTo(Reason.UNREACHABLE);
          assertThat(e.isTransient()).isTrue();
          assertThat(e.getMessage()).isEqualTo(unreachable);
        };
        assertFailsFast(store::check, isOutage);
        assertFailsFast(() -> store.stat("before"), isOutage);
        assertFailsFast(() -> store.list(""), isOutage);
        assertFailsFast(() -> store.get("before"), isOutage);
        assertFailsFast(() -> store.put("during", ByteBuffer.wrap(new byte[1])), isOutage);

        server.restart();
        store.check();
        assertThat(new String(store.get("before"), UTF_8)).isEqualTo("kept");
        store.put("after", ByteBuffer.wrap(new byte[1]));
        assertThat(ObjectStoreContract.keys(store.list(""))).containsExactly("after", "before");
      }
    }
  }

  @Test
  void aServerThatWasNeverThereFailsFast() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    String uri = "s3://nowhere/?endpoint=http://127.0.0.1:" + port;
    try (ObjectStore store = ObjectStores.open(StoreUri.parse(uri), S3ObjectStoreTest.CREDENTIALS)) {
      assertFailsFast(store::check, e -> assertThat(e.getMessage())
          .isEqualTo("cannot reach the S3 endpoint http://127.0.0.1:" + port + " for bucket nowhere: connection refused"));
    }
  }

  /**
   * A listener that never accepts: the kernel completes the TCP handshake into the backlog, so the
   * request is sent and no answer ever comes, as with a hung server.
   */
  @Test
  void aServerThatNeverAnswersFailsWithinTheCheckTimeout() throws IOException {
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      String uri = "s3://silent/?endpoint=http://127.0.0.1:" + silent.getLocalPort();
      try (ObjectStore store = ObjectStores.open(StoreUri.parse(uri), S3ObjectStoreTest.CREDENTIALS)) {
        assertFailsFast(store::check, e -> {
          assertThat(e.reason()).isEqualTo(Reason.UNREACHABLE);
          assertThat(e.getMessage()).isEqualTo("the S3 endpoint http://127.0.0.1:" + silent.getLocalPort()
              + " did not answer in time for bucket silent while trying to check the store");
        });
      }
    }
  }

  private static void assertFailsFast(ThrowingCallable call, Consumer<StoreException> requirements) {
    long start = System.nanoTime();
    assertThatThrownBy(call).isInstanceOfSatisfying(StoreException.class, requirements);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(FAIL_FAST);
  }
}
