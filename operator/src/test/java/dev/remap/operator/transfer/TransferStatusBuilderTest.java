package dev.remap.operator.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.disk.VirtualDiskStatus.ExportStatus;
import dev.remap.operator.transfer.ProgressParser.Progress;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The export/import status from the Job's conditions, its pod's log tail and termination message. */
class TransferStatusBuilderTest {

  static final String NS = "remap-system";
  static final String JOB = "remap-export-a-b";

  static JobView job(String condition, Integer ready) {
    JobBuilder b = new JobBuilder().withNewMetadata().withName(JOB).endMetadata().withNewStatus().withReady(ready)
        .withCompletionTime("Complete".equals(condition) ? "2026-01-02T03:04:05Z" : null).endStatus();
    if (condition != null) {
      b.editStatus().addNewCondition().withType(condition).withStatus("True").withReason("Complete".equals(condition)
          ? "CompletionsReached" : "BackoffLimitExceeded").withMessage("Job has reached the specified backoff limit")
          .withLastTransitionTime("2026-01-02T03:04:06Z").endCondition().endStatus();
    }
    Job built = b.build();
    return JobView.of(built);
  }

  static ExportStatus build(JobView job, String log, String termination, ExportStatus previous) {
    return TransferStatusBuilder.build(new ExportStatus(), "s3://b/p", NS, JOB, job, ProgressParser.last(log), termination,
        previous);
  }

  @Test
  void aJobWithoutARunningPodIsPendingThenItsLogMakesItRunning() {
    ExportStatus created = build(null, null, null, null);
    assertThat(created.phase).isEqualTo("Pending");
    assertThat(created.jobName).isEqualTo(JOB);
    assertThat(build(job(null, 0), "", null, null).message).contains("waiting for the pod of Job remap-system/" + JOB);
    ExportStatus running = build(job(null, 1), "progress copied=25 total=100\n", null, null);
    assertThat(running.phase).isEqualTo("Running");
    assertThat(running.bytes).isEqualTo(25);
    assertThat(running.totalBytes).isEqualTo(100);
    assertThat(running.percent).isEqualTo(25);
    assertThat(running.message).contains("25 of 100 bytes (25%)");
    ExportStatus silent = build(job(null, 1), "", null, running);
    assertThat(silent.bytes).as("a silent log keeps the last numbers").isEqualTo(25);
  }

  @Test
  void successTakesItsNumbersFromTheTerminationMessage() {
    ExportStatus done = build(job("Complete", 0), "", "done copied=100 total=100", null);
    assertThat(done.phase).isEqualTo("Succeeded");
    assertThat(done.percent).isEqualTo(100);
    assertThat(done.bytes).isEqualTo(100);
    assertThat(done.completionTime).isEqualTo("2026-01-02T03:04:05Z");
    ExportStatus existing = build(job("Complete", 0), "", "done copied=0 total=100 existing=true", null);
    assertThat(existing.message).contains("held this copy already");
    assertThat(existing.percent).isEqualTo(100);
  }

  @Test
  void failureIsThePodsSentenceElseTheJobsReason() {
    ExportStatus failed = build(job("Failed", 0), "", "s3://b/p holds a different export already: export to an empty "
        + "prefix (an export is never overwritten)", null);
    assertThat(failed.phase).isEqualTo("Failed");
    assertThat(failed.message).startsWith("s3://b/p holds a different export already").contains("Job remap-system/" + JOB)
        .contains("delete it");
    assertThat(build(job("Failed", 0), "", null, null).message).startsWith("BackoffLimitExceeded: Job has reached");
    assertThat(build(job("Failed", 0), "", null, null).completionTime).isEqualTo("2026-01-02T03:04:06Z");
  }

  @Test
  void activeMeansAJobIsAtWork() {
    assertThat(TransferStatusBuilder.active(build(job(null, 1), "", null, null))).isTrue();
    assertThat(TransferStatusBuilder.active(build(job("Complete", 0), "", null, null))).isFalse();
    assertThat(TransferStatusBuilder.active(ExportPlan.status(JobModelTest.disk().getSpec().export, null, "Pending", "w")))
        .as("waiting for a snapshot is not a Job at work").isFalse();
    assertThat(Optional.of(new Progress(1, 2, false, false)).get().percent()).isEqualTo(50);
  }
}
