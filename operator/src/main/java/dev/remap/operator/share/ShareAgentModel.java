package dev.remap.operator.share;

import dev.remap.api.share.Allocation;
import dev.remap.api.share.LogicalDiskShare;
import dev.remap.api.share.LogicalDiskShareSpec;
import dev.remap.api.share.SplitRule;
import dev.remap.api.share.SyncPolicy;
import dev.remap.operator.disk.PvcModel;
import dev.remap.operator.transfer.JobConfig;
import dev.remap.operator.transfer.JobModel;
import dev.remap.operator.transfer.StorePods;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a LogicalDiskShare and the VMs its allocation picked into the agent's Deployment (one
 * pod of {@code remap share-agent}) and the copy of the user's cloud Secret next to it. Pure:
 * tested without a cluster. Like the transfer Jobs, the agent runs in the operator's namespace,
 * where Remap's store credentials are (read by secretKeyRef) and a local store's hostPath may be
 * mounted; no secret value is ever in the spec. The Deployment is Recreate with one replica:
 * two agents of one share at once would race on its outbox. Every setting is an argument, so a
 * changed spec or allocation rolls the pod, which goes on from what it keeps in the store.
 */
public final class ShareAgentModel {

  public static final String LABEL_SHARE_UID = "remap.dev/share-uid";
  public static final String LABEL_COMPONENT = "app.kubernetes.io/component";
  public static final String COMPONENT = "share-agent";
  public static final String ANNOTATION_NAMESPACE = "remap.dev/share-namespace";
  public static final String ANNOTATION_NAME = "remap.dev/share-name";
  /** On the pod template: {@link #configHash}, so a rotated Secret or a new image rolls the agent. */
  public static final String ANNOTATION_CONFIG = "remap.dev/share-agent-config";
  static final String SCRATCH = "/tmp/scratch";
  static final String JOURNAL = "/tmp/journal";

  private ShareAgentModel() {}

  /**
   * The agent's arguments. vms: each VM and the groups it gets (sorted, so the same allocation is
   * the same Deployment). Sizes go in bytes.
   */
  public static List<String> args(LogicalDiskShare share, Map<String, List<String>> vms, JobConfig config, int port) {
    LogicalDiskShareSpec spec = share.getSpec();
    List<String> args = new ArrayList<>(List.of("share-agent", "--store", config.storeUri(), "--journal", JOURNAL,
        "--share-id", ShareNames.shareId(share), "--bucket", spec.cloud.bucket,
        "--prefix", spec.cloud.prefix == null ? "" : spec.cloud.prefix));
    if (spec.cloud.endpoint != null) {
      args.addAll(List.of("--cloud-endpoint", spec.cloud.endpoint));
    }
    if (spec.cloud.region != null) {
      args.addAll(List.of("--region", spec.cloud.region));
    }
    SplitRule split = spec.split == null ? new SplitRule() : spec.split;
    args.addAll(List.of("--split", switch (split.mode) {
      case SINGLE -> "single";
      case BY_FOLDER -> "byFolder";
      case BY_DATA_TYPE -> "byDataType";
    }));
    if (split.dataTypes != null) {
      for (SplitRule.DataType type : split.dataTypes) {
        args.addAll(List.of("--data-type", type.name + "=" + String.join(",", type.extensions)));
      }
    }
    args.addAll(List.of("--others", split.others == null ? "other" : split.others));
    args.addAll(List.of("--filesystem", spec.filesystem == LogicalDiskShareSpec.Filesystem.VFAT ? "vfat" : "ext4"));
    args.addAll(List.of("--free-space", Quantity.getAmountInBytes(new Quantity(spec.freeSpace == null ? "1Gi"
        : spec.freeSpace)).toBigIntegerExact().toString()));
    SyncPolicy sync = spec.sync == null ? new SyncPolicy() : spec.sync;
    args.addAll(List.of("--direction", sync.direction.name().toLowerCase(), "--conflicts", switch (sync.conflicts) {
      case KEEP_BOTH -> "keepBoth";
      case CLOUD_WINS -> "cloudWins";
      case VM_WINS -> "vmWins";
    }, "--interval", sync.interval, "--retry-interval", sync.retryInterval));
    if (Boolean.TRUE.equals(spec.readOnly)) {
      args.add("--read-only");
    }
    for (Map.Entry<String, List<String>> vm : new TreeMap<>(vms).entrySet()) {
      args.addAll(List.of("--vm", vm.getKey() + "=" + String.join(",", vm.getValue().stream().sorted().toList())));
    }
    args.addAll(List.of("--listen", "0.0.0.0:" + port, "--scratch", SCRATCH));
    return args;
  }

