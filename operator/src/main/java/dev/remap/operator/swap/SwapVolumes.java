package dev.remap.operator.swap;

import dev.remap.api.swap.VmMemorySwap;
import dev.remap.operator.swap.SwapObservation.Volume;
import io.fabric8.kubernetes.api.model.PersistentVolume;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

/**
 * Applies SwapVolumeModel's PersistentVolume and PVC: creates each when absent and never updates
 * them (a PV's source cannot change, and the swap's spec cannot either), and never touches a PVC
 * of that name that another owner made.
 */
final class SwapVolumes {

  private final KubernetesClient client;

  SwapVolumes(KubernetesClient client) {
    this.client = client;
  }

  /** Makes the PV and the PVC when missing; where they stand. */
  Volume ensure(VmMemorySwap swap) {
    String ns = swap.getMetadata().getNamespace();
    PersistentVolumeClaim pvc = client.persistentVolumeClaims().inNamespace(ns).withName(SwapNames.pvc(swap)).get();
    if (pvc != null && pvc.getMetadata().getOwnerReferences().stream()
        .noneMatch(o -> swap.getMetadata().getUid().equals(o.getUid()))) {
      return Volume.FOREIGN;
    }
    // The PV first: the PVC names it, and a PVC whose volume is missing would only wait.
    PersistentVolume pv = client.persistentVolumes().withName(SwapNames.persistentVolume(swap)).get();
    if (pv == null) {
      pv = createIfAbsent(() -> client.persistentVolumes().resource(SwapVolumeModel.persistentVolume(swap)).create());
    }
    if (pvc == null) {
      pvc = createIfAbsent(() -> client.persistentVolumeClaims().inNamespace(ns).resource(SwapVolumeModel.pvc(swap))
          .create());
    }
    if (pv == null || pvc == null) {
      return Volume.ABSENT; // made by a racing reconcile a moment ago: seen next time
    }
    String phase = pvc.getStatus() == null ? null : pvc.getStatus().getPhase();
    if ("Bound".equals(phase)) {
      return Volume.BOUND;
    }
    return "Lost".equals(phase) ? Volume.LOST : Volume.PENDING;
  }

  /** Deletes the swap's PV, if it is still there. */
  void deletePersistentVolume(VmMemorySwap swap) {
    client.persistentVolumes().withName(SwapNames.persistentVolume(swap)).delete();
  }

  private static <T> T createIfAbsent(java.util.function.Supplier<T> create) {
    try {
      return create.get();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return null;
      }
      throw e;
    }
  }
}
