package dev.remap.engine.export;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.metrics.VolumeMeters;
import dev.remap.engine.volume.Usage;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The device at the bottom of an export's stack and what the layers above need to know of it:
 * while cached pages are good, how it tells the caches to drop them, where the stack's request
 * counts go, and its own figures for the export's meters. A source with no such notions gives
 * {@link #plain}.
 *
 * @param device the base device; the stack closes it
 * @param cacheValid whether pages cached above are good now (a volume's: while this process owns it)
 * @param onInvalidate registers what drops cached pages when they stop being good (a volume taken back)
 * @param usage receives the supplier of the stack's request counts (a volume publishes them in its lease)
 * @param figures the device's own figures, read at each scrape
 */
public record ExportBase(BlockDevice device, BooleanSupplier cacheValid, Consumer<Runnable> onInvalidate,
    Consumer<Supplier<Usage>> usage, Supplier<VolumeMeters.BaseFigures> figures) {

  /** A device whose cached pages stay good, that takes no counts and has no figures of its own. */
  public static ExportBase plain(BlockDevice device) {
    return new ExportBase(device, () -> true, drop -> { }, counts -> { }, () -> VolumeMeters.BaseFigures.NONE);
  }
}