  /** The groups each VM gets from the allocation, given which VMs each entry picked. */
  public static Map<String, List<String>> groups(List<Allocation> allocation, List<List<String>> picked) {
    Map<String, List<String>> out = new TreeMap<>();
    for (int i = 0; i < allocation.size(); i++) {
      for (String vm : picked.get(i)) {
        List<String> groups = out.computeIfAbsent(vm, v -> new ArrayList<>());
        for (String group : allocation.get(i).disks) {
          if (!groups.contains(group)) {
            groups.add(group);
          }
        }
      }
    }
    return out;
  }

  /**
   * The agent's Deployment. configHash goes on the pod template ({@link #ANNOTATION_CONFIG}):
   * whatever the pod reads at start and the arguments do not show (the cloud Secret's values, the
   * image, the store Secret) is in it, so a change rolls the agent.
   */
  public static Deployment deployment(LogicalDiskShare share, List<String> args, JobConfig config, int port,
      String configHash) {
    List<EnvVar> env = new ArrayList<>(StorePods.storeEnv(config));
    String name = ShareNames.agent(share);
    env.add(StorePods.fromSecret("REMAP_CLOUD_ACCESS_KEY_ID", name, JobModel.ACCESS_KEY_ID));
    env.add(StorePods.fromSecret("REMAP_CLOUD_SECRET_ACCESS_KEY", name, JobModel.SECRET_ACCESS_KEY));
    Map<String, String> labels = labels(share);
    return new DeploymentBuilder()
        .withNewMetadata()
        .withName(name).withNamespace(config.namespace()).withLabels(labels)
        .withAnnotations(Map.of(ANNOTATION_NAMESPACE, share.getMetadata().getNamespace(),
            ANNOTATION_NAME, share.getMetadata().getName()))
        .endMetadata()
        .withNewSpec()
        .withReplicas(1)
        .withNewStrategy().withType("Recreate").endStrategy()
        .withNewSelector().withMatchLabels(Map.of(LABEL_SHARE_UID, share.getMetadata().getUid())).endSelector()
        .withNewTemplate()
        .withNewMetadata().withLabels(labels).withAnnotations(Map.of(ANNOTATION_CONFIG, configHash)).endMetadata()
        .withNewSpec()
        // The agent talks to stores, never to the API server.
        .withAutomountServiceAccountToken(false)
        .withEnableServiceLinks(false)
        .withSecurityContext(StorePods.podSecurity(config))
        .addNewContainer()
        .withName("agent")
        .withImage(config.image())
        .withImagePullPolicy("IfNotPresent")
        .withArgs(args)
        .withEnv(env)
        .addNewPort().withName("http").withContainerPort(port).endPort()
        .withNewReadinessProbe().withNewHttpGet().withPath("/healthz").withNewPort(port).endHttpGet()
        .withPeriodSeconds(5).endReadinessProbe()
        .withResources(StorePods.resources())
        .withSecurityContext(StorePods.containerSecurity())
        .withVolumeMounts(StorePods.mounts(config))
        .endContainer()
        .withVolumes(StorePods.volumes(config))
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  /** A digest of what the agent reads at start besides its arguments: the cloud Secret's values, image, store Secret. */
  public static String configHash(List<String> args, JobConfig config, Map<String, String> secretData) {
    StringBuilder text = new StringBuilder(String.join("\n", args)).append('\n').append(config.image()).append('\n')
        .append(config.storeSecret()).append('\n');
    new TreeMap<>(secretData).forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
    return ShareNames.hash(text.toString()).substring(0, 32);
  }

  /**
   * The user's cloud credentials copied next to the agent, owned by its Deployment (deleted with
   * it). The values are copied as the API server returned them (base64), never decoded here.
   */
  public static Secret credentials(LogicalDiskShare share, Deployment owner, Map<String, String> userData) {
    Map<String, String> data = new LinkedHashMap<>();
    data.put(JobModel.ACCESS_KEY_ID, userData.get(JobModel.ACCESS_KEY_ID));
    data.put(JobModel.SECRET_ACCESS_KEY, userData.get(JobModel.SECRET_ACCESS_KEY));
    return new SecretBuilder()
        .withNewMetadata()
        .withName(ShareNames.agent(share)).withNamespace(owner.getMetadata().getNamespace()).withLabels(labels(share))
        .addNewOwnerReference().withApiVersion("apps/v1").withKind("Deployment").withName(owner.getMetadata().getName())
        .withUid(owner.getMetadata().getUid()).withController(true).withBlockOwnerDeletion(false).endOwnerReference()
        .endMetadata()
        .withType("Opaque")
        .withData(data)
        .build();
  }

  static Map<String, String> labels(LogicalDiskShare share) {
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put(PvcModel.LABEL_MANAGED_BY, PvcModel.MANAGER);
    labels.put(LABEL_COMPONENT, COMPONENT);
    labels.put(LABEL_SHARE_UID, share.getMetadata().getUid());
    return labels;
  }


}
