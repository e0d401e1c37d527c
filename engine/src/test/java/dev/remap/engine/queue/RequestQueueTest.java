package dev.remap.engine.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.remap.testkit.Await;
import dev.remap.engine.core.RequestMerger.Kind;
import dev.remap.engine.queue.RecordingDevice.Call;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What {@link RequestQueue} promises: requests of one batch are reordered and merged only where
 * no client could tell, a flush covers the writes before it, a full array makes submitters wait,
 * a failure below reaches the requests it concerns, and close lets queued requests finish.
 *
 * <p>The device below records calls and can hold them at a gate. With one worker, holding the
 * gate while the worker runs a first request (the plug) lets a test queue up exactly the batch it
 * wants: the worker drains it all at once when the gate opens.
 */
class RequestQueueTest {

  private static final int SIZE = 4 << 20;
  private static final int K4 = 4096;

  private final RecordingDevice below = new RecordingDevice(SIZE);
  private RequestQueue queue;

  @AfterEach
  void closeQueue() throws IOException {
    below.open();
    if (queue != null) {
      queue.close();
    }
  }

  private RequestQueue queue(int workers, int capacity, int maxMerged) {
    queue = new RequestQueue(below, "test", workers, capacity, maxMerged);
    return queue;
  }

  /** Holds the only worker on a read far from the tested ranges, so later submissions form one batch. */
  private CompletableFuture<Void> plug() throws InterruptedException {
    below.hold();
    CompletableFuture<Void> plug = queue.submitRead(SIZE - K4, ByteBuffer.allocate(K4));
    below.awaitCall();
    return plug;
  }

  private static byte[] random(int length, long seed) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static void await(CompletableFuture<?> future) throws Exception {
    future.get(10, TimeUnit.SECONDS);
  }

  @Test
  void overlappingRequestsInOneBatchTakeEffectInTheOrderTheyWereSubmitted() throws Exception {
    queue(1, 64, 1 << 20);
    byte[] first = random(2 * K4, 1);
    byte[] second = random(2 * K4, 2);
    ByteBuffer afterFirst = ByteBuffer.allocate(2 * K4);
    ByteBuffer afterSecond = ByteBuffer.allocate(3 * K4);
    CompletableFuture<Void> plug = plug();
    List<CompletableFuture<Void>> batch = List.of(
        queue.submitWrite(0, ByteBuffer.wrap(first), false),
        queue.submitRead(0, afterFirst),
        queue.submitWrite(K4, ByteBuffer.wrap(second), false),
        queue.submitRead(0, afterSecond),
        queue.submitDiscard(2 * K4, K4, false, false));
    below.open();
    await(plug);
    for (CompletableFuture<Void> request : batch) {
      await(request);
    }

    // The second write half covers the first: the later one wins where they overlap.
    byte[] expected = new byte[3 * K4];
    System.arraycopy(first, 0, expected, 0, 2 * K4);
    System.arraycopy(second, 0, expected, K4, 2 * K4);
    assertThat(afterFirst.array()).as("a read queued after a write sees it").isEqualTo(first);
    assertThat(afterSecond.array()).as("a read queued after both writes sees the later one on top")
        .isEqualTo(expected);
    Arrays.fill(expected, 2 * K4, 3 * K4, (byte) 0);
    assertThat(below.written(0, 3 * K4)).as("what the trim queued last left").isEqualTo(expected);
    assertThat(below.calls().stream().map(Call::kind))
        .containsExactly(Kind.READ, Kind.WRITE, Kind.READ, Kind.WRITE, Kind.READ, Kind.TRIM);
  }

