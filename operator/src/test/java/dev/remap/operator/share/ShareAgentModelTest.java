package dev.remap.operator.share;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.api.share.LogicalDiskShare;
import dev.remap.operator.transfer.JobConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The share agent's Deployment and Secret copy, built from a share's spec without a cluster. */
class ShareAgentModelTest {

  static final String UID = "0a1b2c3d-4e5f-6789-abcd-ef0123456789";
  static final JobConfig S3 = new JobConfig("remap-system", "localhost/remap:1.2.3",
      "s3://remap/store?endpoint=http://s3.local:9000", "remap-s3-credentials", "id", "key", null);
  static final JobConfig LOCAL = new JobConfig("remap-system", "localhost/remap:1.2.3", "file:///var/lib/remap/store",
      null, "accessKeyId", "secretAccessKey", "/var/lib/remap/store");
  static final Map<String, List<String>> VMS = Map.of("vm-b", List.of("Photos"), "vm-a", List.of("Texts", "Photos"));

  /** A share in namespace vms with the given spec (YAML), as the API server returns it (defaults filled by the model). */
  static LogicalDiskShare share(String specYaml) {
    LogicalDiskShare share = Serialization.unmarshal("""
        apiVersion: remap.dev/v1alpha1
        kind: LogicalDiskShare
        metadata: {name: family, namespace: vms, uid: %s, generation: 3}
        spec: %s
        """.formatted(UID, specYaml), LogicalDiskShare.class);
    return share;
  }

  static final String CLOUD = "cloud: {endpoint: \"https://s3.example\", bucket: family-files, prefix: shared/,"
      + " region: eu-1, secretRef: {name: family-bucket}}";

  static String valueAfter(List<String> args, String flag) {
    int at = args.indexOf(flag);
    assertThat(at).as("%s in %s", flag, args).isNotNegative();
    return args.get(at + 1);
  }

  @Test
  void aByFolderShareRunsTheAgentWithEverySettingAsAnArgumentAndSizesInBytes() {
    LogicalDiskShare share = share("{" + CLOUD + ", split: {mode: byFolder}, freeSpace: 2Gi, allocation: []}");
    List<String> args = ShareAgentModel.args(share, VMS, S3, 9810);
    assertThat(args).startsWith("share-agent", "--store", S3.storeUri(), "--journal", ShareAgentModel.JOURNAL,
        "--share-id", "lds-" + UID, "--bucket", "family-files", "--prefix", "shared/");
    assertThat(valueAfter(args, "--cloud-endpoint")).isEqualTo("https://s3.example");
    assertThat(valueAfter(args, "--region")).isEqualTo("eu-1");
    assertThat(valueAfter(args, "--split")).isEqualTo("byFolder");
    assertThat(args).doesNotContain("--data-type", "--read-only");
    assertThat(valueAfter(args, "--others")).isEqualTo("other");
    assertThat(valueAfter(args, "--filesystem")).isEqualTo("ext4");
    assertThat(valueAfter(args, "--free-space")).isEqualTo(Long.toString(2L << 30));
    assertThat(valueAfter(args, "--direction")).isEqualTo("both");
    assertThat(valueAfter(args, "--conflicts")).isEqualTo("keepBoth");
    assertThat(valueAfter(args, "--interval")).isEqualTo("30s");
    assertThat(valueAfter(args, "--retry-interval")).isEqualTo("1s");
    // VMs and their groups sorted: the same allocation is the same Deployment, whatever the order.
    assertThat(args).containsSubsequence("--vm", "vm-a=Photos,Texts", "--vm", "vm-b=Photos");
    assertThat(args).endsWith("--listen", "0.0.0.0:9810", "--scratch", ShareAgentModel.SCRATCH);
  }

  @Test
  void defaultsAreSpelledOutAndAWholeBucketHasAnEmptyPrefix() {
    LogicalDiskShare share = share("{cloud: {bucket: b1, secretRef: {name: s}}, allocation: []}");
    List<String> args = ShareAgentModel.args(share, Map.of(), S3, 7000);
    assertThat(valueAfter(args, "--prefix")).isEmpty();
    assertThat(args).doesNotContain("--cloud-endpoint", "--region", "--vm");
    assertThat(valueAfter(args, "--split")).isEqualTo("single");
    assertThat(valueAfter(args, "--free-space")).isEqualTo(Long.toString(1L << 30));
    assertThat(valueAfter(args, "--listen")).isEqualTo("0.0.0.0:7000");
  }

  @Test
  void aByDataTypeShareGivesItsTypesInOrderAndOthersMayBeEmpty() {
    LogicalDiskShare share = share("{" + CLOUD + ", split: {mode: byDataType, others: \"\", dataTypes: ["
        + "{name: photos, extensions: [jpg, PNG]}, {name: texts, extensions: [txt]}]}, filesystem: vfat,"
        + " freeSpace: 1500M, allocation: []}");
    List<String> args = ShareAgentModel.args(share, Map.of("desk", List.of("photos")), S3, 9810);
    assertThat(valueAfter(args, "--split")).isEqualTo("byDataType");
    assertThat(args).containsSubsequence("--data-type", "photos=jpg,PNG", "--data-type", "texts=txt");
    assertThat(valueAfter(args, "--others")).isEmpty();
    assertThat(valueAfter(args, "--filesystem")).isEqualTo("vfat");
    assertThat(valueAfter(args, "--free-space")).isEqualTo("1500000000");
  }

