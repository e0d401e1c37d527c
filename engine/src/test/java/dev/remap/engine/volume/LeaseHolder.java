package dev.remap.engine.volume;

import dev.remap.engine.store.FileObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A child process of {@link OwnershipTest}: another node serving a volume. It opens the volume as
 * node {@code args[2]}, writes 16 blocks filled with {@code args[4]}, flushes, and with
 * {@code args[5]} = "uploaded" waits until they are in the store (else uploads are held back, so
 * they are only in its journal); then prints READY and serves until it is killed or stopped.
 */
public final class LeaseHolder {

  public static void main(String[] args) throws Exception {
    Path store = Path.of(args[0]);
    Path journal = Path.of(args[1]);
    String node = args[2];
    Duration ttl = Duration.ofMillis(Long.parseLong(args[3]));
    byte fill = (byte) Integer.parseInt(args[4]);
    boolean uploaded = args[5].equals("uploaded");
    VolumeOptions options = VolumeOptions.defaults(journal)
        .withJournal(16 << 20, 4 << 20)
        .withSegments(uploaded ? 64 << 10 : 64 << 20, uploaded ? Duration.ofMillis(10) : Duration.ofHours(1), 4)
        .withNode(node)
        .withLease(ttl, Duration.ofSeconds(30));
    VolumeManager volumes = new VolumeManager(FileObjectStore.open(store), options);
    Volume volume = volumes.open("shared");
    ByteBuffer block = ByteBuffer.allocate(16 * 4096);
    while (block.hasRemaining()) {
      block.put(fill);
    }
    volume.write(0, block.flip(), false);
    volume.flush();
    if (uploaded) {
      volume.drain(Duration.ofSeconds(30));
    }
    System.out.println("READY");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
