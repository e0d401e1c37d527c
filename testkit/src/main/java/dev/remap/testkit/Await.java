package dev.remap.testkit;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * Waits for a condition a test can observe instead of sleeping for a time that is sometimes too
 * short and always too long. The condition is polled on the caller's thread every 100 ms; an
 * exception or AssertionError it throws ends the wait at once (so a condition can fail fast, e.g.
 * when the process it watches has exited).
 */
public final class Await {

  private static final long POLL_MILLIS = 100;

  private Await() {}

  /** Returns once condition is true; fails naming what was awaited when timeout passes first. */
  public static void until(String what, Duration timeout, Callable<Boolean> condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (!condition.call()) {
        if (System.nanoTime() - deadline > 0) {
          throw new AssertionError("waited " + timeout.toSeconds() + " s for " + what);
        }
        Thread.sleep(POLL_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for " + what, e);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Exception e) {
      throw new AssertionError("waiting for " + what + ": " + e, e);
    }
  }
}
