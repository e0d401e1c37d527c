package dev.remap.engine.export;

import dev.remap.engine.block.Capabilities;

/** An export as a client sees it before opening: its name, current size, block size and capabilities. */
public record ExportDescription(String name, long size, int blockSize, Capabilities capabilities) {}
