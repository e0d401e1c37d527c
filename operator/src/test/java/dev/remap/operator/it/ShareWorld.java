package dev.remap.operator.it;

import dev.remap.api.share.LogicalDiskShare;
import dev.remap.engine.share.CloudDisk;
import dev.remap.engine.share.S3CloudDisk;
import dev.remap.engine.store.S3Credentials;
import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.S3ServerProcess;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link LogicalDiskShareIT} puts around a share: files in the user's bucket (a real S3
 * server), Secrets, KubeVirt VirtualMachines and VirtualMachineInstances (a stand-in CRD for the
 * latter: only its existence is read), the share itself, and `kubectl get lds` read as columns.
 */
final class ShareWorld {

  static final ResourceDefinitionContext VMI = new ResourceDefinitionContext.Builder()
      .withGroup("kubevirt.io").withVersion("v1").withKind("VirtualMachineInstance")
      .withPlural("virtualmachineinstances").withNamespaced(true).build();
  private final TestCluster cluster;
  private final S3ServerProcess s3;
  private final Path dir;

  ShareWorld(TestCluster cluster, S3ServerProcess s3, Path dir) {
    this.cluster = cluster;
    this.s3 = s3;
    this.dir = dir;
  }

  /** KubeVirt's VMI kind, any shape (the operator only asks whether a VM's VMI exists). */
  static void installVmiCrd(ControlPlane cp, Path dir) throws IOException {
    Path crd = Files.writeString(dir.resolve("kubevirt-vmi-crd.yaml"), """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: virtualmachineinstances.kubevirt.io}
        spec:
          group: kubevirt.io
          scope: Namespaced
          names: {kind: VirtualMachineInstance, plural: virtualmachineinstances, singular: virtualmachineinstance}
          versions:
          - name: v1
            served: true
            storage: true
            schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
        """);
    cp.kubectl("apply", "-f", crd.toString()).requireSuccess();
    cp.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/virtualmachineinstances.kubevirt.io")
        .requireSuccess();
  }

  /** Writes a file into the bucket, as the user's other devices would. */
  void put(String bucket, String name, String text) throws IOException {
    Path local = dir.resolve("upload");
    Files.writeString(local, text);
    try (S3CloudDisk writer = new S3CloudDisk(s3.endpoint(), bucket, "", null,
        new S3Credentials(S3ServerProcess.ACCESS_KEY, S3ServerProcess.SECRET_KEY))) {
      writer.upload(name, local, writer.stat(name).map(CloudDisk.Entry::etag).orElse(null));
    }
  }

  void secret(String ns, String name, String accessKeyId, String secretAccessKey) {
    cluster.admin.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName(name).endMetadata()
        .addToStringData("accessKeyId", accessKeyId).addToStringData("secretAccessKey", secretAccessKey).build())
        .create();
  }

  /** A stopped VM (spec.running false, no VMI) with a root disk and the given labels. */
  void vm(String ns, String name, Map<String, String> labels) {
    GenericKubernetesResource vm = Serialization.unmarshal("""
        apiVersion: kubevirt.io/v1
        kind: VirtualMachine
        metadata: {name: %s, namespace: %s, labels: %s}
        spec:
          running: false
          template:
            spec:
              domain:
                devices:
                  disks: [{name: root, disk: {bus: virtio}, bootOrder: 1}]
                resources: {requests: {memory: 1Gi}}
              volumes: [{name: root, containerDisk: {image: example/root}}]
        """.formatted(name, ns, Serialization.asJson(labels)), GenericKubernetesResource.class);
    cluster.admin.genericKubernetesResources(TestCluster.VM).inNamespace(ns).resource(vm).create();
  }

  /** The VM starts, as far as the operator can tell: its VirtualMachineInstance exists. */
  void vmi(String ns, String name) {
    cluster.admin.genericKubernetesResources(VMI).inNamespace(ns).resource(Serialization.unmarshal("""
        apiVersion: kubevirt.io/v1
        kind: VirtualMachineInstance
        metadata: {name: %s, namespace: %s}
        spec: {}
        status: {phase: Running}
        """.formatted(name, ns), GenericKubernetesResource.class)).create();
  }

  LogicalDiskShare share(String ns, String name, String specYaml) {
    return cluster.admin.resources(LogicalDiskShare.class).inNamespace(ns).resource(Serialization.unmarshal("""
        apiVersion: remap.dev/v1alpha1
        kind: LogicalDiskShare
        metadata: {name: %s, namespace: %s}
        spec: %s
        """.formatted(name, ns, specYaml), LogicalDiskShare.class)).create();
  }

  LogicalDiskShare get(String ns, String name) {
    return cluster.admin.resources(LogicalDiskShare.class).inNamespace(ns).withName(name).get();
  }

  /** Volume names of the VM's spec (template.spec.volumes), in order. */
  List<String> volumes(String ns, String vm) {
    return VirtualDiskIT.vmList(cluster.getVm(ns, vm), "template", "spec", "volumes").stream()
        .map(v -> (String) v.get("name")).toList();
  }

  /**
   * `kubectl get lds NAME` as column header to value. A column starts where its header starts
   * (kubectl aligns them so), which also holds for an empty value.
   */
  Map<String, String> columns(String ns, String name) {
    String[] lines = cluster.cp.kubectl("get", "lds", name, "-n", ns).requireSuccess().output().split("\n");
    String header = lines[0];
    String row = lines[1];
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\S+( \\S+)*").matcher(header);
    List<int[]> spans = new java.util.ArrayList<>();
    while (m.find()) {
      spans.add(new int[] {m.start(), m.end()});
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < spans.size(); i++) {
      int from = Math.min(spans.get(i)[0], row.length());
      int to = i + 1 < spans.size() ? Math.min(spans.get(i + 1)[0], row.length()) : row.length();
      out.put(header.substring(spans.get(i)[0], spans.get(i)[1]), row.substring(from, to).strip());
    }
    return out;
  }

  /** The share's Kubernetes Events, reason and message. */
  List<String> events(String ns, String name) {
    return cluster.admin.v1().events().inNamespace(ns).withField("involvedObject.name", name).list().getItems()
        .stream().map(e -> e.getReason() + ": " + e.getMessage()).toList();
  }
}
