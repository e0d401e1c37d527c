package dev.remap.csi.controller;

import dev.remap.csi.server.Rpc;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-disk parameters from the PVC (pure). One StorageClass serves disks of every shape, so the
 * Remap operator writes each VirtualDisk's spec.parameters onto its PVC as annotations; the
 * external-provisioner names the PVC in CreateVolume's parameters (--extra-create-metadata) and
 * the driver reads its annotations ({@link ClaimReader}). An annotation wins over the class's
 * parameter of the same meaning. Values are Kubernetes quantities (1Mi, 500M, 4096), turned into
 * bytes here, exactly as the API server counts them.
 */
public final class ClaimParameters {

  public static final String PVC_NAME = "csi.storage.k8s.io/pvc/name";
  public static final String PVC_NAMESPACE = "csi.storage.k8s.io/pvc/namespace";

  /** Annotation → the class parameter it sets. */
  static final Map<String, String> ANNOTATIONS = Map.of(
      "remap.dev/block-size", VolumeParameters.BLOCK_SIZE,
      "remap.dev/chunk-size", VolumeParameters.CHUNK_SIZE,
      "remap.dev/ram-cache-size", VolumeParameters.RAM_CACHE,
      "remap.dev/disk-cache-size", VolumeParameters.DISK_CACHE);

  private ClaimParameters() {}

  /** The class's parameters with the PVC's annotations laid over them. */
  public static Map<String, String> merge(Map<String, String> parameters, Map<String, String> annotations,
      String claim) {
    Map<String, String> merged = new LinkedHashMap<>(parameters);
    for (Map.Entry<String, String> a : ANNOTATIONS.entrySet()) {
      String value = annotations.get(a.getKey());
      if (value == null) {
        continue;
      }
      try {
        merged.put(a.getValue(), Quantity.getAmountInBytes(new Quantity(value)).toBigIntegerExact().toString());
      } catch (RuntimeException e) {
        throw Rpc.invalid("annotation " + a.getKey() + " of PersistentVolumeClaim " + claim + ": '" + value
            + "' is not a whole number of bytes");
      }
    }
    return merged;
  }
}
