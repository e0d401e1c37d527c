package dev.remap.engine.swap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.engine.export.ExportSources;
import dev.remap.engine.nbd.NbdServer;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A swap disk as the standard NBD clients see it (qemu-io, nbdinfo, nbdcopy over the Unix socket
 * and TCP), with the counters and the pool's pages checked after each step: swap-out and swap-in
 * move no payload byte inside the engine, an overwrite releases the pages it replaces, TRIM
 * frees memory, and pages over the memory limit spill and come back intact.
 */
class SwapNbdTest {

  private static final Duration QUICK = Duration.ofMinutes(2);
  private static final int PAGE = PagePool.PAGE;
  private static final int PAGES = 40_000;
  private static final long BYTES = (long) PAGES * PAGE;

  @TempDir Path tmp;
  private PagePool pool;
  private SwapExports exports;
  private NbdServer server;
  private final ConcurrentLinkedQueue<Integer> received = new ConcurrentLinkedQueue<>();

  @BeforeEach
  void serve() throws Exception {
    pool = new PagePool(512L << 20);
    exports = new SwapExports(pool);
    NbdServer.Options options = new NbdServer.Options(tmp.resolve("nbd.sock"), new InetSocketAddress("127.0.0.1", 0),
        null, false, 64L << 20, 4, 16);
    server = NbdServer.start(ExportSources.of(exports), options);
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    exports.close();
  }

  private String uri(String name) {
    return "nbd+unix:///" + name + "?socket=" + tmp.resolve("nbd.sock");
  }

  private String tcpUri(String name) {
    return "nbd://127.0.0.1:" + server.tcpAddress().getPort() + "/" + name;
  }

  private static String run(String command, String... args) {
    List<String> all = new ArrayList<>();
    all.add(RemapPaths.command(command).toString());
    all.addAll(List.of(args));
    return Proc.run(QUICK, all.toArray(String[]::new)).requireSuccess().output();
  }

  private static String qemuIo(String uri, String... commands) {
    List<String> args = new ArrayList<>(List.of("-f", "raw"));
    for (String c : commands) {
      args.add("-c");
      args.add(c);
    }
    args.add(uri);
    return run("qemu-io", args.toArray(String[]::new));
  }

  @Test
  void fortyThousandPagesSwapOutAndInWithoutACopyAndAnOverwriteReleasesEveryOldPage() throws Exception {
    SwapDisk disk = exports.create(new SwapSpec("swap1", 256L << 20, 256L << 20, Optional.empty(), true,
        Optional.empty()), received::add);

    qemuIo(uri("swap1"), "write -P 0x5a 0 " + BYTES);
    SwapCounters c = disk.counters();
    assertThat(c.swapOuts()).isEqualTo(PAGES);
    assertThat(c.remaps()).isEqualTo(PAGES);
    assertThat(c.bytesCopied()).isZero();
    assertThat(c.residentBytes()).isEqualTo(BYTES);
    // Page identity: the pages the socket read the payloads into are the pages now mapped.
    int[] mapped = disk.mappedPages(0, BYTES);
    Set<Integer> mappedSet = new HashSet<>();
    Arrays.stream(mapped).forEach(mappedSet::add);
    assertThat(mappedSet).hasSize(PAGES).isEqualTo(new HashSet<>(received));
    byte[] expected = new byte[PAGE];
    Arrays.fill(expected, (byte) 0x5a);
    for (int i = 0; i < PAGES; i += 997) {
      assertThat(pool.view(mapped[i]).equals(java.nio.ByteBuffer.wrap(expected))).as("page %d", i).isTrue();
    }
    long inUse = pool.pagesInUse();

    received.clear();
    qemuIo(uri("swap1"), "write -P 0xa7 0 " + BYTES);
    c = disk.counters();
    assertThat(c.swapOuts()).isEqualTo(2L * PAGES);
    assertThat(c.pagesReleased()).isEqualTo(PAGES);
    assertThat(c.residentBytes()).isEqualTo(BYTES);
    assertThat(pool.pagesInUse()).isEqualTo(inUse);
    assertThat(c.bytesCopied()).isZero();
    int[] remapped = disk.mappedPages(0, BYTES);
    Set<Integer> remappedSet = new HashSet<>();
    Arrays.stream(remapped).forEach(remappedSet::add);
    assertThat(remappedSet).isEqualTo(new HashSet<>(received));

    // Swap-in: the pattern comes back, read twice (the guest's swap cache does), nothing released.
    qemuIo(uri("swap1"), "read -P 0xa7 0 " + BYTES, "read -P 0xa7 0 " + BYTES);
    c = disk.counters();
    assertThat(c.swapIns()).isEqualTo(2L * PAGES);
    assertThat(c.pagesReleased()).isEqualTo(PAGES);
    assertThat(c.residentBytes()).isEqualTo(BYTES);
    assertThat(c.bytesCopied()).isZero();

    // TRIM (the guest's swap discard) frees the pages.
    qemuIo(uri("swap1"), "discard 0 " + BYTES / 2);
    c = disk.counters();
    assertThat(c.discards()).isEqualTo(PAGES / 2);
    assertThat(c.residentBytes()).isEqualTo(BYTES / 2);
    assertThat(pool.pagesInUse()).isEqualTo(inUse - PAGES / 2);
    qemuIo(uri("swap1"), "read -P 0 0 " + BYTES / 2, "read -P 0xa7 " + BYTES / 2 + " " + BYTES / 2);
  }

