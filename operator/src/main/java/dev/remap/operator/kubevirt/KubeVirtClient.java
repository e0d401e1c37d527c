package dev.remap.operator.kubevirt;

import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything the operator does to KubeVirt, in one place: read a VirtualMachine, patch its spec
 * with a JSON Patch (so fields this code does not model survive), and call the addvolume /
 * removevolume subresources for running VMs. There is no Java KubeVirt client in the registries
 * this project uses; the model is the handful of fields in {@link VirtualMachineView}.
 */
public final class KubeVirtClient {

  public static final String GROUP = "kubevirt.io";
  public static final String VERSION = "v1";
  public static final String API_VERSION = GROUP + "/" + VERSION;
  public static final String KIND = "VirtualMachine";
  public static final String PLURAL = "virtualmachines";

  static final ResourceDefinitionContext VM = new ResourceDefinitionContext.Builder()
      .withGroup(GROUP).withVersion(VERSION).withKind(KIND).withPlural(PLURAL).withNamespaced(true).build();

  private final KubernetesClient client;

  public KubeVirtClient(KubernetesClient client) {
    this.client = client;
  }

  /** Whether the API server serves kubevirt.io/v1 virtualmachines (KubeVirt or its CRD is installed). */
  public boolean installed() {
    try {
      APIResourceList resources = client.getApiResources(API_VERSION);
      return resources != null && resources.getResources().stream().anyMatch(r -> PLURAL.equals(r.getName()));
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return false;
      }
      throw e;
    }
  }

  public Optional<VirtualMachineView> get(String namespace, String name) {
    GenericKubernetesResource vm = client.genericKubernetesResources(VM).inNamespace(namespace).withName(name).get();
    return Optional.ofNullable(vm).map(VirtualMachineView::of);
  }

  /** The VMs of namespace whose labels match selector. */
  public java.util.List<VirtualMachineView> list(String namespace, io.fabric8.kubernetes.api.model.LabelSelector selector) {
    return client.genericKubernetesResources(VM).inNamespace(namespace).withLabelSelector(selector).list().getItems()
        .stream().map(VirtualMachineView::of).toList();
  }

  /** Applies JSON Patch ops (from {@link VmPatches}); a failed {@code test} op surfaces as an exception. */
  public void patch(VirtualMachineView vm, List<Map<String, Object>> ops) {
    if (ops.isEmpty()) {
      return;
    }
    client.genericKubernetesResources(VM).inNamespace(vm.namespace()).withName(vm.name())
        .patch(PatchContext.of(PatchType.JSON), Serialization.asJson(ops));
  }

  /** PUT .../virtualmachines/NAME/addvolume: hotplugs the volume into the running VM and its spec. */
  public void addVolume(VirtualMachineView vm, VmVolume volume, VmDisk disk) {
    subresource(vm, "addvolume", HotplugRequests.addVolume(volume, disk));
  }

  /** PUT .../virtualmachines/NAME/removevolume. */
  public void removeVolume(VirtualMachineView vm, String name) {
    subresource(vm, "removevolume", HotplugRequests.removeVolume(name));
  }

  private void subresource(VirtualMachineView vm, String verb, Map<String, Object> body) {
    String url = client.getConfiguration().getMasterUrl().replaceAll("/$", "")
        + "/apis/subresources.kubevirt.io/v1/namespaces/" + vm.namespace() + "/virtualmachines/" + vm.name() + "/" + verb;
    // raw() answers null for 404: here that means virt-api, which serves these, is missing.
    if (client.raw(url, "PUT", body) == null) {
      throw new KubernetesClientException("KubeVirt's subresources API (virt-api) does not answer " + verb
          + " for VirtualMachine " + vm.name() + ": is KubeVirt fully installed?");
    }
  }
}
