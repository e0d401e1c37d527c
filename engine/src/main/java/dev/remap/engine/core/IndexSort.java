package dev.remap.engine.core;

/**
 * Sorting by a primitive key without boxing: the indexes of an array of keys in key order.
 * Segment packing sorts a batch's thousands of changes by offset to find those that overlap;
 * sorting their offsets here costs a fraction of sorting the changes with a comparator. Pure.
 */
final class IndexSort {

  private IndexSort() {}

  /** The indexes of keys in key order, ties in index order (a stable merge sort). */
  static int[] byKey(long[] keys) {
    int n = keys.length;
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    int[] other = new int[n];
    for (int width = 1; width < n; width *= 2) {
      for (int lo = 0; lo < n; lo += 2 * width) {
        int mid = Math.min(lo + width, n);
        int hi = Math.min(lo + 2 * width, n);
        int a = lo;
        int b = mid;
        for (int k = lo; k < hi; k++) {
          other[k] = a < mid && (b >= hi || keys[order[a]] <= keys[order[b]]) ? order[a++] : order[b++];
        }
      }
      int[] swap = order;
      order = other;
      other = swap;
    }
    return order;
  }
}
