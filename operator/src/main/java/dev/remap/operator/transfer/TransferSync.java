package dev.remap.operator.transfer;

import dev.remap.api.disk.VirtualDisk;
import dev.remap.api.disk.VirtualDiskStatus.ExportStatus;
import dev.remap.api.disk.VirtualDiskStatus.ImportStatus;
import dev.remap.api.disk.VirtualDiskStatus.SnapshotStatus;
import dev.remap.api.disk.VirtualDiskStatus.TransferStatus;
import dev.remap.operator.disk.PvcModel;
import dev.remap.operator.status.EventRecorder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Glue between a disk and its transfer Jobs: decides with {@link ExportPlan} / {@link ImportPlan},
 * creates the Job of {@link JobModel} (adopting one of the same name: a restarted operator never
 * starts a second), copies the user's credentials next to it, reads the pod's progress through
 * {@link JobLogs}, reports with {@link TransferStatusBuilder}, and deletes what is no longer
 * needed. Never waits on data: every call is one bounded API request.
 */
public final class TransferSync {

  private static final String DEFAULT_DRIVER = "csi.remap.dev";

  private final KubernetesClient client;
  private final JobConfig config;
  private final JobLogs logs;
  /** The disk's Jobs as the informer has them, by name. */
  private final Map<String, Job> jobs;
  private boolean soon;

  public TransferSync(KubernetesClient client, JobConfig config, JobLogs logs, Map<String, Job> jobs) {
    this.client = client;
    this.config = config;
    this.logs = logs;
    this.jobs = jobs;
  }

  /** spec.export's status; snapshots are the disk's (its VolumeSnapshots' states). */
  public ExportStatus export(VirtualDisk disk, List<SnapshotStatus> snapshots) {
    ExportStatus previous = disk.getStatus() == null ? null : disk.getStatus().export;
    if (disk.getSpec().export == null) {
      return null;
    }
    String name = JobModel.exportJobName(disk);
    ExportPlan.Decision d = ExportPlan.decide(disk.getSpec().export, snapshots, previous, config.storeConfigured(), name,
        jobs.containsKey(name));
    return switch (d.action()) {
      case NONE -> null;
      case REPORT, KEEP -> d.status();
      case CLEAN_UP -> cleanUp(name, d.status());
      case START -> start(disk, () -> JobModel.export(disk, SnapshotHandles.of(client, disk, snapshots), config), d.status(),
          previous);
      case OBSERVE -> observe(disk, d.status(), jobs.get(name), previous);
    };
  }

  /** spec.source.import's status; volumeExists: its PersistentVolume is there (the import is done). */
  public ImportStatus importing(VirtualDisk disk, boolean volumeExists) {
    ImportStatus previous = disk.getStatus() == null ? null : disk.getStatus().importStatus;
    if (!PvcModel.imports(disk.getSpec())) {
      return null;
    }
    String name = JobModel.importJobName(disk);
    ImportPlan.Decision d = ImportPlan.decide(disk.getSpec().source.importFrom, volumeExists, previous,
        config.storeConfigured(), name, jobs.containsKey(name));
    return switch (d.action()) {
      case NONE -> null;
      case REPORT, KEEP -> d.status();
      case CLEAN_UP -> cleanUp(name, d.status());
      case START -> start(disk, () -> JobModel.importing(disk, config), d.status(), previous);
      case OBSERVE -> {
        ImportStatus s = observe(disk, d.status(), jobs.get(name), previous);
        if (TransferStatusBuilder.SUCCEEDED.equals(s.phase)) {
          createVolume(disk);
        }
        yield s;
      }
    };
  }

  /** Deletes this disk's Jobs that its spec no longer asks for (an export changed or removed). */
  public void deleteStale(Collection<String> wanted) {
    jobs.keySet().stream().filter(n -> !wanted.contains(n)).forEach(this::deleteJob);
  }

  /**
   * A disk that goes takes its Jobs (in another namespace, so no owner reference can), one by
   * one: listed by the disk's uid label, deleted by name (no deletecollection verb needed).
   */
  public static void deleteAll(KubernetesClient client, JobConfig config, VirtualDisk disk) {
    for (Job job : client.batch().v1().jobs().inNamespace(config.namespace())
        .withLabel(JobModel.LABEL_DISK_UID, disk.getMetadata().getUid()).list().getItems()) {
      client.batch().v1().jobs().inNamespace(config.namespace()).withName(job.getMetadata().getName())
          .withPropagationPolicy(io.fabric8.kubernetes.api.model.DeletionPropagation.BACKGROUND).delete();
    }
  }

