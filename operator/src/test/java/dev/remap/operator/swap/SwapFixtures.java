package dev.remap.operator.swap;

import dev.remap.api.swap.VmMemorySwap;
import io.fabric8.kubernetes.client.utils.Serialization;

/** VmMemorySwaps as the API server would hand them to the operator (uid and generation set). */
final class SwapFixtures {

  static final String UID = "4f0c1c2e-9a51-4d7b-8c1e-0123456789ab";

  private SwapFixtures() {}

  static VmMemorySwap swap(String ns, String name, String specYaml) {
    return Serialization.unmarshal("""
        apiVersion: remap.dev/v1alpha1
        kind: VmMemorySwap
        metadata: {name: %s, namespace: %s, uid: %s, generation: 3}
        spec: %s
        """.formatted(name, ns, UID, specYaml), VmMemorySwap.class);
  }
}
