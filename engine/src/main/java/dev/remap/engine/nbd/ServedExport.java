package dev.remap.engine.nbd;

import dev.remap.engine.export.ExportStack;
import dev.remap.engine.metrics.VolumeMeters;
import java.io.IOException;

/**
 * An open export as the NBD server holds it, shared by every connection to it: what clients were
 * told of it ({@link ExportInfo}), the stack requests go through ({@link ExportStack}, the same
 * for every kind of export), and its meters.
 */
final class ServedExport implements Negotiation.Opened {

  private final ExportInfo info;
  private final ExportStack stack;
  private final VolumeMeters meters;

  ServedExport(ExportInfo info, ExportStack stack, VolumeMeters meters) {
    this.info = info;
    this.stack = stack;
    this.meters = meters;
  }

  @Override
  public ExportInfo info() {
    return info;
  }

  ExportStack stack() {
    return stack;
  }

  VolumeMeters meters() {
    return meters;
  }

  /** Lets queued requests finish, then closes the stack down to its base. */
  void close() throws IOException {
    stack.close();
  }
}
