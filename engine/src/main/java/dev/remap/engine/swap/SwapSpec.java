package dev.remap.engine.swap;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One swap disk as its VmMemorySwap asks for it.
 *
 * @param name the export's name
 * @param size bytes the guest sees (a multiple of 4096)
 * @param memoryLimit bytes of the node's pool the disk may hold (whole pages)
 * @param spill where pages go that do not fit under memoryLimit; empty for none
 * @param discard whether the guest's TRIM releases pages (advertised to the guest)
 * @param label present the disk already formatted as swap with this label; empty for a blank disk
 */
public record SwapSpec(String name, long size, long memoryLimit, Optional<Spill> spill, boolean discard,
    Optional<String> label) {

  /** The longest label a swap signature holds. */
  public static final int MAX_LABEL = 16;

  /**
   * The slower tier.
   *
   * @param directory where the disk's spill file is made (it must exist and be writable)
   * @param size bytes the file may hold (whole pages)
   */
  public record Spill(Path directory, long size) {
    public Spill {
      if (size < PagePool.PAGE) {
        throw new IllegalArgumentException("spill.size must hold at least one 4096-byte page: " + size);
      }
    }
  }

  public SwapSpec {
    spill = spill == null ? Optional.empty() : spill;
    label = label == null ? Optional.empty() : label;
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("a swap disk needs a name");
    }
    if (size <= 0 || size % PagePool.PAGE != 0) {
      throw new IllegalArgumentException("size of swap disk " + name + " must be a positive multiple of 4096: " + size);
    }
    if (memoryLimit < PagePool.PAGE) {
      throw new IllegalArgumentException("memoryLimit of swap disk " + name
          + " must hold at least one 4096-byte page: " + memoryLimit);
    }
    if (spill.isPresent() && memoryLimit < 2L * PagePool.PAGE) {
      // A page comes back from the spill tier into a free page before its slot is freed.
      throw new IllegalArgumentException("memoryLimit of swap disk " + name
          + " must hold at least two 4096-byte pages when it has a spill tier: " + memoryLimit);
    }
    if (spill.isEmpty() && memoryLimit < size) {
      throw new IllegalArgumentException("swap disk " + name + " is larger (" + size + ") than its memoryLimit ("
          + memoryLimit + "): give it a spill tier for the pages that do not fit");
    }
    if (label.isPresent()) {
      if (label.get().getBytes(StandardCharsets.UTF_8).length > MAX_LABEL || label.get().isEmpty()) {
        throw new IllegalArgumentException("the swap label of " + name + " must be 1 to 16 bytes: " + label.get());
      }
      if (size < SwapHeader.MIN_PAGES * (long) PagePool.PAGE) {
        throw new IllegalArgumentException("swap disk " + name + " formatted as swap needs at least "
            + SwapHeader.MIN_PAGES + " pages: " + size);
      }
    }
  }

  public long pages() {
    return size / PagePool.PAGE;
  }
}
