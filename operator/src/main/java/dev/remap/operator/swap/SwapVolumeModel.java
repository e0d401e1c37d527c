package dev.remap.operator.swap;

import dev.remap.api.swap.VmMemorySwap;
import dev.remap.api.swap.VmMemorySwapSpec;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns a VmMemorySwap into the static PersistentVolume and the PVC of issue 16's contract
 * (/tmp/briefs/swap-k8s-contract.md, docs/OPERATOR.md). Pure: no I/O, tested without a cluster.
 *
 * <p>The PV is static because a swap disk has nothing to provision: the node that stages it
 * makes it from the volume attributes below, in its memory pool. Its reclaim policy is Delete
 * and the operator deletes it (the swap's finalizer): no provisioner owns it, and an owner
 * reference from a namespaced swap to a cluster-scoped PV is not allowed.
 */
public final class SwapVolumeModel {

  public static final String DRIVER = "csi.remap.dev";
  public static final String PREFIX = "remap.dev/";
  public static final String KIND = PREFIX + "kind";
  public static final String KIND_SWAP = "swap";
  public static final String SIZE = PREFIX + "swap-size";
  public static final String MEMORY_LIMIT = PREFIX + "swap-memory-limit";
  public static final String SPILL_SIZE = PREFIX + "swap-spill-size";
  public static final String SPILL_LOCATION = PREFIX + "swap-spill-location";
  public static final String DISCARD = PREFIX + "swap-discard";
  public static final String LABEL = PREFIX + "swap-label";
  /** On the PV and the PVC: the swap they belong to (the contract's label). */
  public static final String LABEL_SWAP = PREFIX + "swap";
  public static final String LABEL_NAMESPACE = PREFIX + "swap-namespace";
  public static final String LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGER = "remap-operator";

  private SwapVolumeModel() {}

  /** A quantity string in whole bytes (the API server checked it is one). */
  public static BigInteger bytes(String quantity) {
    return Quantity.getAmountInBytes(new Quantity(quantity)).toBigIntegerExact();
  }

  /** The label the swap signature carries: spec.label, else remap-swap; null with format none. */
  public static String label(VmMemorySwapSpec spec) {
    if (spec.format == VmMemorySwapSpec.Format.NONE) {
      return null;
    }
    return spec.label != null ? spec.label : VmMemorySwapSpec.DEFAULT_LABEL;
  }

  /** spec.csi.volumeAttributes: what the node makes the swap disk from; all values strings, sizes in bytes. */
  public static Map<String, String> attributes(VmMemorySwapSpec spec) {
    Map<String, String> a = new LinkedHashMap<>();
    a.put(KIND, KIND_SWAP);
    a.put(SIZE, bytes(spec.size).toString());
    a.put(MEMORY_LIMIT, bytes(spec.memoryLimit).toString());
    if (spec.spill != null) {
      a.put(SPILL_SIZE, bytes(spec.spill.size).toString());
      a.put(SPILL_LOCATION, spec.spill.location != null ? spec.spill.location : new VmMemorySwapSpec.SpillTier().location);
    }
    a.put(DISCARD, String.valueOf(!Boolean.FALSE.equals(spec.discard)));
    String label = label(spec);
    if (label != null) {
      a.put(LABEL, label);
    }
    return a;
  }

  public static PersistentVolume persistentVolume(VmMemorySwap swap) {
    VmMemorySwapSpec spec = swap.getSpec();
    String ns = swap.getMetadata().getNamespace();
    return new PersistentVolumeBuilder()
        .withNewMetadata()
        .withName(SwapNames.persistentVolume(swap))
        .withLabels(labels(swap, true))
        .endMetadata()
        .withNewSpec()
        .withCapacity(Map.of("storage", new Quantity(bytes(spec.size).toString())))
        .withAccessModes("ReadWriteOnce")
        .withVolumeMode("Block")
        .withStorageClassName("")
        .withPersistentVolumeReclaimPolicy("Delete")
        .withNewClaimRef().withApiVersion("v1").withKind("PersistentVolumeClaim")
        .withNamespace(ns).withName(SwapNames.pvc(swap)).endClaimRef()
        .withNewCsi().withDriver(DRIVER).withVolumeHandle(SwapNames.volumeHandle(swap))
        .withVolumeAttributes(attributes(spec)).endCsi()
        .endSpec()
        .build();
  }

  public static PersistentVolumeClaim pvc(VmMemorySwap swap) {
    return new PersistentVolumeClaimBuilder()
        .withNewMetadata()
        .withName(SwapNames.pvc(swap))
        .withNamespace(swap.getMetadata().getNamespace())
        .withLabels(labels(swap, false))
        // The garbage collector deletes the PVC after its swap. No blockOwnerDeletion: nothing
        // needs to wait for the PVC, and it would need update on vmmemoryswaps/finalizers.
        .addNewOwnerReference()
        .withApiVersion(swap.getApiVersion()).withKind(swap.getKind())
        .withName(swap.getMetadata().getName()).withUid(swap.getMetadata().getUid())
        .withController(true)
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withAccessModes("ReadWriteOnce")
        .withVolumeMode("Block")
        .withStorageClassName("")
        .withVolumeName(SwapNames.persistentVolume(swap))
        .withNewResources().addToRequests("storage", new Quantity(bytes(swap.getSpec().size).toString())).endResources()
        .endSpec()
        .build();
  }

  private static Map<String, String> labels(VmMemorySwap swap, boolean withNamespace) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(LABEL_MANAGED_BY, MANAGER);
    labels.put(LABEL_SWAP, SwapNames.labelValue(swap.getMetadata().getName()));
    if (withNamespace) {
      // A cluster-scoped PV's name does not say whose it is; the namespace label does.
      labels.put(LABEL_NAMESPACE, swap.getMetadata().getNamespace());
    }
    return labels;
  }
}
