package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.Await;
import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an operator sees with {@code ps -eLo nice,comm} on a node: a `remap serve` started as root
 * by the launcher runs its background work (the volume's upload and cleaning thread) at nice 10,
 * so reads that wake up take the core from it, while the threads serving requests and the JVM's
 * own (compiler, GC) stay at nice 0. Read from /proc while a client holds the volume open.
 */
class BackgroundPriorityTest {

  private static final Duration QUICK = Duration.ofMinutes(2);

  @TempDir Path dir;

  @Test
  void backgroundThreadsRunAtNiceTenAndRequestThreadsAtZero() throws IOException {
    String store = "file://" + dir.resolve("store");
    Proc.run(QUICK, RemapPaths.root().resolve("remap").toString(), "volume", "create", "quiet", "--size", "64M",
        "--store", store, "--journal", dir.resolve("cli-journal").toString()).requireSuccess();
    Path socket = dir.resolve("serve.sock");
    Path fuse = dir.resolve("fuse");
    Path pid = dir.resolve("nbdfuse.pid");
    try (BackgroundProcess serve = BackgroundProcess.start(RemapPaths.root().resolve("remap").toString(), "serve",
            "--store", store, "--journal", dir.resolve("journal").toString(), "--socket", socket.toString(),
            "--node-id", "n1")) {
      serve.awaitSocket(socket, Duration.ofSeconds(60));
      Files.createDirectories(fuse);
      try (BackgroundProcess client = BackgroundProcess.start(RemapPaths.command("nbdfuse").toString(), "-P",
          pid.toString(), fuse.resolve("disk").toString(), "nbd+unix:///quiet?socket=" + socket)
          .awaitReady(Duration.ofSeconds(30), () -> Files.exists(pid))) {
        try {
          checkPriorities(serve.pid(), fuse);
        } finally {
          Proc.run(QUICK, "umount", fuse.toString());
        }
      }
    }
  }

  private static void checkPriorities(long server, Path fuse) {
    Proc.run(QUICK, "dd", "if=/dev/urandom", "of=" + fuse.resolve("disk"), "bs=1M", "count=4", "conv=notrunc,fsync",
        "status=none").requireSuccess();
    Await.until("the volume's upload thread", Duration.ofSeconds(30),
        () -> niceByThread(server).keySet().stream().anyMatch(n -> n.startsWith("remap-upload")));
    Map<String, Integer> nice = niceByThread(server);
    assertThat(nice.entrySet()).filteredOn(e -> e.getKey().startsWith("remap-upload")).as("the upload thread")
        .singleElement().satisfies(e -> assertThat(e.getValue()).isEqualTo(10));
    assertThat(nice.entrySet()).filteredOn(e -> e.getKey().startsWith("nbd-")).as("connection threads")
        .isNotEmpty().allSatisfy(e -> assertThat(e.getValue()).isZero());
    assertThat(nice).as("the JVM's own threads").containsEntry("VM Thread", 0).containsEntry("C2 CompilerThre", 0);
  }

  /** The nice value of each thread of the process, by its name as the kernel keeps it (15 characters). */
  private static Map<String, Integer> niceByThread(long pid) {
    Map<String, Integer> nice = new HashMap<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      tasks.forEach(task -> {
        try {
          String stat = Files.readString(task.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          // Fields after the name, from state (3rd): nice is the 19th, so the 17th here.
          nice.put(name, Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]));
        } catch (IOException e) {
          // A thread that ended while listed.
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return nice;
  }
}
