package dev.remap.engine.share;

import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.UUID;

/**
 * Files fetched into Remap's store once per content (seed 004: "storing the acquired cloud disk
 * data in the physical disk"). A file's bytes are the objects {@code shares/content/SHA256/N}, its
 * SHA-256 and parts of {@value #PART_SIZE} bytes: the same bytes in several groups, generations or
 * shares are stored once, and the user's file names never become store keys (their rules would
 * refuse spaces and Unicode). Content objects are immutable, so images may map onto them for ever.
 *
 * <p>Durability: the last part is written last, so a content whose last part exists is whole (a
 * fetch cut short leaves parts that the next fetch of the same bytes completes). Threads: no state
 * but the store and the scratch folder; concurrent fetches of the same bytes both succeed.
 */
public final class ContentStore {

  public static final String PREFIX = "shares/content/";
  /** Parts keep a put within one buffer and let a 5 GiB file be stored at all. */
  public static final long PART_SIZE = 64L << 20;

  private final ObjectStore store;
  private final Path scratch;

  /** scratch: a local folder for downloads in flight (one file at a time per caller). */
  public ContentStore(ObjectStore store, Path scratch) throws IOException {
    this.store = store;
    this.scratch = Files.createDirectories(scratch);
  }

  /** A file's content: its SHA-256 (hex) and size. */
  public record Content(String sha256, long size) {

    /** Number of part objects (0 for an empty file). */
    public int parts() {
      return Math.toIntExact((size + PART_SIZE - 1) / PART_SIZE);
    }

    public String partKey(int part) {
      return PREFIX + sha256 + "/" + part;
    }

    /** Where byte offset of the file is: its part's key and the offset in that part. */
    public String keyAt(long offset) {
      return partKey(Math.toIntExact(offset / PART_SIZE));
    }
  }

  /** What a fetch did: the content and the bytes it put into the store (0 when it was there). */
  public record Fetched(Content content, long bytesStored, boolean downloaded) {}

  /** Downloads the cloud file (at the listed version) and stores its content unless already stored. */
  public Fetched fetch(CloudDisk cloud, CloudDisk.Entry entry) throws IOException {
    Path file = scratch.resolve("fetch-" + UUID.randomUUID());
    try {
      cloud.download(entry.name(), entry.etag(), file);
      Content content = hash(file);
      return new Fetched(content, store(file, content), true);
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** Stores a local file's content (an upload from a VM, a test's file); returns what it is. */
  public Fetched put(Path file) throws IOException {
    Content content = hash(file);
    return new Fetched(content, store(file, content), false);
  }

  /** Writes content's bytes into target (an upload's source). */
  public void copyTo(Content content, Path target) throws IOException {
    try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
      for (long offset = 0; offset < content.size(); offset += buffer.capacity()) {
        buffer.clear().limit((int) Math.min(buffer.capacity(), content.size() - offset));
        long inPart = offset % PART_SIZE;
        while (buffer.hasRemaining()) {
          int n = store.read(content.keyAt(offset), inPart + (buffer.position()), buffer);
          if (n < 0) {
            throw new IOException("content " + content.sha256() + " is shorter in the store than its " + content.size()
                + " bytes");
          }
        }
        buffer.flip();
        while (buffer.hasRemaining()) {
          out.write(buffer, offset + buffer.position());
        }
      }
    }
  }

  /** Whether content is whole in the store. */
  public boolean has(Content content) throws IOException {
    return content.size() == 0 || store.stat(content.partKey(content.parts() - 1)).isPresent();
  }

  private long store(Path file, Content content) throws IOException {
    if (has(content)) {
      return 0;
    }
    long stored = 0;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      for (int part = 0; part < content.parts(); part++) {
        long offset = part * PART_SIZE;
        long length = Math.min(PART_SIZE, content.size() - offset);
        // Mapped, not read: the part goes to the store from the page cache without a heap copy.
        MappedByteBuffer view = channel.map(FileChannel.MapMode.READ_ONLY, offset, length);
        if (store.putIfAbsent(content.partKey(part), view)) {
          stored += length;
        }
      }
    }
    return stored;
  }

  private static Content hash(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    long size = 0;
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
      while (channel.read(buffer) >= 0) {
        buffer.flip();
        size += buffer.remaining();
        digest.update(buffer);
        buffer.clear();
      }
    }
    return new Content(HexFormat.of().formatHex(digest.digest()), size);
  }
}
