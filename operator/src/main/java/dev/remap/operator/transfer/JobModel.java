package dev.remap.operator.transfer;

import dev.remap.api.disk.ExportTarget;
import dev.remap.api.disk.ImportSource;
import dev.remap.api.disk.VirtualDisk;
import dev.remap.operator.disk.DiskNames;
import dev.remap.operator.disk.PvcModel;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobBuilder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a disk's spec.export or spec.source.import into the Job that copies the data (and the
 * per-Job Secret with the user's store credentials). Pure: no I/O, unit-tested without a cluster.
 *
 * <p>The Job runs in the operator's namespace, where Remap's store credentials already are (the
 * Job reads them with secretKeyRef) and where a hostPath may be mounted; the user's credentials
 * are copied next to it into a Secret owned by the Job. No secret value is ever in the Job's
 * spec, its arguments or its annotations: only Secret names and keys.
 */
public final class JobModel {

  public static final String LABEL_TRANSFER = "remap.dev/transfer";
  public static final String LABEL_DISK_UID = "remap.dev/disk-uid";
  /** The disk's namespace and name (annotations: a disk name may be longer than a label value). */
  public static final String ANNOTATION_DISK_NAMESPACE = "remap.dev/disk-namespace";
  public static final String ANNOTATION_DISK_NAME = "remap.dev/disk-name";
  /** The keys of the user's Secret (spec.*.secretRef) and of the per-Job copy. */
  public static final String ACCESS_KEY_ID = "accessKeyId";
  public static final String SECRET_ACCESS_KEY = "secretAccessKey";
  /** A failed pod is retried twice (a store outage may pass); then the Job and the status say Failed. */
  public static final int BACKOFF_LIMIT = 2;
  /** Twelve hours: a terabyte at 25 MB/s; a Job that runs longer has hung. */
  public static final long ACTIVE_DEADLINE_SECONDS = 12 * 3600;
  static final String JOURNAL = "/tmp/journal";

  private JobModel() {}

  /** remap-export-UID20-HASH8: a new snapshot, store, endpoint or Secret is a new Job. */
  public static String exportJobName(VirtualDisk disk) {
    ExportTarget t = disk.getSpec().export;
    String identity = t.snapshot + "\n" + t.storeUri + "\n" + t.endpoint + "\n" + (t.secretRef == null ? "" : t.secretRef.name);
    return "remap-export-" + uid20(disk) + "-" + sha256(identity).substring(0, 8);
  }

  /** remap-import-UID20, the name of the volume it makes: a disk's source never changes. */
  public static String importJobName(VirtualDisk disk) {
    return DiskNames.imported(disk);
  }

  /** The export of spec.export's snapshot, whose Remap handle is VOLUME@SNAPSHOT. */
  public static TransferJob export(VirtualDisk disk, String snapshotHandle, JobConfig config) {
    ExportTarget t = disk.getSpec().export;
    List<String> args = List.of("export", "--store", config.storeUri(), "--journal", JOURNAL, snapshotHandle,
        "--to", withEndpoint(t.storeUri, t.endpoint));
    return new TransferJob(TransferJob.Kind.EXPORT, exportJobName(disk), disk.getMetadata().getNamespace(),
        disk.getMetadata().getName(), disk.getMetadata().getUid(), args, t.secretRef == null ? null : t.secretRef.name,
        "spec.export", t.storeUri);
  }

  /** The import of spec.source.import as the volume remap-import-UID20, grown to spec.size. */
  public static TransferJob importing(VirtualDisk disk, JobConfig config) {
    ImportSource s = disk.getSpec().source.importFrom;
    long size = Quantity.getAmountInBytes(new Quantity(disk.getSpec().size)).longValueExact();
    List<String> args = List.of("import", "--store", config.storeUri(), "--journal", JOURNAL,
        "--from", withEndpoint(s.storeUri, s.endpoint), "--size", Long.toString(size), DiskNames.imported(disk));
    return new TransferJob(TransferJob.Kind.IMPORT, importJobName(disk), disk.getMetadata().getNamespace(),
        disk.getMetadata().getName(), disk.getMetadata().getUid(), args, s.secretRef == null ? null : s.secretRef.name,
        "spec.source.import", s.storeUri);
  }

