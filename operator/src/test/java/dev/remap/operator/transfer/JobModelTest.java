package dev.remap.operator.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.common.SecretRef;
import dev.remap.api.disk.DiskSource;
import dev.remap.api.disk.ExportTarget;
import dev.remap.api.disk.ImportSource;
import dev.remap.api.disk.VirtualDisk;
import dev.remap.api.disk.VirtualDiskSpec;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The transfer Jobs, built from a disk's spec without a cluster. */
class JobModelTest {

  static final JobConfig S3 = new JobConfig("remap-system", "localhost/remap:1.2.3",
      "s3://remap/store?endpoint=http://s3.local:9000", "remap-s3-credentials", "id", "key", null);
  static final JobConfig LOCAL = new JobConfig("remap-system", "localhost/remap:1.2.3", "file:///var/lib/remap/store",
      null, "accessKeyId", "secretAccessKey", "/var/lib/remap/store");

  static VirtualDisk disk() {
    VirtualDisk d = new VirtualDisk();
    d.setMetadata(new ObjectMetaBuilder().withName("data").withNamespace("vms")
        .withUid("0a1b2c3d-4e5f-6789-abcd-ef0123456789").build());
    d.setSpec(new VirtualDiskSpec());
    d.getSpec().size = "128Mi";
    ExportTarget t = new ExportTarget();
    t.snapshot = "monday";
    t.storeUri = "s3://exports/data";
    t.endpoint = "http://127.0.0.1:9000";
    t.secretRef = new SecretRef("s3");
    d.getSpec().export = t;
    return d;
  }

  static Map<String, EnvVar> env(Job job) {
    return container(job).getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
  }