  @Test
  void aReadOnlyShareAndItsSyncPolicyBecomeFlags() {
    LogicalDiskShare share = share("{" + CLOUD + ", readOnly: true, allocation: [],"
        + " sync: {direction: pull, conflicts: cloudWins, interval: 1m30s, retryInterval: 500ms}}");
    List<String> args = ShareAgentModel.args(share, Map.of(), S3, 9810);
    assertThat(args).contains("--read-only");
    assertThat(valueAfter(args, "--direction")).isEqualTo("pull");
    assertThat(valueAfter(args, "--conflicts")).isEqualTo("cloudWins");
    assertThat(valueAfter(args, "--interval")).isEqualTo("1m30s");
    assertThat(valueAfter(args, "--retry-interval")).isEqualTo("500ms");
    LogicalDiskShare vmWins = share("{" + CLOUD + ", allocation: [], sync: {conflicts: vmWins, direction: push}}");
    assertThat(valueAfter(ShareAgentModel.args(vmWins, Map.of(), S3, 9810), "--conflicts")).isEqualTo("vmWins");
    assertThat(valueAfter(ShareAgentModel.args(vmWins, Map.of(), S3, 9810), "--direction")).isEqualTo("push");
  }

  @Test
  void eachVmGetsTheUnionOfTheGroupsOfTheEntriesThatPickedIt() {
    LogicalDiskShare share = share("{" + CLOUD + ", split: {mode: byFolder}, allocation: ["
        + "{vmNames: [vm-a, vm-b], disks: [Photos]},"
        + "{vmSelector: {matchLabels: {team: c}}, disks: [Photos, Texts]}]}");
    Map<String, List<String>> groups = ShareAgentModel.groups(share.getSpec().allocation,
        List.of(List.of("vm-a", "vm-b"), List.of("vm-c", "vm-a")));
    assertThat(groups).containsExactly(Map.entry("vm-a", List.of("Photos", "Texts")),
        Map.entry("vm-b", List.of("Photos")), Map.entry("vm-c", List.of("Photos", "Texts")));
    assertThat(ShareAgentModel.groups(share.getSpec().allocation, List.of(List.of(), List.of()))).isEmpty();
  }

  static Map<String, EnvVar> env(Deployment d) {
    return container(d).getEnv().stream().collect(Collectors.toMap(EnvVar::getName, e -> e));
  }

