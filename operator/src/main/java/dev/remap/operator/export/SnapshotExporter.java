package dev.remap.operator.export;

import dev.remap.api.disk.ExportTarget;
import dev.remap.api.disk.VirtualDisk;
import dev.remap.api.disk.VirtualDiskStatus.ExportStatus;
import dev.remap.api.disk.VirtualDiskStatus.SnapshotStatus;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.store.ObjectStores;
import dev.remap.engine.store.S3Credentials;
import dev.remap.engine.store.StoreUri;
import dev.remap.engine.volume.SnapshotTransfer;
import dev.remap.engine.volume.VolumeManager;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Carries out spec.export ({@link ExportPlan} decides when): finds the Remap snapshot behind the
 * disk's VolumeSnapshot (its content's snapshot handle, {@code VOLUME@SNAPSHOT}), opens the
 * target store with the Secret's credentials, and copies the snapshot there as a self-contained
 * export (SnapshotTransfer: the objects it references, then its manifest). The data passes
 * through the operator; exports are rare and one at a time per disk.
 */
public final class SnapshotExporter {

  static final ResourceDefinitionContext SNAPSHOT = context("VolumeSnapshot", "volumesnapshots", true);
  static final ResourceDefinitionContext CONTENT = context("VolumeSnapshotContent", "volumesnapshotcontents", false);

  private final KubernetesClient client;
  private final VolumeManager volumes;

  public SnapshotExporter(KubernetesClient client, VolumeManager volumes) {
    this.client = client;
    this.volumes = volumes;
  }

  /** The START pass: refuses a store that holds an export already (it is not this disk's). */
  public ExportStatus start(VirtualDisk disk, ExportStatus starting) {
    ExportTarget spec = disk.getSpec().export;
    try (ObjectStore target = open(disk, spec)) {
      if (target.stat(SnapshotTransfer.MANIFEST).isPresent()) {
        return ExportPlan.status(spec, ExportPlan.FAILED, spec.storeUri + " holds an export already: export to an "
            + "empty prefix (an export is never overwritten)");
      }
      return starting;
    } catch (IOException | RuntimeException e) {
      return ExportPlan.status(spec, ExportPlan.FAILED, "cannot reach " + spec.storeUri + ": " + e.getMessage());
    }
  }

  /** The RUN pass: writes the export (again, after a restart) and says how it went. */
  public ExportStatus run(VirtualDisk disk, List<SnapshotStatus> snapshots) {
    ExportTarget spec = disk.getSpec().export;
    try (ObjectStore target = open(disk, spec)) {
      String[] handle = snapshotHandle(disk, snapshots, spec.snapshot).split("@", 2);
      long bytes;
      String message;
      if (target.stat(SnapshotTransfer.MANIFEST).isPresent()) {
        // START found the prefix empty, so this is the export this disk began before a restart.
        bytes = 0;
        message = "exported before the operator restarted";
      } else {
        bytes = SnapshotTransfer.export(volumes, handle[0], handle[1], target);
        message = "snapshot " + spec.snapshot + " (" + handle[0] + "@" + handle[1] + ") exported to " + spec.storeUri;
      }
      ExportStatus done = ExportPlan.status(spec, ExportPlan.EXPORTED, message);
      done.bytes = bytes;
      done.completionTime = Instant.now().toString();
      return done;
    } catch (IOException | RuntimeException e) {
      return ExportPlan.status(spec, ExportPlan.FAILED, "exporting snapshot " + spec.snapshot + " to "
          + spec.storeUri + " failed (retried): " + e.getMessage());
    }
  }

  /** VOLUME@SNAPSHOT, from the VolumeSnapshot's bound content. */
  @SuppressWarnings("unchecked")
  private String snapshotHandle(VirtualDisk disk, List<SnapshotStatus> snapshots, String name) {
    String ns = disk.getMetadata().getNamespace();
    String volumeSnapshot = snapshots.stream().filter(s -> name.equals(s.name)).findFirst()
        .map(s -> s.volumeSnapshotName).orElseThrow(() -> new IllegalStateException("snapshot " + name + " is unknown"));
    GenericKubernetesResource snapshot = client.genericKubernetesResources(SNAPSHOT).inNamespace(ns)
        .withName(volumeSnapshot).get();
    Map<String, Object> status = snapshot == null ? Map.of() : (Map<String, Object>) snapshot.getAdditionalProperties()
        .getOrDefault("status", Map.of());
    Object contentName = status.get("boundVolumeSnapshotContentName");
    GenericKubernetesResource content = contentName == null ? null
        : client.genericKubernetesResources(CONTENT).withName(contentName.toString()).get();
    Map<String, Object> contentStatus = content == null ? Map.of() : (Map<String, Object>) content
        .getAdditionalProperties().getOrDefault("status", Map.of());
    Object handle = contentStatus.get("snapshotHandle");
    if (handle == null || !handle.toString().contains("@")) {
      throw new IllegalStateException("VolumeSnapshot " + volumeSnapshot + " has no Remap snapshot handle yet");
    }
    return handle.toString();
  }

  /** The target store: the URI, spec.endpoint added for S3, credentials from spec.secretRef. */
  private ObjectStore open(VirtualDisk disk, ExportTarget spec) throws IOException {
    String uri = spec.storeUri;
    if (spec.endpoint != null && uri.startsWith("s3://")) {
      uri += (uri.contains("?") ? "&" : "?") + "endpoint=" + URLEncoder.encode(spec.endpoint, StandardCharsets.UTF_8);
    }
    S3Credentials credentials = null;
    if (spec.secretRef != null) {
      String ns = disk.getMetadata().getNamespace();
      Secret secret = client.secrets().inNamespace(ns).withName(spec.secretRef.name).get();
      if (secret == null) {
        throw new IllegalStateException("Secret " + spec.secretRef.name + " (spec.export.secretRef) does not exist in "
            + ns);
      }
      credentials = new S3Credentials(key(secret, "accessKeyId"), key(secret, "secretAccessKey"));
    }
    return ObjectStores.open(StoreUri.parse(uri), credentials);
  }

  private static String key(Secret secret, String key) {
    String value = secret.getData() == null ? null : secret.getData().get(key);
    if (value == null) {
      throw new IllegalStateException("Secret " + secret.getMetadata().getName() + " has no key " + key);
    }
    return new String(Base64.getDecoder().decode(value), StandardCharsets.UTF_8);
  }

  private static ResourceDefinitionContext context(String kind, String plural, boolean namespaced) {
    return new ResourceDefinitionContext.Builder().withGroup("snapshot.storage.k8s.io").withVersion("v1")
        .withKind(kind).withPlural(plural).withNamespaced(namespaced).build();
  }
}
