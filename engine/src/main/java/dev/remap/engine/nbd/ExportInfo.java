package dev.remap.engine.nbd;

import dev.remap.engine.block.Capabilities;

/**
 * What a client learns about an export before transmission: its name, size, what it can do (the
 * transmission flags: read-only, trim, write zeroes, FUA), and the block sizes of NBD_INFO_BLOCK_SIZE.
 *
 * <p>The minimum block size is 1: a volume maps byte ranges (spans), so any offset and length
 * can be read and written directly, with no read-modify-write anywhere, and a client that
 * ignores NBD_INFO_BLOCK_SIZE (or an old kernel client with 512-byte sectors on a 4096-byte
 * volume) still works. The preferred size (the volume's block size, at least 4096) tells clients
 * what keeps the mapping compact and the caches aligned.
 */
record ExportInfo(String name, long size, Capabilities capabilities, int preferredBlock) {

  static final int MINIMUM_BLOCK = 1;

  /** An export of a fixed-size device, read-only or with every write command. */
  ExportInfo(String name, long size, boolean readOnly, int preferredBlock) {
    this(name, size, readOnly ? Capabilities.readOnly(size) : Capabilities.writable(size), preferredBlock);
  }

  ExportInfo {
    if (size < 0) {
      throw new IllegalArgumentException("export size must not be negative: " + size);
    }
    preferredBlock = Math.max(NbdProtocol.PREFERRED_BLOCK, preferredBlock);
  }

  boolean readOnly() {
    return capabilities.readOnly();
  }

  int maximumBlock() {
    return NbdProtocol.MAX_PAYLOAD;
  }
}
