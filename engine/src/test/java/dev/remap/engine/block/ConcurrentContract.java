package dev.remap.engine.block;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a {@link BlockDevice} promises to clients that use it from many threads at once, checked
 * against a model. {@link BlockDeviceContract} is single-threaded; this one runs {@link #THREADS}
 * clients issuing overlapping reads, writes, trims, zeroes and flushes at the same time.
 *
 * <p>The first {@link #GROUPS} runs of {@link #RUN} blocks are dealt in turn to the clients and to
 * all of them together. A client's own blocks are written by it only, one request at a time, so
 * its reads must see exactly its last change (their neighbours belong to other clients, which is
 * where a layer that works by pages or chunks can leak one client's request into another's
 * data). Shared blocks are changed by everyone: a read of one must see a value some change could
 * have left there at that moment ({@link BlockHistory}). Every block is written whole with a
 * stamp naming the write ({@link BlockStamp}), so a torn or misplaced block is caught wherever it
 * is read. At the end, every block must hold its last value, and hold it again after a flush and
 * a reopen.
 *
 * <p>Each implementation's test extends this and says how to make and reopen the device, as for
 * {@link BlockDeviceContract}.
 */
public abstract class ConcurrentContract {

  protected static final long SIZE = 8L << 20;

  private static final int BLOCK = 4096;
  private static final int THREADS = 4;
  /** A shared run is one every THREADS + 1 runs. */
  private static final int KINDS = THREADS + 1;
  private static final int RUN = 4;
  private static final int GROUPS = 200;
  private static final int BLOCKS = GROUPS * RUN;
  private static final int OPERATIONS = 4000;
  private static final long TIMEOUT_SECONDS = 60;

  protected BlockDevice device;

  /** A fresh, zero-filled device of SIZE bytes with a 4096-byte block size. */
  protected abstract BlockDevice create() throws Exception;

  /** Closes device and opens the same device again. */
  protected abstract BlockDevice reopen(BlockDevice device) throws Exception;

  /** Ticks of the calls and returns of every request, in the order they happened. */
  private final AtomicLong clock = new AtomicLong();
  private final AtomicLong writeIds = new AtomicLong();
  private final BlockHistory[] shared = new BlockHistory[BLOCKS];

  @BeforeEach
  void setUpDevice() throws Exception {
    device = create();
    for (int block = 0; block < BLOCKS; block++) {
      if (ownerOf(block) == THREADS) {
        shared[block] = new BlockHistory();
      }
    }
  }

  @AfterEach
  void tearDownDevice() throws Exception {
    if (device != null) {
      device.close();
    }
  }

  /** The client that owns block, or THREADS for a shared block. */
  private static int ownerOf(long block) {
    return (int) (block / RUN % KINDS);
  }

  @Test
  void overlappingRequestsFromManyThreadsMatchTheModelAndSurviveAReopen() throws Exception {
    List<Client> clients = runClients();
    for (Client client : clients) {
      for (long[] read : client.sharedReads) {
        long block = read[0];
        assertThat(shared[(int) block].mayRead(read[1], read[2], read[3]))
            .as("client %d read value %d from shared block %d (called at %d, returned at %d); its changes:%s",
                client.id, read[1], block, read[2], read[3], shared[(int) block])
            .isTrue();
      }
    }

    long[] last = readBlocks();
    for (int block = 0; block < BLOCKS; block++) {
      int owner = ownerOf(block);
      if (owner == THREADS) {
        assertThat(shared[block].lastValues()).as("last values of shared block %d", block).contains(last[block]);
      } else {
        assertThat(last[block]).as("block %d of client %d at the end", block, owner)
            .isEqualTo(clients.get(owner).expected[block]);
      }
    }
    device.flush();
    device = reopen(device);
    long[] reopened = readBlocks();
    assertThat(Arrays.mismatch(reopened, last)).as("first block that changed over the reopen").isEqualTo(-1);
    ByteBuffer rest = ByteBuffer.allocate((int) (SIZE - (long) BLOCKS * BLOCK));
    device.read((long) BLOCKS * BLOCK, rest);
    assertThat(rest.array()).as("blocks no client touched").containsOnly(0);
  }

  private List<Client> runClients() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<Client>> running = new ArrayList<>();
      for (int i = 0; i < THREADS; i++) {
        Client client = new Client(i);
        running.add(pool.submit(() -> client.run(OPERATIONS)));
      }
      List<Client> clients = new ArrayList<>();
      for (Future<Client> future : running) {
        try {
          clients.add(future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
          if (e.getCause() instanceof AssertionError failure) {
            throw failure;
          }
          throw e;
        }
      }
      return clients;
    } finally {
      pool.shutdownNow();
    }
  }

  /** The stamp ids of every block in the clients' range, read in one request. */
  private long[] readBlocks() throws IOException {
    ByteBuffer all = ByteBuffer.allocate(BLOCKS * BLOCK);
    device.read(0, all);
    all.flip();
    long[] values = new long[BLOCKS];
    for (int block = 0; block < BLOCKS; block++) {
      values[block] = BlockStamp.decode(all, block, BLOCK);
      assertThat(values[block]).as("block %d is one write's whole stamp or zeros", block).isNotEqualTo(BlockStamp.TORN);
    }
    return values;
  }

  /** One client thread: its random requests, its model of its own blocks, and what it read of shared ones. */
  private final class Client {
    final int id;
    final Random random;
    /** The last value this client left in each of its blocks. */
    final long[] expected = new long[BLOCKS];
    /** {block, value, called, returned} of every read of a shared block, judged after the run. */
    final List<long[]> sharedReads = new ArrayList<>();
    private int operation;

    Client(int id) {
      this.id = id;
      this.random = new Random(1000 + id);
    }

    Client run(int operations) throws IOException {
      for (operation = 0; operation < operations; operation++) {
        int kind = random.nextInt(100);
        if (kind < 5) {
          // A wide read over runs of every kind: merged with others' requests, crossing pages.
          int blocks = RUN + random.nextInt(3 * RUN);
          read(random.nextInt(BLOCKS - blocks), blocks);
          continue;
        }
        long group = (long) random.nextInt(GROUPS / KINDS) * KINDS + (random.nextInt(10) < 4 ? THREADS : id);
        int skip = random.nextInt(RUN);
        long first = group * RUN + skip;
        int blocks = 1 + random.nextInt(RUN - skip);
        if (kind < 45) {
          read(first, blocks);
        } else if (kind < 80) {
          write(first, blocks, random.nextInt(10) == 0);
        } else if (kind < 88) {
          change(first, blocks, () -> device.trim(first * BLOCK, (long) blocks * BLOCK, false));
        } else if (kind < 96) {
          boolean noHole = random.nextBoolean();
          change(first, blocks, () -> device.writeZeroes(first * BLOCK, (long) blocks * BLOCK, noHole, false));
        } else {
          device.flush();
        }
      }
      return this;
    }

    private void read(long first, int blocks) throws IOException {
      ByteBuffer dst = ByteBuffer.allocate(blocks * BLOCK);
      long called = clock.incrementAndGet();
      device.read(first * BLOCK, dst);
      long returned = clock.incrementAndGet();
      dst.flip();
      for (long block = first; block < first + blocks; block++) {
        long value = BlockStamp.decode(dst, block, BLOCK);
        int owner = ownerOf(block);
        if (value == BlockStamp.TORN) {
          throw new AssertionError(what() + " read block " + block + " torn or misplaced (not one write's stamp)");
        }
        if (owner == THREADS) {
          sharedReads.add(new long[] {block, value, called, returned});
        } else if (owner == id && value != expected[(int) block]) {
          throw new AssertionError(what() + " read value " + value + " from its own block " + block
              + " where it last left " + expected[(int) block]);
        }
      }
    }

    private void write(long first, int blocks, boolean fua) throws IOException {
      long writeId = writeIds.incrementAndGet();
      ByteBuffer src = ByteBuffer.allocate(blocks * BLOCK);
      for (long block = first; block < first + blocks; block++) {
        BlockStamp.put(src, writeId, block, BLOCK);
      }
      src.flip();
      long called = clock.incrementAndGet();
      device.write(first * BLOCK, src, fua);
      record(first, blocks, writeId, called, clock.incrementAndGet());
    }

    private void change(long first, int blocks, Change change) throws IOException {
      long called = clock.incrementAndGet();
      change.run();
      record(first, blocks, BlockStamp.ZERO, called, clock.incrementAndGet());
    }

    private void record(long first, int blocks, long value, long called, long returned) {
      for (long block = first; block < first + blocks; block++) {
        if (ownerOf(block) == THREADS) {
          shared[(int) block].add(value, called, returned);
        } else {
          expected[(int) block] = value;
        }
      }
    }

    private String what() {
      return "client " + id + " at request " + operation;
    }
  }

  private interface Change {
    void run() throws IOException;
  }
}
