package dev.remap.engine.swap;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/**
 * The first page of a Linux swap area (what mkswap writes), so that a guest can run
 * {@code swapon LABEL=...} on a fresh disk. Layout (the kernel's union swap_header, version 1,
 * 4 KiB pages, little-endian as on x86 and arm64 guests): boot bits up to 1024, then version,
 * last page, bad page count, a 16-byte UUID and a 16-byte label; "SWAPSPACE2" in the page's last
 * ten bytes.
 */
final class SwapHeader {

  /** mkswap refuses areas smaller than this many pages. */
  static final int MIN_PAGES = 10;
  static final String MAGIC = "SWAPSPACE2";
  private static final int INFO = 1024;

  private SwapHeader() {}

  /** Writes the header for a disk of pages pages into page (4096 bytes from its position). */
  static void write(ByteBuffer page, long pages, String label, UUID uuid) {
    if (pages < MIN_PAGES || pages - 1 > 0xffff_ffffL) {
      throw new IllegalArgumentException("a swap area holds 10 to 2^32 pages: " + pages);
    }
    ByteBuffer p = page.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    int base = p.position();
    for (int i = 0; i < PagePool.PAGE; i++) {
      p.put(base + i, (byte) 0);
    }
    p.putInt(base + INFO, 1); // version
    p.putInt(base + INFO + 4, (int) (pages - 1)); // last_page
    p.putInt(base + INFO + 8, 0); // nr_badpages
    byte[] id = ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits())
        .putLong(uuid.getLeastSignificantBits()).array();
    p.put(base + INFO + 12, id);
    p.put(base + INFO + 28, label.getBytes(StandardCharsets.UTF_8));
    p.put(base + PagePool.PAGE - MAGIC.length(), MAGIC.getBytes(StandardCharsets.US_ASCII));
  }
}
