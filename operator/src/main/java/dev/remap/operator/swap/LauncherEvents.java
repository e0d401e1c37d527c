package dev.remap.operator.swap;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * The events on a VM's virt-launcher pods, where the kubelet reports a volume it could not map or
 * mount (with the node plugin's gRPC description). {@link StageFailures} reads them.
 */
final class LauncherEvents {

  private static final Logger LOG = Logger.getLogger(LauncherEvents.class);
  /** KubeVirt's labels on the pod that runs a VM: the launcher role, and the VM's name. */
  static final String ROLE_LABEL = "kubevirt.io";
  static final String ROLE = "virt-launcher";
  static final String VM_LABEL = "vm.kubevirt.io/name";

  private LauncherEvents() {}

  /**
   * Every event on the VM's launcher pods in its namespace (a VM that restarts may have two for a
   * while: the newest event decides anyway). One list of pods and one of events per pod, both
   * filtered by the API server, at each reconcile of a swap whose VM runs. Without the RBAC to
   * list pods or events (an older ClusterRole) none: logged, not fatal, since the rest of the
   * status still holds and the kubelet's events still tell the story on the pod.
   */
  static List<Event> read(KubernetesClient client, String namespace, String vmName) {
    List<Event> events = new ArrayList<>();
    try {
      for (Pod pod : client.pods().inNamespace(namespace).withLabel(ROLE_LABEL, ROLE).withLabel(VM_LABEL, vmName)
          .list().getItems()) {
        events.addAll(client.v1().events().inNamespace(namespace)
            .withField("involvedObject.uid", pod.getMetadata().getUid()).list().getItems());
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() != 403) {
        throw e;
      }
      LOG.warnf("cannot list the virt-launcher pods of VirtualMachine %s/%s or their events, so a node's refusal to"
          + " stage its swap disk is not reported: %s", namespace, vmName, e.getMessage());
      return List.of();
    }
    return events;
  }
}
