package dev.remap.engine.swap;

/**
 * What a swap disk has done, the proof of seed 000's claims: pages swapped out and in, mappings
 * changed, pages released, pages spilled and loaded back, pages discarded, and the payload bytes
 * copied inside the engine (0 for everything the pool holds, when served by a paged front-end).
 *
 * @param swapOuts pages written by the guest (claim 1)
 * @param swapIns pages read by the guest (claim 5)
 * @param remaps disk pages pointed at another physical page: a swap-out's page, or a spilled page loaded back
 * @param pagesReleased pool pages a write replaced and gave back (claim 2)
 * @param spillWrites pages written to the spill file to make room in the pool
 * @param spillLoads spilled pages loaded into a fresh pool page on a read (claim 6)
 * @param discards pages the guest discarded (TRIM, WRITE_ZEROES) that held data
 * @param bytesCopied payload bytes copied by the engine: partial-page writes, replies the socket did not take at once
 * @param residentBytes bytes of the disk held in the pool
 * @param spilledBytes bytes of the disk held in the spill file
 */
public record SwapCounters(long swapOuts, long swapIns, long remaps, long pagesReleased, long spillWrites,
    long spillLoads, long discards, long bytesCopied, long residentBytes, long spilledBytes) {}
