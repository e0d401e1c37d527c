package dev.remap.operator.share;

import dev.remap.api.share.Allocation;
import dev.remap.api.share.LogicalDiskShare;
import dev.remap.operator.kubevirt.KubeVirtClient;
import dev.remap.operator.kubevirt.VirtualMachineView;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Which VMs a share's allocation picks (seed 004's "preset allocation rule"): the named ones that
 * exist and those whose labels match a selector, per entry; and which of them run (have a
 * VirtualMachineInstance), since a VM's disks move to a new generation only while it is stopped.
 */
final class ShareVms {

  private static final ResourceDefinitionContext VMI = new ResourceDefinitionContext.Builder()
      .withGroup(KubeVirtClient.GROUP).withVersion(KubeVirtClient.VERSION).withKind("VirtualMachineInstance")
      .withPlural("virtualmachineinstances").withNamespaced(true).build();

  /** The VMs each allocation entry picked (in entry order) and the named VMs that do not exist. */
  record Picked(List<List<String>> perEntry, List<String> missing, Map<String, VirtualMachineView> vms) {}

  private ShareVms() {}

  static Picked pick(KubeVirtClient kubevirt, LogicalDiskShare share) {
    String ns = share.getMetadata().getNamespace();
    List<List<String>> perEntry = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    Map<String, VirtualMachineView> vms = new java.util.TreeMap<>();
    for (Allocation entry : share.getSpec().allocation) {
      List<String> names = new ArrayList<>();
      if (entry.vmNames != null) {
        for (String name : entry.vmNames) {
          var vm = kubevirt.get(ns, name);
          if (vm.isPresent()) {
            names.add(name);
            vms.put(name, vm.get());
          } else if (!missing.contains(name)) {
            missing.add(name);
          }
        }
      } else {
        for (VirtualMachineView vm : kubevirt.list(ns, entry.vmSelector)) {
          names.add(vm.name());
          vms.put(vm.name(), vm);
        }
      }
      perEntry.add(names);
    }
    return new Picked(perEntry, missing, vms);
  }

  /** Whether VM ns/name has a VirtualMachineInstance (starting, running or stopping): its disks may be in use. */
  static boolean hasInstance(KubernetesClient client, String ns, String name) {
    try {
      GenericKubernetesResource vmi = client.genericKubernetesResources(VMI).inNamespace(ns).withName(name).get();
      return vmi != null;
    } catch (KubernetesClientException e) {
      // Not knowing means not moving the disks: the safe side.
      return e.getCode() != 404 || !e.getMessage().contains("the server could not find the requested resource");
    }
  }
}
