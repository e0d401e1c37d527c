package dev.remap.operator.swap;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.HashMap;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Which node each running VM is on: KubeVirt's VirtualMachineInstances (kubevirt.io/v1), their
 * status.nodeName, keyed "namespace/name" (a VMI has its VM's name). Read once per reconcile.
 */
final class VmiNodes {

  private static final Logger LOG = Logger.getLogger(VmiNodes.class);
  static final ResourceDefinitionContext VMI = new ResourceDefinitionContext.Builder()
      .withGroup("kubevirt.io").withVersion("v1").withKind("VirtualMachineInstance")
      .withPlural("virtualmachineinstances").withNamespaced(true).build();

  private VmiNodes() {}

  /**
   * The nodes of the running VMs; empty when KubeVirt's VMI API is not served (no VM runs then).
   * Without the RBAC to list VMIs the per-node rule cannot be checked: logged, not fatal, since
   * the node still refuses a swap disk that does not fit.
   */
  static Map<String, String> read(KubernetesClient client) {
    Map<String, String> nodes = new HashMap<>();
    try {
      for (GenericKubernetesResource vmi : client.genericKubernetesResources(VMI).inAnyNamespace().list().getItems()) {
        Object status = vmi.getAdditionalProperties().get("status");
        Object node = status instanceof Map<?, ?> m ? m.get("nodeName") : null;
        if (node instanceof String name && !name.isEmpty()) {
          nodes.put(vmi.getMetadata().getNamespace() + "/" + vmi.getMetadata().getName(), name);
        }
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        LOG.warnf("cannot list VirtualMachineInstances, so the per-node swap pool rule is not checked: %s", e.getMessage());
      }
    }
    return nodes;
  }
}
