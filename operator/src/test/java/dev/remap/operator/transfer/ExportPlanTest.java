package dev.remap.operator.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.disk.ExportTarget;
import dev.remap.api.disk.VirtualDiskStatus.ExportStatus;
import dev.remap.api.disk.VirtualDiskStatus.SnapshotStatus;
import dev.remap.operator.transfer.ExportPlan.Action;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExportPlanTest {

  private static final ExportTarget SPEC = spec("monday", "s3://exports/d1");

  @Test
  void noExportAskedIsNoStatus() {
    assertThat(ExportPlan.decide(null, List.of(), null, true)).isEqualTo(new ExportPlan.Decision(Action.NONE, null));
  }

  @Test
  void waitsForTheSnapshotAndSaysWhyWhenItFailed() {
    ExportPlan.Decision none = ExportPlan.decide(SPEC, List.of(), null, true);
    assertThat(none.action()).isEqualTo(Action.WAIT);
    assertThat(none.status().phase).isEqualTo("Pending");
    assertThat(none.status().message).contains("monday").contains("ready");
    ExportPlan.Decision broken = ExportPlan.decide(SPEC, List.of(snapshot("monday", false, "out of space")), null, true);
    assertThat(broken.action()).isEqualTo(Action.WAIT);
    assertThat(broken.status().message).contains("out of space");
  }

  @Test
  void startsThenRunsThenKeeps() {
    List<SnapshotStatus> ready = List.of(snapshot("monday", true, null));
    ExportPlan.Decision first = ExportPlan.decide(SPEC, ready, null, true);
    assertThat(first.action()).isEqualTo(Action.START);
    assertThat(first.status().phase).isEqualTo("Exporting");
    assertThat(ExportPlan.decide(SPEC, ready, first.status(), true).action()).isEqualTo(Action.RUN);
    ExportStatus done = ExportPlan.status(SPEC, "Exported", "ok");
    assertThat(ExportPlan.decide(SPEC, ready, done, true)).isEqualTo(new ExportPlan.Decision(Action.KEEP, done));
    // Deleting the snapshot later does not undo a finished export.
    assertThat(ExportPlan.decide(SPEC, List.of(), done, true).action()).isEqualTo(Action.KEEP);
  }

  @Test
  void aChangedTargetOrAFailureStartsAgain() {
    List<SnapshotStatus> ready = List.of(snapshot("monday", true, null));
    ExportStatus done = ExportPlan.status(SPEC, "Exported", "ok");
    assertThat(ExportPlan.decide(spec("monday", "s3://exports/d2"), ready, done, true).action()).isEqualTo(Action.START);
    ExportStatus failed = ExportPlan.status(SPEC, "Failed", "bucket missing");
    assertThat(ExportPlan.decide(SPEC, ready, failed, true).action()).isEqualTo(Action.START);
    // Running for another target: that one is abandoned, the new one starts from its first pass.
    ExportStatus running = ExportPlan.status(spec("monday", "s3://exports/old"), "Exporting", "…");
    assertThat(ExportPlan.decide(SPEC, ready, running, true).action()).isEqualTo(Action.START);
  }

  @Test
  void withoutRemapsStoreItFailsSayingWhatToSet() {
    ExportPlan.Decision d = ExportPlan.decide(SPEC, List.of(snapshot("monday", true, null)), null, false);
    assertThat(d.action()).isEqualTo(Action.FAIL);
    assertThat(d.status().phase).isEqualTo("Failed");
    assertThat(d.status().message).contains("REMAP_STORE");
  }

  private static ExportTarget spec(String snapshot, String uri) {
    ExportTarget t = new ExportTarget();
    t.snapshot = snapshot;
    t.storeUri = uri;
    return t;
  }

  private static SnapshotStatus snapshot(String name, boolean ready, String error) {
    SnapshotStatus s = new SnapshotStatus();
    s.name = name;
    s.readyToUse = ready;
    s.error = error;
    return s;
  }
}