  static Container container(Deployment d) {
    return d.getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  @Test
  void theDeploymentRunsOnePodAtATimeWithCredentialsOnlyByReference() {
    LogicalDiskShare share = share("{" + CLOUD + ", allocation: []}");
    List<String> args = ShareAgentModel.args(share, VMS, S3, 9810);
    Deployment d = ShareAgentModel.deployment(share, args, S3, 9810, "h1");
    String name = ShareNames.agent(share);
    assertThat(name).isEqualTo("remap-share-0a1b2c3d4e5f6789abcd");
    assertThat(d.getMetadata().getName()).isEqualTo(name);
    assertThat(d.getMetadata().getNamespace()).isEqualTo("remap-system");
    assertThat(d.getMetadata().getAnnotations()).containsEntry(ShareAgentModel.ANNOTATION_NAMESPACE, "vms")
        .containsEntry(ShareAgentModel.ANNOTATION_NAME, "family");
    assertThat(d.getSpec().getReplicas()).isEqualTo(1);
    assertThat(d.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    Map<String, String> selector = d.getSpec().getSelector().getMatchLabels();
    assertThat(selector).containsExactly(Map.entry(ShareAgentModel.LABEL_SHARE_UID, UID));
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(selector)
        .containsEntry(ShareAgentModel.LABEL_COMPONENT, ShareAgentModel.COMPONENT);
    Container c = container(d);
    assertThat(c.getImage()).isEqualTo(S3.image());
    assertThat(c.getArgs()).isEqualTo(args);
    assertThat(c.getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getName()).isEqualTo("http");
      assertThat(p.getContainerPort()).isEqualTo(9810);
    });
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    Map<String, EnvVar> env = env(d);
    assertThat(env).containsOnlyKeys("REMAP_STORE_ACCESS_KEY_ID", "REMAP_STORE_SECRET_ACCESS_KEY",
        "REMAP_CLOUD_ACCESS_KEY_ID", "REMAP_CLOUD_SECRET_ACCESS_KEY");
    assertThat(env.values()).allSatisfy(e -> assertThat(e.getValue()).isNull());
    assertThat(env.get("REMAP_STORE_ACCESS_KEY_ID").getValueFrom().getSecretKeyRef().getName())
        .isEqualTo("remap-s3-credentials");
    assertThat(env.get("REMAP_STORE_SECRET_ACCESS_KEY").getValueFrom().getSecretKeyRef().getKey()).isEqualTo("key");
    assertThat(env.get("REMAP_CLOUD_ACCESS_KEY_ID").getValueFrom().getSecretKeyRef().getName()).isEqualTo(name);
    assertThat(env.get("REMAP_CLOUD_ACCESS_KEY_ID").getValueFrom().getSecretKeyRef().getKey()).isEqualTo("accessKeyId");
    assertThat(env.get("REMAP_CLOUD_SECRET_ACCESS_KEY").getValueFrom().getSecretKeyRef().getKey())
        .isEqualTo("secretAccessKey");
    PodSpec pod = d.getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getVolumes()).noneMatch(v -> v.getHostPath() != null);
    assertThat(c.getVolumeMounts()).anyMatch(m -> m.getMountPath().equals("/tmp"));
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
  }

  @Test
  void aLocalStoreIsMountedFromTheNodeAndReadAsRoot() {
    LogicalDiskShare share = share("{" + CLOUD + ", allocation: []}");
    Deployment d = ShareAgentModel.deployment(share, ShareAgentModel.args(share, VMS, LOCAL, 9810), LOCAL, 9810, "h1");
    PodSpec pod = d.getSpec().getTemplate().getSpec();
    assertThat(pod.getVolumes()).filteredOn(v -> v.getHostPath() != null).singleElement().satisfies(v -> {
      assertThat(v.getHostPath().getPath()).isEqualTo("/var/lib/remap/store");
      assertThat(v.getHostPath().getType()).isEqualTo("Directory");
    });
    assertThat(container(d).getVolumeMounts()).anyMatch(m -> m.getMountPath().equals("/var/lib/remap/store"));
    assertThat(pod.getSecurityContext().getRunAsUser()).isZero();
    assertThat(env(d)).containsOnlyKeys("REMAP_CLOUD_ACCESS_KEY_ID", "REMAP_CLOUD_SECRET_ACCESS_KEY");
  }

  @Test
  void aRotatedSecretANewImageOrNewArgumentsChangeTheConfigHashAndNothingElseDoes() {
    List<String> args = List.of("share-agent", "--bucket", "photos");
    Map<String, String> secret = Map.of("accessKeyId", b64("AKID"), "secretAccessKey", b64("s1"));
    String hash = ShareAgentModel.configHash(args, S3, secret);
    assertThat(ShareAgentModel.configHash(args, S3, new java.util.TreeMap<>(secret))).isEqualTo(hash);
    assertThat(ShareAgentModel.configHash(args, S3, Map.of("accessKeyId", b64("AKID"), "secretAccessKey", b64("s2"))))
        .isNotEqualTo(hash);
    assertThat(ShareAgentModel.configHash(List.of("share-agent", "--bucket", "other"), S3, secret)).isNotEqualTo(hash);
    JobConfig newImage = new JobConfig(S3.namespace(), S3.image() + "-2", S3.storeUri(), S3.storeSecret(),
        S3.accessKeyIdKey(), S3.secretAccessKeyKey(), S3.localStorePath());
    assertThat(ShareAgentModel.configHash(args, newImage, secret)).isNotEqualTo(hash);
    // A digest, not the values: the template's annotation shows no secret.
    assertThat(hash).doesNotContain(b64("s1")).matches("[0-9a-f]{32}");
    LogicalDiskShare share = share("{" + CLOUD + ", allocation: []}");
    assertThat(ShareAgentModel.deployment(share, args, S3, 9810, hash).getSpec().getTemplate().getMetadata()
        .getAnnotations()).containsEntry(ShareAgentModel.ANNOTATION_CONFIG, hash);
  }

  @Test
  void theCopiedSecretIsOwnedByTheDeploymentAndHoldsOnlyTheTwoKeysNeverInTheDeployment() {
    LogicalDiskShare share = share("{" + CLOUD + ", allocation: []}");
    Deployment d = ShareAgentModel.deployment(share, ShareAgentModel.args(share, VMS, S3, 9810), S3, 9810, "h1");
    d.getMetadata().setUid("d-uid");
    String id = b64("AKIDEXAMPLE");
    String secret = b64("wJalrXUtnFEMI/K7MDENG");
    Secret copy = ShareAgentModel.credentials(share, d, Map.of("accessKeyId", id, "secretAccessKey", secret,
        "note", b64("not needed")));
    assertThat(copy.getMetadata().getName()).isEqualTo(d.getMetadata().getName());
    assertThat(copy.getMetadata().getNamespace()).isEqualTo("remap-system");
    assertThat(copy.getData()).containsExactly(Map.entry("accessKeyId", id), Map.entry("secretAccessKey", secret));
    assertThat(copy.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
      assertThat(o.getKind()).isEqualTo("Deployment");
      assertThat(o.getUid()).isEqualTo("d-uid");
      assertThat(o.getController()).isTrue();
    });
    assertThat(Serialization.asJson(d)).doesNotContain(id, secret, "AKIDEXAMPLE", "wJalrXUtnFEMI");
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