  public static Job job(TransferJob t, JobConfig config) {
    List<EnvVar> env = new ArrayList<>(StorePods.storeEnv(config));
    if (t.userSecret() != null) {
      env.add(StorePods.fromSecret(t.kind().credentialsEnv + "_ACCESS_KEY_ID", t.name(), ACCESS_KEY_ID));
      env.add(StorePods.fromSecret(t.kind().credentialsEnv + "_SECRET_ACCESS_KEY", t.name(), SECRET_ACCESS_KEY));
    }
    Map<String, String> labels = labels(t);
    return new JobBuilder()
        .withNewMetadata()
        .withName(t.name()).withNamespace(config.namespace()).withLabels(labels)
        .withAnnotations(Map.of(ANNOTATION_DISK_NAMESPACE, t.diskNamespace(), ANNOTATION_DISK_NAME, t.diskName()))
        .endMetadata()
        .withNewSpec()
        .withBackoffLimit(BACKOFF_LIMIT)
        .withActiveDeadlineSeconds(ACTIVE_DEADLINE_SECONDS)
        // No ttlSecondsAfterFinished: the operator deletes a succeeded Job once the status holds
        // its outcome, and keeps a failed one (its pods' logs) until the user retries.
        .withNewTemplate()
        .withNewMetadata().withLabels(labels).endMetadata()
        .withNewSpec()
        .withRestartPolicy("Never")
        // The copy talks to stores, never to the API server.
        .withAutomountServiceAccountToken(false)
        .withEnableServiceLinks(false)
        .withSecurityContext(StorePods.podSecurity(config))
        .addNewContainer()
        .withName("remap")
        .withImage(config.image())
        .withImagePullPolicy("IfNotPresent")
        .withArgs(t.args())
        .withEnv(env)
        .withResources(StorePods.resources())
        // The failure sentence (or the final progress line) is the termination message; if the
        // JVM dies before writing it, the log's last lines stand in.
        .withTerminationMessagePolicy("FallbackToLogsOnError")
        .withSecurityContext(StorePods.containerSecurity())
        .withVolumeMounts(StorePods.mounts(config))
        .endContainer()
        .withVolumes(StorePods.volumes(config))
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /**
   * The user's credentials copied next to the Job, owned by it (the garbage collector deletes
   * the copy with the Job; the operator deletes it as soon as the Job finished). The values are
   * copied as the API server returned them (base64), never decoded here.
   */
  public static Secret credentials(TransferJob t, Job owner, Map<String, String> userData) {
    Map<String, String> data = new LinkedHashMap<>();
    data.put(ACCESS_KEY_ID, userData.get(ACCESS_KEY_ID));
    data.put(SECRET_ACCESS_KEY, userData.get(SECRET_ACCESS_KEY));
    return new SecretBuilder()
        .withNewMetadata()
        .withName(t.name()).withNamespace(owner.getMetadata().getNamespace()).withLabels(labels(t))
        .addNewOwnerReference().withApiVersion("batch/v1").withKind("Job").withName(owner.getMetadata().getName())
        .withUid(owner.getMetadata().getUid()).withController(true).withBlockOwnerDeletion(false).endOwnerReference()
        .endMetadata()
        .withType("Opaque")
        .withData(data)
        .build();
  }

  static Map<String, String> labels(TransferJob t) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(PvcModel.LABEL_MANAGED_BY, PvcModel.MANAGER);
    labels.put(LABEL_TRANSFER, t.kind().label);
    labels.put(LABEL_DISK_UID, t.diskUid());
    return labels;
  }

  /** The store URI with the spec's endpoint as a query parameter, as the engine's StoreUri reads it. */
  static String withEndpoint(String storeUri, String endpoint) {
    if (endpoint == null || !storeUri.startsWith("s3://")) {
      return storeUri;
    }
    return storeUri + (storeUri.contains("?") ? "&" : "?") + "endpoint=" + URLEncoder.encode(endpoint, StandardCharsets.UTF_8);
  }

  private static String uid20(VirtualDisk disk) {
    return DiskNames.imported(disk).substring("remap-import-".length());
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
