package dev.remap.operator.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.disk.ExportTarget;
import dev.remap.api.disk.ImportSource;
import dev.remap.api.disk.VirtualDiskStatus.ExportStatus;
import dev.remap.api.disk.VirtualDiskStatus.ImportStatus;
import dev.remap.api.disk.VirtualDiskStatus.SnapshotStatus;
import dev.remap.operator.transfer.ExportPlan.Action;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When the operator starts, observes, keeps and deletes transfer Jobs (ExportPlan and ImportPlan). */
class ExportPlanTest {

  private static final ExportTarget SPEC = spec("monday", "s3://exports/d1");
  private static final String JOB = "remap-export-abc-12345678";
  private static final List<SnapshotStatus> READY = List.of(snapshot("monday", true, null));

  @Test
  void noExportAskedIsNoStatus() {
    assertThat(ExportPlan.decide(null, List.of(), null, true, JOB, false)).isEqualTo(new ExportPlan.Decision(Action.NONE, null));
  }

  @Test
  void waitsForTheSnapshotAndSaysWhyWhenItFailed() {
    ExportPlan.Decision none = ExportPlan.decide(SPEC, List.of(), null, true, JOB, false);
    assertThat(none.action()).isEqualTo(Action.REPORT);
    assertThat(none.status().phase).isEqualTo("Pending");
    assertThat(none.status().message).contains("monday").contains("ready");
    ExportPlan.Decision broken = ExportPlan.decide(SPEC, List.of(snapshot("monday", false, "out of space")), null, true, JOB,
        false);
    assertThat(broken.status().message).contains("out of space");
  }

  @Test
  void startsThenObservesTheJobThenKeepsTheOutcomeAndDeletesTheJob() {
    ExportPlan.Decision first = ExportPlan.decide(SPEC, READY, null, true, JOB, false);
    assertThat(first.action()).isEqualTo(Action.START);
    assertThat(first.status().jobName).isEqualTo(JOB);
    ExportStatus running = ExportPlan.status(SPEC, JOB, "Running", "copying");
    ExportPlan.Decision observe = ExportPlan.decide(SPEC, READY, running, true, JOB, true);
    assertThat(observe.action()).isEqualTo(Action.OBSERVE);
    assertThat(observe.status()).as("a fresh status to fill, never the one the disk holds").isNotSameAs(running);
    assertThat(ExportPlan.decide(SPEC, List.of(), null, true, JOB, true).action())
        .as("a restarted operator adopts the Job it finds, whatever it remembers").isEqualTo(Action.OBSERVE);
    ExportStatus done = ExportPlan.status(SPEC, JOB, "Succeeded", "ok");
    assertThat(ExportPlan.decide(SPEC, READY, done, true, JOB, true)).isEqualTo(new ExportPlan.Decision(Action.CLEAN_UP, done));
    assertThat(ExportPlan.decide(SPEC, List.of(), done, true, JOB, false)).isEqualTo(new ExportPlan.Decision(Action.KEEP, done));
  }

  @Test
  void aFailedJobIsKeptUntilDeletedThenStartedAgain() {
    ExportStatus failed = ExportPlan.status(SPEC, JOB, "Failed", "bucket missing");
    assertThat(ExportPlan.decide(SPEC, READY, failed, true, JOB, true).action()).isEqualTo(Action.KEEP);
    assertThat(ExportPlan.decide(SPEC, READY, failed, true, JOB, false).action()).isEqualTo(Action.START);
    assertThat(ExportPlan.decide(SPEC, READY, failed, true, "remap-export-abc-other", false).action())
        .as("a changed spec is another Job").isEqualTo(Action.START);
  }

  @Test
  void withoutRemapsStoreItFailsSayingWhatToSet() {
    ExportPlan.Decision d = ExportPlan.decide(SPEC, READY, null, false, JOB, false);
    assertThat(d.action()).isEqualTo(Action.REPORT);
    assertThat(d.status().phase).isEqualTo("Failed");
    assertThat(d.status().message).contains("REMAP_STORE");
  }

  @Test
  void anImportIsDoneOnceItsVolumeExists() {
    ImportSource source = new ImportSource();
    source.storeUri = "s3://exports/d1";
    String job = "remap-import-abc";
    assertThat(ImportPlan.decide(source, false, null, true, job, false).action()).isEqualTo(ImportPlan.Action.START);
    ImportStatus running = ImportPlan.status(source, job, "Running", null);
    assertThat(ImportPlan.decide(source, false, running, true, job, true).action()).isEqualTo(ImportPlan.Action.OBSERVE);
    ImportPlan.Decision done = ImportPlan.decide(source, true, running, true, job, true);
    assertThat(done.action()).isEqualTo(ImportPlan.Action.CLEAN_UP);
    assertThat(done.status().phase).isEqualTo("Succeeded");
    assertThat(ImportPlan.decide(source, true, done.status(), true, job, false).action()).isEqualTo(ImportPlan.Action.KEEP);
    assertThat(ImportPlan.decide(null, false, null, true, job, false).action()).isEqualTo(ImportPlan.Action.NONE);
    assertThat(ImportPlan.decide(source, false, null, false, job, false).status().message).contains("REMAP_STORE");
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
    s.volumeSnapshotName = "d1-" + name;
    s.readyToUse = ready;
    s.error = error;
    return s;
  }
}