  @Test
  void adjacentRequestsOfOneBatchReachTheDeviceAsOneAndEachGetsItsOwnBytes() throws Exception {
    queue(1, 64, 1 << 20);
    below.preset(256 * K4, random(3 * K4, 9));
    List<Integer> blocks = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5, 6, 7));
    Collections.shuffle(blocks, new Random(4));
    CompletableFuture<Void> plug = plug();
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    for (int block : blocks) {
      writes.add(queue.submitWrite((long) block * K4, ByteBuffer.wrap(random(K4, block)), false));
    }
    // Two reads that overlap each other and one adjacent to them: one read below serves all three.
    ByteBuffer a = ByteBuffer.allocate(2 * K4);
    ByteBuffer b = ByteBuffer.allocate(K4);
    ByteBuffer c = ByteBuffer.allocate(K4 / 2);
    List<CompletableFuture<Void>> reads = List.of(queue.submitRead(256 * K4, a), queue.submitRead(257 * K4, b),
        queue.submitRead(258 * K4, c));
    below.open();
    await(plug);
    for (CompletableFuture<Void> request : writes) {
      await(request);
    }
    for (CompletableFuture<Void> request : reads) {
      await(request);
    }

    assertThat(below.calls()).containsExactly(new Call(Kind.READ, SIZE - K4, K4, false),
        new Call(Kind.READ, 256 * K4, 2 * K4 + K4 / 2, false), new Call(Kind.WRITE, 0, 8 * K4, false));
    for (int block = 0; block < 8; block++) {
      assertThat(below.written((long) block * K4, K4)).as("block %d", block).isEqualTo(random(K4, block));
    }
    byte[] stored = random(3 * K4, 9);
    assertThat(a.array()).isEqualTo(Arrays.copyOfRange(stored, 0, 2 * K4));
    assertThat(b.array()).isEqualTo(Arrays.copyOfRange(stored, K4, 2 * K4));
    assertThat(c.array()).isEqualTo(Arrays.copyOfRange(stored, 2 * K4, 2 * K4 + K4 / 2));
    RequestQueue.Counters counters = queue.counters();
    assertThat(counters.mergedAway()).as("7 writes and 2 reads merged into others").isEqualTo(9);
    assertThat(counters.requests()[Kind.WRITE.ordinal()]).isEqualTo(8);
    assertThat(counters.bytes()[Kind.WRITE.ordinal()]).isEqualTo(8 * K4);
    assertThat(counters.requests()[Kind.READ.ordinal()]).as("the plug and the three reads").isEqualTo(4);
  }

  @Test
  void aMergedRequestIsNoLargerThanTheLimit() throws Exception {
    queue(1, 64, 4 * K4);
    CompletableFuture<Void> plug = plug();
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    for (int block = 0; block < 10; block++) {
      writes.add(queue.submitWrite((long) block * K4, ByteBuffer.wrap(random(K4, block)), false));
    }
    below.open();
    await(plug);
    for (CompletableFuture<Void> request : writes) {
      await(request);
    }
    assertThat(below.calls().subList(1, below.calls().size())).containsExactly(
        new Call(Kind.WRITE, 0, 4 * K4, false), new Call(Kind.WRITE, 4 * K4, 4 * K4, false),
        new Call(Kind.WRITE, 8 * K4, 2 * K4, false));
    assertThat(queue.counters().mergedAway()).isEqualTo(7);
  }

  @Test
  void aFlushRunsAfterTheWritesQueuedBeforeItAndCompletesAfterThem() throws Exception {
    queue(1, 64, 1 << 20);
    List<String> completed = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> plug = plug();
    List<CompletableFuture<Void>> requests = List.of(
        queue.submitWrite(0, ByteBuffer.wrap(random(K4, 1)), false).whenComplete((v, e) -> completed.add("write 1")),
        queue.submitWrite(64 * K4, ByteBuffer.wrap(random(K4, 2)), false)
            .whenComplete((v, e) -> completed.add("write 2")),
        queue.submitFlush().whenComplete((v, e) -> completed.add("flush")),
        queue.submitWrite(128 * K4, ByteBuffer.wrap(random(K4, 3)), false)
            .whenComplete((v, e) -> completed.add("write 3")));
    below.open();
    await(plug);
    for (CompletableFuture<Void> request : requests) {
      await(request);
    }

    assertThat(completed).containsExactly("write 1", "write 2", "flush", "write 3");
    assertThat(below.durable(0, K4)).isEqualTo(random(K4, 1));
    assertThat(below.durable(64 * K4, K4)).isEqualTo(random(K4, 2));
    assertThat(below.durable(128 * K4, K4)).as("a write queued after the flush is not flushed by it")
        .containsOnly(0);
  }

  @Test
  void writesThatReturnedAreDurableWhenALaterFlushReturnsOrAtOnceWithFua() throws Exception {
    queue(4, 64, 1 << 20);
    // Threads of its own: the common pool may have a single thread on a small machine.
    ExecutorService threads = Executors.newFixedThreadPool(8);
    List<CompletableFuture<Void>> clients = new ArrayList<>();
    for (int client = 0; client < 8; client++) {
      int c = client;
      clients.add(CompletableFuture.runAsync(() -> {
        try {
          for (int i = 0; i < 20; i++) {
            long offset = ((long) c * 20 + i) * K4;
            boolean fua = i % 5 == 0;
            queue.write(offset, ByteBuffer.wrap(random(K4, offset)), fua);
            if (fua) {
              assertThat(below.durable(offset, K4)).as("FUA write at %d", offset).isEqualTo(random(K4, offset));
            }
          }
        } catch (IOException e) {
          throw new CompletionException(e);
        }
      }, threads));
    }
    try {
      for (CompletableFuture<Void> client : clients) {
        await(client);
      }
    } finally {
      threads.shutdownNow();
    }
    queue.flush();
    for (long offset = 0; offset < 160L * K4; offset += K4) {
      assertThat(below.durable(offset, K4)).as("write at %d after the flush", offset).isEqualTo(random(K4, offset));
    }
  }

  @Test
  void aFullArrayMakesSubmittersWaitUntilAWorkerTakesRequests() throws Exception {
    queue(1, 2, 1 << 20);
    CompletableFuture<Void> plug = plug();
    CompletableFuture<Void> first = queue.submitWrite(0, ByteBuffer.wrap(random(K4, 1)), false);
    CompletableFuture<Void> second = queue.submitWrite(8 * K4, ByteBuffer.wrap(random(K4, 2)), false);
    AtomicReference<CompletableFuture<Void>> third = new AtomicReference<>();
    Thread submitter = new Thread(() -> third.set(queue.submitWrite(16 * K4, ByteBuffer.wrap(random(K4, 3)), false)));
    submitter.start();
    Await.until("the submitter waits on the full array", Duration.ofSeconds(10), () -> submitter.getState() == Thread.State.WAITING);
    assertThat(third.get()).as("submit has not returned while the array is full").isNull();

    below.open();
    submitter.join(10_000);
    assertThat(third.get()).as("submit returned once a worker took requests").isNotNull();
    for (CompletableFuture<Void> request : List.of(plug, first, second, third.get())) {
      await(request);
    }
    assertThat(below.written(16 * K4, K4)).isEqualTo(random(K4, 3));
  }

  @Test
  void aFailureBelowFailsTheRequestsOfThatOperationOnlyAndTheQueueGoesOn() throws Exception {
    queue(1, 64, 1 << 20);
    below.failAt(64 * K4);
    CompletableFuture<Void> plug = plug();
    CompletableFuture<Void> bad = queue.submitWrite(64 * K4, ByteBuffer.wrap(random(K4, 1)), false);
    // Merged with the bad write into one operation, which the device refuses as a whole.
    CompletableFuture<Void> neighbour = queue.submitWrite(65 * K4, ByteBuffer.wrap(random(K4, 2)), false);
    CompletableFuture<Void> elsewhere = queue.submitWrite(0, ByteBuffer.wrap(random(K4, 3)), false);
    ByteBuffer readElsewhere = ByteBuffer.allocate(K4);
    CompletableFuture<Void> read = queue.submitRead(0, readElsewhere);
    CompletableFuture<Void> trim = queue.submitDiscard(128 * K4, K4, false, false);
    CompletableFuture<Void> badRead = queue.submitRead(63 * K4, ByteBuffer.allocate(2 * K4));
    below.open();
    await(plug);

    for (CompletableFuture<Void> failed : List.of(bad, neighbour, badRead)) {
      assertThatThrownBy(() -> await(failed)).isInstanceOf(ExecutionException.class)
          .cause().isInstanceOf(IOException.class).hasMessageContaining("medium error at offset " + 64 * K4);
    }
    await(elsewhere);
    await(read);
    await(trim);
    assertThat(readElsewhere.array()).isEqualTo(random(K4, 3));

    below.failAt(-1);
    queue.write(65 * K4, ByteBuffer.wrap(random(K4, 2)), false);
    assertThat(below.written(65 * K4, K4)).as("the queue still serves the same range").isEqualTo(random(K4, 2));
  }

  @Test
  void closeLetsQueuedRequestsFinishThenClosesTheDeviceAndRefusesNewOnes() throws Exception {
    queue(1, 64, 1 << 20);
    CompletableFuture<Void> plug = plug();
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      writes.add(queue.submitWrite((long) i * 2 * K4, ByteBuffer.wrap(random(K4, i)), false));
    }
    Thread closer = new Thread(() -> {
      try {
        queue.close();
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });
    closer.start();
    Await.until("close waits for the worker", Duration.ofSeconds(10), () -> closer.getState() == Thread.State.TIMED_WAITING);
    assertThatThrownBy(() -> await(queue.submitWrite(0, ByteBuffer.allocate(K4), false)))
        .cause().isInstanceOf(IOException.class).hasMessageContaining("closed");

    below.open();
    closer.join(10_000);
    assertThat(closer.isAlive()).isFalse();
    await(plug);
    for (int i = 0; i < 5; i++) {
      await(writes.get(i));
      assertThat(below.written((long) i * 2 * K4, K4)).isEqualTo(random(K4, i));
    }
    assertThat(below.callsWhenClosed()).as("the device is closed after the last queued request ran")
        .isEqualTo(below.calls().size()).isEqualTo(1 + 5);
    queue = null;
  }

  @Test
    void aRequestSubmittedWhileTheQueueClosesIsEitherRunOrRefused() throws Exception {
    queue(1, 64, 1 << 20);
    AtomicReference<CompletableFuture<Void>> late = new AtomicReference<>();
    Thread submitter = new Thread(() -> late.set(queue.submitWrite(0, ByteBuffer.wrap(random(K4, 1)), false)));
    // The submit asks the device its size between its check of `closed` and its put: hold it there.
    below.holdSizeFor(submitter);
    submitter.start();
    Await.until("the submitter is inside submit", Duration.ofSeconds(10), () -> submitter.getState() == Thread.State.TIMED_WAITING);
    queue.close();
    below.releaseSize();
    submitter.join(10_000);
    try {
      late.get().get(5, TimeUnit.SECONDS);
    } catch (ExecutionException refused) {
      assertThat(refused).cause().isInstanceOf(IOException.class).hasMessageContaining("closed");
    } catch (TimeoutException e) {
      fail("a request submitted while the queue closed was neither run nor refused within 5 s");
    }
    queue = null;
  }
}