  @Test
  void nbdinfoSeesASwapDiskThatTrimsAndPromisesNoDurability() throws Exception {
    exports.create(new SwapSpec("swap1", 64L << 20, 64L << 20, Optional.empty(), true, Optional.of("vmswap")));
    String info = run("nbdinfo", uri("swap1"));
    assertThat(info).contains("export-size: 67108864").contains("can_trim: true").contains("can_fua: false")
        .contains("is_read_only: false");
    qemuIo(uri("swap1"), "write -P 0x11 1M 3M");
    String map = run("nbdinfo", "--map", uri("swap1"));
    // Page 0 holds the swap signature; 1-4 MiB the data; the rest is a hole.
    assertThat(map).containsPattern("0\\s+4096\\s+0\\s+data").containsPattern("4096\\s+1044480\\s+3\\s+hole,zero")
        .containsPattern("1048576\\s+3145728\\s+0\\s+data").containsPattern("4194304\\s+62914560\\s+3\\s+hole,zero");
  }

  @Test
  void pagesOverTheMemoryLimitSpillAndComeBackIntactOverUnixAndTcp() throws Exception {
    SwapDisk disk = exports.create(new SwapSpec("swap2", 128L << 20, 16L << 20,
        Optional.of(new SwapSpec.Spill(tmp, 128L << 20)), true, Optional.empty()));
    byte[] image = new byte[64 << 20];
    new Random(7).nextBytes(image);
    Path in = Files.write(tmp.resolve("in.raw"), image);
    run("nbdcopy", in.toString(), uri("swap2"));
    SwapCounters c = disk.counters();
    assertThat(c.residentBytes()).isLessThanOrEqualTo(16L << 20);
    assertThat(c.residentBytes() + c.spilledBytes()).isEqualTo(image.length);
    assertThat(c.spillWrites()).isGreaterThanOrEqualTo((image.length - (16L << 20)) / PAGE);

    for (String uri : List.of(uri("swap2"), tcpUri("swap2"))) {
      Path out = tmp.resolve("out.raw");
      Files.deleteIfExists(out);
      run("nbdcopy", uri, out.toString());
      byte[] back = Files.readAllBytes(out);
      assertThat(Arrays.mismatch(Arrays.copyOf(back, image.length), image)).as(uri).isEqualTo(-1);
      assertThat(Arrays.copyOfRange(back, image.length, back.length)).containsOnly(0);
    }
    c = disk.counters();
    assertThat(c.spillLoads()).isGreaterThan(0);
    assertThat(c.residentBytes()).isLessThanOrEqualTo(16L << 20);
    assertThat(c.bytesCopied()).isZero();
  }

  @Test
  void aFullDiskWithoutSpillTakesOverwritesIntoItsOwnPages() throws Exception {
    SwapDisk disk = exports.create(new SwapSpec("tight", 8L << 20, 8L << 20, Optional.empty(), true, Optional.empty()));
    qemuIo(uri("tight"), "write -P 0x33 0 8M");
    long inUse = pool.pagesInUse();
    // Every page is mapped and the disk reserves only its size: the overwrite fills the old pages.
    qemuIo(uri("tight"), "write -P 0x44 0 6M", "write -P 0x45 6M 512", "read -P 0x44 0 6M",
        "read -P 0x45 6M 512", "read -P 0x33 6291968 2096640");
    SwapCounters c = disk.counters();
    assertThat(pool.pagesInUse()).isEqualTo(inUse);
    assertThat(c.pagesReleased()).isZero();
    assertThat(c.bytesCopied()).isZero();
    assertThat(c.residentBytes()).isEqualTo(8L << 20);
  }

  @Test
  void aWriteThatFindsNoRoomIsRefusedWithEnospcAndTheDiskKeepsServing() throws Exception {
    exports.create(new SwapSpec("tight", 16L << 20, 4L << 20, Optional.of(new SwapSpec.Spill(tmp, 4L << 20)), true,
        Optional.empty()));
    qemuIo(uri("tight"), "write -P 0x33 0 7M");
    // The memory limit (but the page kept for loads) and the spill file hold 8 MiB less a page.
    Proc.Result refused = Proc.run(QUICK, RemapPaths.command("qemu-io").toString(), "-f", "raw",
        "-c", "write -P 0x44 8M 2M", uri("tight"));
    assertThat(refused.output()).containsIgnoringCase("No space left on device");
    qemuIo(uri("tight"), "read -P 0x33 0 7M");
    qemuIo(uri("tight"), "discard 0 4M", "write -P 0x55 8M 4M", "read -P 0x55 8M 4M", "read -P 0x33 4M 3M");
  }
}
