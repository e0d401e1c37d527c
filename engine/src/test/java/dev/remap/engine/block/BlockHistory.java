package dev.remap.engine.block;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Every change made to one block that several threads write, with the ticks of a shared clock
 * at which it was called and returned. A device that takes each request to effect at one moment
 * between its call and its return (what a client may count on) can only let a read see a value
 * written by a change called before the read returned, and not followed, before the read was
 * called, by a change that was called after it returned. That is all this checks: it never
 * rejects a correct device, and it catches a read that sees a value older than a write that had
 * already returned (a stale cache page) or one nobody wrote there.
 */
final class BlockHistory {

  private record Change(long value, long called, long returned) {}

  private final List<Change> changes = new ArrayList<>();

  BlockHistory() {
    // The new device's zeros, there before the first tick.
    changes.add(new Change(BlockStamp.ZERO, 0, 0));
  }

  synchronized void add(long value, long called, long returned) {
    changes.add(new Change(value, called, returned));
  }

  /** Whether a read called at {@code called} that returned at {@code returned} may have seen value. */
  synchronized boolean mayRead(long value, long called, long returned) {
    for (Change change : changes) {
      if (change.value() == value && change.called() < returned && !overwrittenBefore(change, called)) {
        return true;
      }
    }
    return false;
  }

  /** The values the block may hold once every change has returned. */
  synchronized Set<Long> lastValues() {
    Set<Long> values = new TreeSet<>();
    for (Change change : changes) {
      if (!overwrittenBefore(change, Long.MAX_VALUE)) {
        values.add(change.value());
      }
    }
    return values;
  }

  private boolean overwrittenBefore(Change change, long tick) {
    for (Change later : changes) {
      if (later.called() > change.returned() && later.returned() < tick) {
        return true;
      }
    }
    return false;
  }

  @Override
  public synchronized String toString() {
    StringBuilder text = new StringBuilder();
    for (Change change : changes) {
      text.append(String.format("%n  value %d called at %d, returned at %d", change.value(), change.called(),
          change.returned()));
    }
    return text.toString();
  }
}
