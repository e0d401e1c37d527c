package dev.remap.operator.it;

import dev.remap.api.disk.VirtualDisk;
import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.RemapPaths;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClassBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A real control plane prepared for the operator: Remap's CRDs from crds/, a stand-in KubeVirt
 * VirtualMachine CRD, the operator's RBAC from operator/rbac.yaml, and a kubeconfig that
 * authenticates as the operator's ServiceAccount, so the tests also prove the RBAC is enough.
 * Prepared once per control plane.
 */
final class TestCluster {

  static final ResourceDefinitionContext VM = new ResourceDefinitionContext.Builder()
      .withGroup("kubevirt.io").withVersion("v1").withKind("VirtualMachine").withPlural("virtualmachines")
      .withNamespaced(true).build();
  private static final Map<Path, TestCluster> PREPARED = new HashMap<>();

  final ControlPlane cp;
  final KubernetesClient admin;
  final Path operatorKubeconfig;

  private TestCluster(ControlPlane cp, KubernetesClient admin, Path operatorKubeconfig) {
    this.cp = cp;
    this.admin = admin;
    this.operatorKubeconfig = operatorKubeconfig;
  }

  static synchronized TestCluster of(ControlPlane cp) {
    return PREPARED.computeIfAbsent(cp.dir(), dir -> prepare(cp));
  }

  private static TestCluster prepare(ControlPlane cp) {
    try {
      Path root = RemapPaths.root();
      cp.kubectl("apply", "--server-side", "--force-conflicts", "-f", root.resolve("crds").toString()).requireSuccess();
      Path vmCrd = Files.createTempFile("kubevirt-vm-crd", ".yaml");
      vmCrd.toFile().deleteOnExit();
      try (var in = TestCluster.class.getResourceAsStream("/kubevirt-vm-crd.yaml")) {
        Files.write(vmCrd, in.readAllBytes());
      }
      cp.kubectl("apply", "-f", vmCrd.toString()).requireSuccess();
      cp.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/virtualdisks.remap.dev",
          "crd/logicaldiskshares.remap.dev", "crd/vmmemoryswaps.remap.dev", "crd/virtualmachines.kubevirt.io")
          .requireSuccess();
      cp.ensureNamespace("remap-system");
      cp.kubectl("apply", "-f", root.resolve("operator/rbac.yaml").toString()).requireSuccess();
      KubernetesClient admin = new KubernetesClientBuilder()
          .withConfig(Config.fromKubeconfig(Files.readString(cp.kubeconfig()))).build();
      return new TestCluster(cp, admin, cp.serviceAccountKubeconfig("remap-system", "remap-operator"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void namespace(String name) {
    if (admin.namespaces().withName(name).get() == null) {
      admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build()).create();
    }
  }

  /** A StorageClass of the Remap CSI driver; each test uses its own so tests do not see each other's. */
  void storageClass(String name) {
    admin.storage().v1().storageClasses().resource(new StorageClassBuilder().withNewMetadata().withName(name).endMetadata()
        .withProvisioner("csi.remap.dev").withReclaimPolicy("Delete").withVolumeBindingMode("Immediate")
        .withAllowVolumeExpansion(true).build()).create();
  }

  /**
   * A PersistentVolume bound in advance to the claim ns/pvc, standing in for what the CSI
   * provisioner would create: kube-controller-manager's PV controller binds the two.
   */
  void preBoundVolume(String ns, String pvc, String storageClass, String size, String handle) {
    admin.persistentVolumes().resource(new PersistentVolumeBuilder()
        .withNewMetadata().withName("pv-" + ns + "-" + pvc).endMetadata()
        .withNewSpec()
        .addToCapacity("storage", new Quantity(size))
        .withAccessModes("ReadWriteOnce").withVolumeMode("Block").withStorageClassName(storageClass)
        .withPersistentVolumeReclaimPolicy("Retain")
        .withNewClaimRef().withNamespace(ns).withName(pvc).endClaimRef()
        .withNewCsi().withDriver("csi.remap.dev").withVolumeHandle(handle).endCsi()
        .endSpec().build()).create();
  }

  /** A KubeVirt VirtualMachine with a container disk and a field no Remap model knows. */
  GenericKubernetesResource virtualMachine(String ns, String name) {
    GenericKubernetesResource vm = Serialization.unmarshal("""
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: %s, namespace: %s}
        spec:
          runStrategy: Halted
          someFutureField: {keep: me}
          template:
            metadata: {labels: {app: %s}}
            spec:
              domain:
                devices:
                  disks: [{name: root, disk: {bus: virtio}, bootOrder: 1}]
                  interfaces: [{name: default, masquerade: {}}]
                resources: {requests: {memory: 1Gi}}
              volumes: [{name: root, containerDisk: {image: example/root}}]
        """.formatted(name, ns, name), GenericKubernetesResource.class);
    return admin.genericKubernetesResources(VM).inNamespace(ns).resource(vm).create();
  }

  GenericKubernetesResource getVm(String ns, String name) {
    return admin.genericKubernetesResources(VM).inNamespace(ns).withName(name).get();
  }

  VirtualDisk disk(String ns, String name, String specYaml) {
    VirtualDisk disk = Serialization.unmarshal("""
        apiVersion: remap.dev/v1alpha1
        kind: VirtualDisk
        metadata: {name: %s, namespace: %s}
        spec: %s
        """.formatted(name, ns, specYaml), VirtualDisk.class);
    return admin.resources(VirtualDisk.class).inNamespace(ns).resource(disk).create();
  }

  VirtualDisk getDisk(String ns, String name) {
    return admin.resources(VirtualDisk.class).inNamespace(ns).withName(name).get();
  }
}
