package dev.remap.csi.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The staged volumes of this node, persisted on every change (one small file per volume under
 * {@code STATE/staged/}, replaced atomically and fsynced) and read back at start, so a restarted
 * plugin knows what it had staged and published. A record is written after the host change it
 * records (stage, publish) and changed or removed only after the host change is undone (unpublish,
 * unstage), so it always covers at least what the host has; every undo step checks before it acts,
 * so undoing a recorded step twice is harmless.
 *
 * <p>A record's file is named after its volume; an id that is not a store name (a swap volume's
 * {@code swap/NS/NAME}) gets a name of its own ({@link #fileName}): the file holds the id.
 *
 * <p>Thread-safe; callers hold the volume's name lock, so two changes of one volume never race.
 */
final class NodeState {

  private final Path dir;
  private final Map<String, StagedVolume> staged = new ConcurrentHashMap<>();

  private NodeState(Path dir) {
    this.dir = dir;
  }

  static NodeState load(Path stateDir) throws IOException {
    NodeState state = new NodeState(stateDir.resolve("staged"));
    Files.createDirectories(state.dir);
    try (Stream<Path> files = Files.list(state.dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".properties")).toList()) {
        StagedVolume volume = StagedVolume.decode(Files.readString(file), file.toString());
        state.staged.put(volume.volume(), volume);
      }
    }
    return state;
  }

  Optional<StagedVolume> get(String volume) {
    return Optional.ofNullable(staged.get(volume));
  }

  Collection<StagedVolume> all() {
    return staged.values();
  }

  void put(StagedVolume volume) throws IOException {
    Path file = dir.resolve(fileName(volume.volume()) + ".properties");
    Path temp = dir.resolve(fileName(volume.volume()) + ".properties.tmp");
    Files.writeString(temp, volume.encode(), StandardCharsets.UTF_8);
    try (var channel = java.nio.channels.FileChannel.open(temp, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    try {
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    staged.put(volume.volume(), volume);
  }

  void remove(String volume) throws IOException {
    Files.deleteIfExists(dir.resolve(fileName(volume) + ".properties"));
    staged.remove(volume);
  }

  /**
   * A file or folder name for a volume id: the id itself when it is a store name (no '/'), else
   * '~' (which no store name holds) and 32 hex digits of the id's SHA-256, short enough for any
   * id and for the Unix socket paths made under it.
   */
  static String fileName(String volume) {
    if (volume.indexOf('/') < 0) {
      return volume;
    }
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(volume.getBytes(StandardCharsets.UTF_8));
      return "~" + HexFormat.of().formatHex(hash, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-256", e);
    }
  }
}
