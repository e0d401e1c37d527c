package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.cli.Main;
import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.TestGuest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A VM under memory pressure swapping to a Remap swap disk (issue 16, seed 000): the QEMU test
 * guest with little RAM gets a swap disk served by {@code remap serve} over NBD as a virtio disk,
 * turns it on by its label, fills a tmpfs well past its RAM with a random pattern and reads it
 * back. The pattern must come back intact, the guest must really have swapped (its
 * {@code /proc/vmstat}), and the server's counters, scraped from its /metrics like a node's
 * Prometheus would, must show every page the guest swapped out, no payload byte copied, and the
 * pages given back when the guest deletes the file (its discards reach the disk).
 */
class SwapGuestTest {

  /**
   * The least RAM the test guest boots with, plus a little: with 64 to 80 MiB the kernel does not
   * get to /init (the initramfs, unpacked into RAM, does not fit beside it), with 88 MiB it boots
   * with 6 MiB free. The guest's kernel sees about 60 MiB of 96.
   */
  private static final int GUEST_MB = 96;
  /** The pattern: more than the guest's whole RAM, so that most of it must go to swap. */
  private static final int PATTERN_MB = 128;
  private static final long MIB = 1 << 20;
  private static final long PAGE = 4096;
  /**
   * How close to 0 the disk's pages come after the guest deletes the pattern, above the swap the
   * guest still uses: Linux discards a freed swap slot only when its whole 1 MiB cluster is free,
   * so a cluster that still holds one page of the guest's other swapped memory (its initramfs,
   * its shell) keeps its stale pages on the disk. 7 to 14 MiB of them stayed in the runs this
   * was measured with (where the guest's other pages land differs from run to run); 32 MiB is a
   * quarter of the pattern, so the bound still says that the pattern's pages went back.
   */
  private static final long CLUSTER_SLACK = 32 * MIB;
  private static final Duration GUEST_TIMEOUT = Duration.ofMinutes(10);
  private static final String LABEL = "REMAPSWAP";

  /**
   * Runs in the guest. A virtio disk tells Linux it is rotational, and Linux discards freed swap
   * slots (swapon's discard "pages" policy) only on a non-rotational device, so the script says
   * so first, as a VM's swap setup would (a udev rule). The pattern's checksum is computed while
   * it is written, from the stream, so that it does not depend on the swapped copy; it is read
   * back after all of it was written, when most of it is on the swap disk. After the rm, the
   * script waits until the disk's discard counter (field 14 of its stat) stops moving: Linux
   * queues the discards of freed clusters as background work, and the guest powers off at the end.
   */
  private static final String SCRIPT = "set -e\nDISK=/dev/vda\n" + GuestSwapJob.script(LABEL, PATTERN_MB) + """
      before=$(awk '{ print $14 }' /sys/block/vda/stat)
      rm /big/pattern
      now=$before
      for i in $(seq 60); do
        sleep 1
        prev=$now
        now=$(awk '{ print $14 }' /sys/block/vda/stat)
        [ "$now" -gt "$before" ] && [ "$now" = "$prev" ] && break
      done
      echo "DISCARDED sectors=$((now - before))"
      echo "SWAPUSED kib=$(awk '$1 == "/dev/vda" { print $4 }' /proc/swaps)"
      """;

  @TempDir Path tmp;
  private final List<BackgroundProcess> servers = new ArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();

  @AfterEach
  void stopServers() {
    servers.forEach(BackgroundProcess::close);
  }

  /** `remap serve` as its own JVM (the entry point of ./remap) with one swap disk, metrics on a free port. */
  private BackgroundProcess serve(String swap) {
    BackgroundProcess server = BackgroundProcess.start(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(), "serve",
        "--store", "file://" + tmp.resolve("store"), "--journal", tmp.resolve("journal").toString(),
        "--socket", socket().toString(), "--http-address", "127.0.0.1:0",
        "--swap-pool", "512M", "--swap", swap);
    servers.add(server);
    return server.awaitReady(Duration.ofSeconds(60), () -> server.output().contains("serving "));
  }

  private Path socket() {
    return tmp.resolve("nbd.sock");
  }

  private static URI metricsUri(BackgroundProcess server) {
    Matcher m = Pattern.compile("health and metrics on (http://[0-9.]+:\\d+)").matcher(server.output());
    assertThat(m.find()).as(server.output()).isTrue();
    return URI.create(m.group(1) + "/metrics");
  }

