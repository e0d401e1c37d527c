package dev.remap.engine.swap;

/**
 * The block device contract on a swap disk with every page in memory and no spill tier: its
 * memoryLimit is its size, so once the contract has written every page, overwrites find no free
 * page and are taken into the pages they replace.
 */
class SwapStackWithoutSpillTest extends SwapStackTest {

  @Override
  protected long memoryLimit() {
    return SIZE;
  }
}