  static Container container(Job job) {
    return job.getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  @Test
  void anExportJobRunsTheCliWithTheHandleAndGetsBothCredentialsFromSecrets() {
    VirtualDisk disk = disk();
    TransferJob t = JobModel.export(disk, "pvc-1234@snap-5678", S3);
    Job job = JobModel.job(t, S3);
    assertThat(job.getMetadata().getName()).isEqualTo(JobModel.exportJobName(disk)).startsWith("remap-export-0a1b2c3d4e5f6789abcd-")
        .hasSize("remap-export-".length() + 20 + 1 + 8);
    assertThat(job.getMetadata().getNamespace()).isEqualTo("remap-system");
    assertThat(job.getMetadata().getLabels()).containsEntry("remap.dev/transfer", "export")
        .containsEntry("remap.dev/disk-uid", "0a1b2c3d-4e5f-6789-abcd-ef0123456789")
        .containsEntry("app.kubernetes.io/managed-by", "remap-operator");
    assertThat(job.getMetadata().getAnnotations()).containsEntry("remap.dev/disk-namespace", "vms")
        .containsEntry("remap.dev/disk-name", "data");
    assertThat(job.getSpec().getBackoffLimit()).isEqualTo(2);
    assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(12 * 3600);
    assertThat(job.getSpec().getTtlSecondsAfterFinished()).as("the operator deletes it after recording").isNull();
    Container c = container(job);
    assertThat(c.getImage()).isEqualTo("localhost/remap:1.2.3");
    assertThat(c.getArgs()).containsExactly("export", "--store", "s3://remap/store?endpoint=http://s3.local:9000",
        "--journal", "/tmp/journal", "pvc-1234@snap-5678", "--to", "s3://exports/data?endpoint=http%3A%2F%2F127.0.0.1%3A9000");
    Map<String, EnvVar> env = env(job);
    assertThat(env.keySet()).containsExactlyInAnyOrder("REMAP_STORE_ACCESS_KEY_ID", "REMAP_STORE_SECRET_ACCESS_KEY",
        "REMAP_TO_ACCESS_KEY_ID", "REMAP_TO_SECRET_ACCESS_KEY");
    assertThat(env.values()).allMatch(e -> e.getValue() == null && e.getValueFrom().getSecretKeyRef() != null);
    assertThat(env.get("REMAP_STORE_SECRET_ACCESS_KEY").getValueFrom().getSecretKeyRef().getName()).isEqualTo("remap-s3-credentials");
    assertThat(env.get("REMAP_STORE_SECRET_ACCESS_KEY").getValueFrom().getSecretKeyRef().getKey()).isEqualTo("key");
    assertThat(env.get("REMAP_TO_ACCESS_KEY_ID").getValueFrom().getSecretKeyRef().getName()).isEqualTo(t.name());
    assertThat(env.get("REMAP_TO_ACCESS_KEY_ID").getValueFrom().getSecretKeyRef().getKey()).isEqualTo("accessKeyId");
    PodSpec pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSecurityContext().getRunAsUser()).as("S3: nothing on the host").isEqualTo(65532);
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getVolumes()).extracting(v -> v.getName()).containsExactly("tmp");
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(c.getTerminationMessagePolicy()).isEqualTo("FallbackToLogsOnError");
    assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
  }

  @Test
  void aLocalStoreIsTheNodesDirectoryMountedAtItsPathAndOwnedByRoot() {
    Job job = JobModel.job(JobModel.export(disk(), "v@s", LOCAL), LOCAL);
    PodSpec pod = job.getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsUser()).isZero();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isFalse();
    assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals("store")).singleElement()
        .satisfies(v -> assertThat(v.getHostPath().getPath()).isEqualTo("/var/lib/remap/store"));
    assertThat(container(job).getVolumeMounts()).anyMatch(m -> m.getName().equals("store")
        && m.getMountPath().equals("/var/lib/remap/store"));
    assertThat(pod.getNodeSelector()).as("a local store means one node").isNullOrEmpty();
    assertThat(env(job)).as("no store Secret configured").doesNotContainKey("REMAP_STORE_ACCESS_KEY_ID");
  }

  @Test
  void theNameFollowsTheExportAndNotTheRun() {
    VirtualDisk disk = disk();
    String name = JobModel.exportJobName(disk);
    assertThat(JobModel.exportJobName(disk())).isEqualTo(name);
    disk.getSpec().export.snapshot = "tuesday";
    assertThat(JobModel.exportJobName(disk)).isNotEqualTo(name);
    VirtualDisk other = disk();
    other.getSpec().export.secretRef = new SecretRef("fixed");
    assertThat(JobModel.exportJobName(other)).as("a fixed Secret is a new attempt").isNotEqualTo(name);
  }

  @Test
  void anImportJobMakesTheDisksVolumeAtItsSize() {
    VirtualDisk disk = disk();
    disk.getSpec().export = null;
    ImportSource source = new ImportSource();
    source.storeUri = "file:///backup/data";
    disk.getSpec().source = new DiskSource();
    disk.getSpec().source.importFrom = source;
    TransferJob t = JobModel.importing(disk, LOCAL);
    Job job = JobModel.job(t, LOCAL);
    assertThat(job.getMetadata().getName()).isEqualTo("remap-import-0a1b2c3d4e5f6789abcd");
    assertThat(container(job).getArgs()).containsExactly("import", "--store", "file:///var/lib/remap/store", "--journal",
        "/tmp/journal", "--from", "file:///backup/data", "--size", Long.toString(128L << 20), "remap-import-0a1b2c3d4e5f6789abcd");
    assertThat(env(job)).as("no secretRef: no credentials").isEmpty();
    assertThat(t.userSecret()).isNull();
  }

  @Test
  void theUsersCredentialsAreCopiedAsTheyAreIntoASecretOwnedByTheJobAndNowhereElse() {
    TransferJob t = JobModel.export(disk(), "v@s", S3);
    Job job = JobModel.job(t, S3);
    job.getMetadata().setUid("job-uid");
    Secret copy = JobModel.credentials(t, job, Map.of("accessKeyId", "QUtJQQ==", "secretAccessKey", "c2VjcmV0", "other", "eA=="));
    assertThat(copy.getMetadata().getName()).isEqualTo(t.name());
    assertThat(copy.getMetadata().getNamespace()).isEqualTo("remap-system");
    assertThat(copy.getData()).containsOnlyKeys("accessKeyId", "secretAccessKey").containsEntry("secretAccessKey", "c2VjcmV0");
    assertThat(copy.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
      assertThat(o.getKind()).isEqualTo("Job");
      assertThat(o.getUid()).isEqualTo("job-uid");
    });
    String spec = Serialization.asYaml(job);
    assertThat(spec).doesNotContain("c2VjcmV0").doesNotContain("secret\n").doesNotContain("QUtJQQ");
    assertThat(List.of(JobModel.withEndpoint("file:///x", "http://e"), JobModel.withEndpoint("s3://b/p?region=r", "http://e")))
        .containsExactly("file:///x", "s3://b/p?region=r&endpoint=http%3A%2F%2Fe");
  }
}