  /** The disk's swap meters as /metrics shows them, by name without the {@code remap_swap_} prefix. */
  private Map<String, Long> scrape(URI metrics, String disk) {
    String text;
    try {
      text = http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      throw new AssertionError("scraping " + metrics, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted scraping " + metrics, e);
    }
    Map<String, Long> values = new HashMap<>();
    Matcher m = Pattern.compile("(?m)^remap_swap_(\\w+)\\{disk=\"" + Pattern.quote(disk) + "\"} (\\S+)$")
        .matcher(text);
    while (m.find()) {
      values.put(m.group(1), (long) Double.parseDouble(m.group(2)));
    }
    assertThat(values).as(text).containsKeys("swap_outs_total", "bytes_copied_total", "resident_bytes");
    return values;
  }

  /** What the guest printed, and the most of the disk (pool and spill file) the server held meanwhile. */
  private record GuestRun(TestGuest.Run run, long peakResident, long peakHeld, long seconds) {

    String value(String key) {
      Matcher m = Pattern.compile(key + "[ =]([0-9a-f]+)").matcher(run.console());
      assertThat(m.find()).as(key + " in the console:\n" + run.console()).isTrue();
      return m.group(1);
    }

    long number(String key) {
      return Long.parseLong(value(key));
    }
  }

  /** Boots the guest with the disk as its virtio disk, scraping the server every half second while it runs. */
  private GuestRun runGuest(URI metrics, String disk) {
    AtomicLong peakResident = new AtomicLong();
    AtomicLong peakHeld = new AtomicLong();
    ScheduledExecutorService scraper = Executors.newSingleThreadScheduledExecutor();
    scraper.scheduleWithFixedDelay(() -> {
      Map<String, Long> now = scrape(metrics, disk);
      peakResident.accumulateAndGet(now.get("resident_bytes"), Math::max);
      peakHeld.accumulateAndGet(now.get("resident_bytes") + now.get("spilled_bytes"), Math::max);
    }, 0, 500, TimeUnit.MILLISECONDS);
    long start = System.nanoTime();
    TestGuest.Run run;
    try {
      run = new TestGuest().withMemoryMb(GUEST_MB).withTimeout(GUEST_TIMEOUT).withQemuArgs("-drive",
          "file=nbd+unix:///" + disk + "?socket=" + socket() + ",format=raw,if=virtio,discard=unmap").run(SCRIPT);
    } finally {
      scraper.shutdownNow();
    }
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
    assertThat(run.exitCode()).as(run.console()).isZero();
    return new GuestRun(run, peakResident.get(), peakHeld.get(), seconds);
  }

  /** What both cases must show: the pattern intact, real swapping, every page counted, nothing copied, pages freed. */
  private Map<String, Long> assertSwappedAndReleased(GuestRun guest, URI metrics, String disk) {
    assertThat(guest.value("READBACK")).hasSize(64).isEqualTo(guest.value("WRITTEN"));
    long pswpin = guest.number("pswpin");
    long pswpout = guest.number("pswpout");
    assertThat(pswpout).as("pages the guest swapped out").isPositive();
    assertThat(pswpin).as("pages the guest swapped in").isPositive();
    assertThat(guest.number("DISCARDED sectors")).as("the guest discarded the freed swap").isPositive();

    Map<String, Long> after = scrape(metrics, disk);
    // Every page the guest swapped out was a write to the disk; the server may see a few more (swapon's own).
    assertThat(after.get("swap_outs_total")).isGreaterThanOrEqualTo(pswpout);
    assertThat(after.get("swap_ins_total")).isGreaterThanOrEqualTo(pswpin);
    // Whole pages over a Unix socket: received into the pages the disk maps, sent from them.
    assertThat(after.get("bytes_copied_total")).isZero();
    assertThat(after.get("discards_total")).as("pages the guest's TRIMs released").isPositive();
    // The pattern held the disk at half the pattern at least; after the rm only what the guest still swaps stays.
    assertThat(guest.peakHeld()).isGreaterThanOrEqualTo(PATTERN_MB * MIB / 2);
    long held = after.get("resident_bytes") + after.get("spilled_bytes");
    long stillSwapped = guest.number("SWAPUSED kib") * 1024;
    assertThat(held).as("bytes the disk holds after the rm; the guest still swaps " + stillSwapped)
        .isLessThanOrEqualTo(stillSwapped + PAGE + CLUSTER_SLACK);
    System.out.printf("%s: guest pswpout=%d pswpin=%d discarded=%d sectors, still swapped %d KiB;"
        + " server %s; peak resident %d, peak held %d; guest run %d s%n", disk, pswpout, pswpin,
        guest.number("DISCARDED sectors"), stillSwapped / 1024, after, guest.peakResident(), guest.peakHeld(),
        guest.seconds());
    return after;
  }

  @Test
  void aGuestSwapsToTheDiskWithoutCopiesAndItsDiscardsGiveThePagesBack() {
    // memory-limit = size: every page stays in the pool.
    BackgroundProcess server = serve("swap1:size=256M,memory-limit=256M,label=" + LABEL);
    URI metrics = metricsUri(server);
    assertThat(server.output()).contains("swap disks swap1 (pool 512M)");

    GuestRun guest = runGuest(metrics, "swap1");
    Map<String, Long> after = assertSwappedAndReleased(guest, metrics, "swap1");
    assertThat(after.get("spill_writes_total")).isZero();
    assertThat(after.get("remaps_total")).isGreaterThanOrEqualTo(guest.number("pswpout"));
    assertThat(guest.peakResident()).isGreaterThanOrEqualTo(PATTERN_MB * MIB / 2);
  }

  @Test
  void aDiskWhoseMemoryLimitIsBelowTheWorkingSetSpillsAndLoadsBackIntact() {
    // 32 MiB of pool for a working set of more than 64 MiB: the rest must go to the spill file and come back.
    long limit = 32 * MIB;
    BackgroundProcess server = serve("swap2:size=256M,memory-limit=32M,spill-dir=" + tmp
        + ",spill-size=224M,label=" + LABEL);
    URI metrics = metricsUri(server);

    GuestRun guest = runGuest(metrics, "swap2");
    Map<String, Long> after = assertSwappedAndReleased(guest, metrics, "swap2");
    assertThat(after.get("spill_writes_total")).as("pages spilled").isPositive();
    assertThat(after.get("spill_loads_total")).as("spilled pages loaded back").isPositive();
    assertThat(guest.peakResident()).as("the pool never held more than the memory limit").isLessThanOrEqualTo(limit);
  }
}
