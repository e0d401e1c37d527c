package dev.remap.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.remap.api.disk.VirtualDisk;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.Volume;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeOptions;
import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.ControlPlaneExtension;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import dev.remap.testkit.S3ServerProcess;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * spec.source.import as a Job, against a real control plane (no kubelet): the Job the operator
 * makes in its own namespace (the CLI image, the Job's arguments, credentials only through
 * secretKeyRef, the user's copied into a Secret the Job owns); a restarted operator adopts it
 * instead of starting a second; then the test plays the pod — the real `./remap import` with the
 * Job's arguments and environment, from an export in a real S3 server into a file store — and
 * writes the pod's end as the kubelet would, so the real Job controller completes or fails the
 * Job, and the disk reports the outcome, bytes, the pod's termination message and events.
 */
@ExtendWith(ControlPlaneExtension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TransferJobIT {

  static final Duration WAIT = Duration.ofSeconds(120);
  static final String NS = "it-transfer";
  static final String SYSTEM = "remap-system";
  static final String CLASS = "remap-transfer";
  static final String IMAGE = "localhost/remap:it";
  private TestCluster cluster;
  private OperatorProcess operator;
  private S3ServerProcess s3;
  private Path dir;
  private Path store;
  private byte[] written;

  @BeforeAll
  void setUp(ControlPlane cp) throws Exception {
    cluster = TestCluster.of(cp);
    cluster.namespace(NS);
    cluster.storageClass(CLASS);
    dir = Files.createTempDirectory("remap-transfer-it-");
    store = dir.resolve("store");
    s3 = S3ServerProcess.start(dir.resolve("s3"));
    s3.createBucket("exports");
    // An export to import: a volume with data, a snapshot, `./remap export` to the S3 server.
    written = new byte[1 << 20];
    new Random(11).nextBytes(written);
    try (ObjectStore source = FileObjectStore.open(dir.resolve("source"))) {
      VolumeManager volumes = new VolumeManager(source, VolumeOptions.defaults(dir.resolve("source-journal")));
      volumes.create("golden", 64 << 20, 4096, 1 << 20);
      try (Volume v = volumes.open("golden")) {
        v.write(4 << 20, ByteBuffer.wrap(written), false);
        volumes.snapshot(v, "v1");
      }
    }
    Proc.run(WAIT, S3ServerProcess.credentialsEnv(), List.of(RemapPaths.root().resolve("remap").toString(), "export",
        "--store", "file://" + dir.resolve("source"), "--journal", dir.resolve("cli-journal").toString(), "golden@v1",
        "--to", s3.storeUri("exports", "golden"))).requireSuccess();
    cluster.admin.secrets().inNamespace(NS).resource(new SecretBuilder().withNewMetadata().withName("s3").endMetadata()
        .addToStringData("accessKeyId", S3ServerProcess.ACCESS_KEY)
        .addToStringData("secretAccessKey", S3ServerProcess.SECRET_KEY).build()).create();
    operator = startOperator();
  }

  private OperatorProcess startOperator() {
    return OperatorProcess.start(cluster.operatorKubeconfig, "it-transfer",
        Map.of("REMAP_STORE", "file://" + store, "REMAP_JOB_IMAGE", IMAGE)).awaitReady(Duration.ofMinutes(2));
  }

  @AfterAll
  void tearDown() {
    if (operator != null) {
      operator.close();
    }
    if (s3 != null) {
      s3.close();
    }
  }

  private VirtualDisk importing(String name, String prefix) {
    return cluster.disk(NS, name, """
        {size: 128Mi, storageClassName: %s,
         source: {import: {storeUri: "s3://exports/%s", endpoint: "%s", secretRef: {name: s3}}}}
        """.formatted(CLASS, prefix, s3.endpoint()));
  }

  private Job awaitJob(String name) {
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300))
        .until(() -> cluster.admin.batch().v1().jobs().inNamespace(SYSTEM).withName(name).get() != null);
    return cluster.admin.batch().v1().jobs().inNamespace(SYSTEM).withName(name).get();
  }

  private Pod awaitPod(Job job) {
    await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).until(() -> !JobPart.waitingPods(cluster.admin, job).isEmpty());
    return JobPart.waitingPods(cluster.admin, job).get(0);
  }

  private String importPhase(String name) {
    VirtualDisk d = cluster.getDisk(NS, name);
    return d == null || d.getStatus() == null || d.getStatus().importStatus == null ? null : d.getStatus().importStatus.phase;
  }

  private List<Job> jobsOf(VirtualDisk disk) {
    return cluster.admin.batch().v1().jobs().inNamespace(SYSTEM).withLabel("remap.dev/disk-uid", disk.getMetadata().getUid())
        .list().getItems();
  }

  @Test
  void anImportRunsAsAJobThatARestartedOperatorAdoptsAndWhoseOutcomeBecomesTheDisk() throws Exception {
    VirtualDisk disk = importing("restored", "golden");
    String name = "remap-import-" + disk.getMetadata().getUid().replace("-", "").substring(0, 20);
    Job job = awaitJob(name);

    // The Job: the CLI image, its arguments, the local store mounted, credentials only by reference.
    PodSpec pod = job.getSpec().getTemplate().getSpec();
    Container c = pod.getContainers().get(0);
    assertThat(c.getImage()).isEqualTo(IMAGE);
    assertThat(c.getArgs()).containsSubsequence("import", "--store", "file://" + store).contains("--from",
        "s3://exports/golden?endpoint=" + java.net.URLEncoder.encode(s3.endpoint().toString(), java.nio.charset.StandardCharsets.UTF_8),
        "--size", Long.toString(128L << 20), name);
    assertThat(c.getEnv()).extracting(EnvVar::getName).containsExactlyInAnyOrder("REMAP_FROM_ACCESS_KEY_ID",
        "REMAP_FROM_SECRET_ACCESS_KEY");
    assertThat(c.getEnv()).allMatch(e -> e.getValue() == null && name.equals(e.getValueFrom().getSecretKeyRef().getName()));
    assertThat(pod.getVolumes()).anyMatch(v -> v.getHostPath() != null && v.getHostPath().getPath().equals(store.toString()));
    assertThat(pod.getSecurityContext().getRunAsUser()).as("a local store is root's").isZero();
    String everything = Serialization.asJson(job) + Serialization.asJson(cluster.getDisk(NS, "restored"));
    assertThat(everything).doesNotContain(S3ServerProcess.SECRET_KEY).doesNotContain(S3ServerProcess.ACCESS_KEY);
    // Copied just after the Job is created (owned by it): waited for, as the kubelet waits.
    Secret copy = await().atMost(WAIT).pollInterval(Duration.ofMillis(100))
        .until(() -> cluster.admin.secrets().inNamespace(SYSTEM).withName(name).get(), x -> x != null);
    assertThat(copy.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(job.getMetadata().getUid()));
    await().atMost(WAIT).untilAsserted(() -> {
      VirtualDisk d = cluster.getDisk(NS, "restored");
      assertThat(d.getStatus().importStatus.jobName).isEqualTo(name);
      assertThat(d.getStatus().importStatus.phase).isEqualTo("Pending");
      assertThat(VirtualDiskIT.condition(d, "Progressing").getReason()).isEqualTo("Importing");
    });
    assertThat(events("restored")).contains("ImportStarted");

    // A restarted operator finds the Job by its name and adopts it; so does any later reconcile.
    operator.close();
    operator = startOperator();
    cluster.admin.resources(VirtualDisk.class).inNamespace(NS).withName("restored")
        .edit(d -> { d.getMetadata().setAnnotations(Map.of("touch", "1")); return d; });
    // Checked all along the window in which the restarted operator reconciles the touched disk:
    // a second Job fails this at once instead of after a fixed sleep.
    await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(15)).untilAsserted(() ->
        assertThat(jobsOf(disk)).singleElement()
            .satisfies(j -> assertThat(j.getMetadata().getUid()).isEqualTo(job.getMetadata().getUid())));

    // The pod's part, for real; the Job controller completes the Job.
    Pod running = awaitPod(job);
    JobPart.Outcome outcome = JobPart.run(cluster.admin, job, dir);
    assertThat(outcome.exitCode()).as(outcome.output()).isZero();
    assertThat(outcome.output()).contains("progress copied=0 total=");
    assertThat(outcome.terminationMessage()).matches("done copied=\\d+ total=\\d+");
    JobPart.finishPod(cluster.admin, running, 0, outcome.terminationMessage());

    await().atMost(WAIT).pollInterval(Duration.ofMillis(300))
        .until(() -> "Succeeded".equals(importPhase("restored")));
    var status = cluster.getDisk(NS, "restored").getStatus().importStatus;
    assertThat(status.bytes).isEqualTo(status.totalBytes).isGreaterThanOrEqualTo(written.length);
    assertThat(status.percent).isEqualTo(100);
    assertThat(cluster.admin.persistentVolumes().withName(name).get().getSpec().getClaimRef().getName()).isEqualTo("restored");
    await().atMost(WAIT).alias("the Job goes once its outcome is recorded, with the copied credentials")
        .until(() -> jobsOf(disk).isEmpty() && cluster.admin.secrets().inNamespace(SYSTEM).withName(name).get() == null);
    await().atMost(WAIT).until(() -> "Bound".equals(cluster.getDisk(NS, "restored").getStatus().phase));
    assertThat(events("restored")).contains("ImportSucceeded");
    try (ObjectStore s = FileObjectStore.open(store)) {
      VolumeManager volumes = new VolumeManager(s, VolumeOptions.defaults(dir.resolve("check-journal")));
      assertThat(volumes.meta(name).geometry().size()).isEqualTo(128L << 20);
      try (Volume v = volumes.open(name)) {
        ByteBuffer data = ByteBuffer.allocate(written.length);
        v.read(4 << 20, data);
        assertThat(data.array()).isEqualTo(written);
      }
    }
  }

  @Test
  void aFailedImportReportsThePodsSentenceKeepsItsJobAndGoesWithItsDisk() {
    VirtualDisk disk = importing("nothing", "no-such-export");
    Job job = awaitJob("remap-import-" + disk.getMetadata().getUid().replace("-", "").substring(0, 20));
    JobPart.Outcome outcome = JobPart.run(cluster.admin, job, dir);
    assertThat(outcome.exitCode()).isEqualTo(1);
    assertThat(outcome.terminationMessage()).startsWith("there is no export in s3://exports/no-such-export");
    // Every retry (backoffLimit 2) fails alike, until the Job controller gives up.
    await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(() -> {
      JobPart.waitingPods(cluster.admin, job).forEach(p -> JobPart.finishPod(cluster.admin, p, 1, outcome.terminationMessage()));
      return "Failed".equals(importPhase("nothing"));
    });
    VirtualDisk failed = cluster.getDisk(NS, "nothing");
    assertThat(failed.getStatus().importStatus.message).startsWith("there is no export in s3://exports/no-such-export")
        .contains("delete it");
    Condition degraded = VirtualDiskIT.condition(failed, "Degraded");
    assertThat(degraded.getReason()).isEqualTo("ImportFailed");
    assertThat(degraded.getMessage()).contains("there is no export");
    assertThat(events("nothing")).contains("ImportFailed");
    await().atMost(WAIT).until(() -> cluster.admin.secrets().inNamespace(SYSTEM).withName(job.getMetadata().getName()).get() == null);
    assertThat(jobsOf(disk)).as("kept, with its pods' logs, until someone retries").hasSize(1);

    cluster.admin.resources(VirtualDisk.class).inNamespace(NS).withName("nothing").delete();
    await().atMost(WAIT).until(() -> jobsOf(disk).isEmpty() && cluster.getDisk(NS, "nothing") == null);
  }

  private String events(String disk) {
    return String.join(",", cluster.admin.v1().events().inNamespace(NS).withField("involvedObject.name", disk).list()
        .getItems().stream().map(e -> e.getReason()).toList());
  }
}