  private <S extends TransferStatus> S start(VirtualDisk disk, Supplier<TransferJob> model, S status, S previous) {
    TransferJob t = model.get();
    Job job = JobModel.job(t, config);
    Job created;
    boolean adopted = false;
    try {
      created = client.batch().v1().jobs().inNamespace(config.namespace()).resource(job).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
      // Started before (by this operator before a restart, or the informer had not seen it yet).
      created = client.batch().v1().jobs().inNamespace(config.namespace()).withName(t.name()).get();
      adopted = true;
    }
    if (created != null && t.userSecret() != null && !JobView.of(created).finished()) {
      copyCredentials(t, created);
    }
    if (!adopted) {
      EventRecorder.record(client, disk, false, t.kind() == TransferJob.Kind.EXPORT ? "ExportStarted" : "ImportStarted",
          "Job " + config.namespace() + "/" + t.name() + " copies " + (t.kind() == TransferJob.Kind.EXPORT ? "to " : "from ")
              + t.userStoreUri());
    }
    return created == null ? status : observe(disk, status, created, previous);
  }

  /**
   * Whether the reconcile should come back within seconds: a Job is at work (its progress is
   * read again) or has just finished (its Job is deleted once the status holds the outcome).
   */
  public boolean comeBackSoon() {
    return soon;
  }

  private <S extends TransferStatus> S observe(VirtualDisk disk, S status, Job job, TransferStatus previous) {
    JobView view = JobView.of(job);
    String name = job.getMetadata().getName();
    String log = view.finished() ? "" : logs.tail(config.namespace(), name);
    String message = view.finished() ? logs.terminationMessage(config.namespace(), name) : null;
    S s = TransferStatusBuilder.build(status, status.storeUri, config.namespace(), name, view, ProgressParser.last(log),
        message, previous);
    soon = true;
    if (view.succeeded() && (previous == null || !TransferStatusBuilder.SUCCEEDED.equals(previous.phase))) {
      EventRecorder.record(client, disk, false, status instanceof ExportStatus ? "ExportSucceeded" : "ImportSucceeded",
          s.message);
    }
    if (view.finished()) {
      // The pods that needed the user's credentials are done: the copy goes at once, not with the Job.
      deleteCredentials(name);
    }
    return s;
  }

  private <S extends TransferStatus> S cleanUp(String name, S status) {
    deleteJob(name);
    return status;
  }

  private void copyCredentials(TransferJob t, Job owner) {
    Secret user = client.secrets().inNamespace(t.diskNamespace()).withName(t.userSecret()).get();
    if (user == null) {
      throw new IllegalStateException("Secret " + t.userSecret() + " (" + t.userField() + ".secretRef) does not exist in "
          + "namespace " + t.diskNamespace());
    }
    Map<String, String> data = user.getData() == null ? Map.of() : user.getData();
    for (String key : Set.of(JobModel.ACCESS_KEY_ID, JobModel.SECRET_ACCESS_KEY)) {
      if (data.get(key) == null) {
        throw new IllegalStateException("Secret " + t.userSecret() + " (" + t.userField() + ".secretRef) has no key " + key);
      }
    }
    try {
      client.secrets().inNamespace(config.namespace()).resource(JobModel.credentials(t, owner, data)).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
    }
  }

  private void deleteCredentials(String name) {
    client.secrets().inNamespace(config.namespace()).withName(name).delete();
  }

  private void deleteJob(String name) {
    client.batch().v1().jobs().inNamespace(config.namespace()).withName(name)
        .withPropagationPolicy(io.fabric8.kubernetes.api.model.DeletionPropagation.BACKGROUND).delete();
  }

  /** The imported volume's PersistentVolume, bound in advance to the disk's PVC (made last: its existence means done). */
  private void createVolume(VirtualDisk disk) {
    StorageClass storageClass = client.storage().v1().storageClasses().withName(disk.getSpec().storageClassName).get();
    String driver = storageClass != null ? storageClass.getProvisioner() : DEFAULT_DRIVER;
    try {
      client.persistentVolumes().resource(PvcModel.importedVolume(disk, driver)).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
    }
  }

}
