package dev.remap.operator.swap;

/**
 * The counters of one swap disk as the node serving it publishes them (the node plugin's
 * remap_swap_*{disk="swap/NS/NAME"} metrics): what status reports beside the conditions.
 */
public record SwapFigures(long residentBytes, long spilledBytes, long swapOuts, long swapIns, long remaps,
    long pagesReleased, long spillWrites, long spillLoads, long discards, long bytesCopied) {}
