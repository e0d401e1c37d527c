package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.ControlPlaneExtension;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The Helm chart helm/remap, through the real helm binary (e2e/tools/go-tools.sh): it lints
 * strictly, and what `helm template` renders is what a user would check — local images with the
 * chart's tag, a privileged node plugin with Bidirectional propagation on the kubelet dir, S3
 * credentials only through secretKeyRef, the node plugin's cleaning flags from node.cleaning, bad
 * values refused naming the field — and it has not
 * drifted from operator/rbac.yaml or crds/. One test installs it (dry run) on the local control plane.
 */
@ExtendWith(ControlPlaneExtension.class)
class HelmChartTest {

  static final String NS = "remap-system";
  static final String S3_KEY = "AKIAREMAPTESTKEY0001";
  static final String S3_SECRET = "remap-test-secret-value-do-not-leak";

  @TempDir static Path home;
  static Path chart;
  static String version;

  @BeforeAll
  static void versions() throws IOException {
    chart = RemapPaths.root().resolve("helm/remap");
    Matcher m = Pattern.compile("<artifactId>remap-parent</artifactId>\\s*<version>([^<]+)</version>")
        .matcher(Files.readString(RemapPaths.root().resolve("pom.xml")));
    assertThat(m.find()).as("the root pom.xml names its version").isTrue();
    version = m.group(1);
  }

  @Test
  void chartVersionsAreTheProjectVersion() {
    Map<String, Object> chartYaml = load(read(chart.resolve("Chart.yaml"))).get(0);
    assertThat(chartYaml).containsEntry("apiVersion", "v2").containsEntry("version", version)
        .containsEntry("appVersion", version);
  }

  @Test
  void lintsCleanEvenStrictly() {
    helm("lint", chart.toString()).requireSuccess();
    helm("lint", "--strict", chart.toString()).requireSuccess();
    helm("lint", "--strict", chart.toString(), "-f", example("s3-values.yaml")).requireSuccess();
  }

  @Test
  void everyWorkloadRunsTheLocalImagesWithTheChartTag() {
    List<Map<String, Object>> docs = template("--api-versions", "snapshot.storage.k8s.io/v1");
    List<String> images = new ArrayList<>();
    for (Map<String, Object> workload : kinds(docs, "Deployment", "DaemonSet")) {
      for (Map<String, Object> c : containers(workload)) {
        images.add((String) c.get("image"));
      }
    }
    assertThat(images).isNotEmpty().allSatisfy(image ->
        assertThat(image).matches("localhost/[a-z0-9-]+:" + Pattern.quote(version)));
    assertThat(images).containsOnly("localhost/remap-operator:" + version, "localhost/remap:" + version,
        "localhost/remap-csi-sidecars:" + version);
    Map<String, Object> controller = named(docs, "Deployment", "remap-csi-controller");
    assertThat(containers(controller)).extracting(c -> c.get("command"))
        .containsExactly(null, List.of("/csi-provisioner"), List.of("/csi-snapshotter"), List.of("/csi-resizer"));
    assertThat(args(container(controller, "remap-csi"))).containsSequence("--store", "file:///var/lib/remap/store")
        .containsSequence("--mode", "controller").containsSequence("--http-address", ":9808")
        .containsSequence("--gc-interval", "1h").containsSequence("--node-id", "$(NODE_NAME)");
    assertThat(args(container(controller, "csi-provisioner"))).contains("--leader-election", "--extra-create-metadata",
        "--feature-gates=Topology=false");
    assertThat(args(container(controller, "csi-resizer"))).contains("--leader-election",
        "--handle-volume-inuse-error=false");
    assertThat(at(container(controller, "remap-csi"), "livenessProbe", "httpGet", "path")).isEqualTo("/healthz");
    // A local store is a root-owned hostPath: the controller writes it as uid 0, with no capability.
    assertThat(at(controller, "spec", "template", "spec", "securityContext", "runAsUser")).isEqualTo(0);
    Map<String, Object> operator = named(docs, "Deployment", "remap-operator");
    assertThat(env(container(operator, "operator"))).containsEntry("REMAP_STORE", "file:///var/lib/remap/store");
    assertThat(at(container(operator, "operator"), "readinessProbe", "httpGet", "path")).isEqualTo("/q/health/ready");
  }

  @Test
  void theNodePluginIsPrivilegedWithBidirectionalPropagationOnTheKubeletDir() {
    Map<String, Object> node = named(template(), "DaemonSet", "remap-csi-node");
    Map<String, Object> plugin = container(node, "remap-node");
    assertThat(at(plugin, "securityContext", "privileged")).isEqualTo(true);
    assertThat(mount(plugin, "/var/lib/kubelet")).containsEntry("mountPropagation", "Bidirectional");
    assertThat(hostPath(node, mount(plugin, "/var/lib/kubelet"))).isEqualTo("/var/lib/kubelet");
    assertThat(hostPath(node, mount(plugin, "/csi"))).isEqualTo("/var/lib/kubelet/plugins/csi.remap.dev");
    assertThat(hostPath(node, mount(plugin, "/registration"))).isEqualTo("/var/lib/kubelet/plugins_registry");
    assertThat(hostPath(node, mount(plugin, "/var/lib/remap/journal"))).isEqualTo("/var/lib/remap/journal");
    assertThat(args(plugin)).containsSequence("--kubelet-csi-endpoint", "/var/lib/kubelet/plugins/csi.remap.dev/csi.sock")
        .containsSequence("--http-address", ":9809").containsSequence("--mode", "node");
    assertThat(at(node, "spec", "template", "spec", "hostNetwork")).isEqualTo(false);
    assertThat(at(node, "spec", "template", "spec", "priorityClassName")).isEqualTo("system-node-critical");
    assertThat(at(node, "spec", "template", "spec", "tolerations")).isEqualTo(List.of(Map.of("operator", "Exists")));
    assertThat(at(node, "spec", "updateStrategy", "rollingUpdate", "maxUnavailable")).isEqualTo(1);

    Map<String, Object> moved = named(template("--set", "node.kubeletDir=/data/kubelet"), "DaemonSet", "remap-csi-node");
    assertThat(mount(container(moved, "remap-node"), "/data/kubelet")).containsEntry("mountPropagation", "Bidirectional");
    assertThat(args(container(moved, "remap-node"))).contains("/data/kubelet/plugins/csi.remap.dev/csi.sock");
  }

  /**
   * The devices' helpers live in the keeper's pod: the plugin is told its socket, both see the
   * host's pids and the state folder with Bidirectional propagation, and the keeper is never
   * restarted by an update or a probe (that would fail the devices).
   */
  @Test
  void theHelperKeeperOutlivesThePluginsRestarts() {
    List<Map<String, Object>> docs = template();
    Map<String, Object> node = named(docs, "DaemonSet", "remap-csi-node");
    Map<String, Object> keeper = named(docs, "DaemonSet", "remap-keeper");
    Map<String, Object> helper = container(keeper, "keeper");
    assertThat(args(helper)).containsSequence("--socket", "/var/lib/remap/csi-state/keeper.sock");
    assertThat(args(container(node, "remap-node"))).containsSequence("--helper-keeper", "/var/lib/remap/csi-state/keeper.sock");
    for (Map<String, Object> pod : List.of(node, keeper)) {
      assertThat(at(pod, "spec", "template", "spec", "hostPID")).isEqualTo(true);
    }
    assertThat(mount(helper, "/var/lib/remap/csi-state")).containsEntry("mountPropagation", "Bidirectional");
    assertThat(hostPath(keeper, mount(helper, "/var/lib/remap/csi-state")))
        .isEqualTo(hostPath(node, mount(container(node, "remap-node"), "/var/lib/remap/csi-state")));
    assertThat(at(helper, "securityContext", "privileged")).isEqualTo(true);
    assertThat(at(keeper, "spec", "updateStrategy", "type")).isEqualTo("OnDelete");
    assertThat(helper).doesNotContainKey("livenessProbe");
  }

  /**
   * node.cleaning reaches the node plugin as the flags of `remap csi` (CleaningOptions), and only
   * the node plugin: the controller keeps its own --gc-interval/--gc-grace.
   */
  @Test
  void theNodePluginsCleaningIsSetByValues() {
    List<Map<String, Object>> docs = template();
    assertThat(args(container(named(docs, "DaemonSet", "remap-csi-node"), "remap-node")))
        .containsSequence("--cleaning", "on").containsSequence("--space-target", "1.2")
        .containsSequence("--space-busy", "1.6").containsSequence("--cleaning-rate", "32M")
        .containsSequence("--collect-every", "10m").containsSequence("--collect-grace", "5m");
    assertThat(args(container(named(docs, "Deployment", "remap-csi-controller"), "remap-csi")))
        .containsSequence("--gc-grace", "1h").doesNotContain("--collect-grace", "--cleaning");

    List<String> changed = args(container(named(template("--set", "node.cleaning.enabled=false",
        "--set", "node.cleaning.spaceBusy=2", "--set-string", "node.cleaning.spaceTarget=1.5",
        "--set", "node.cleaning.rate=8M", "--set", "node.cleaning.collectEvery=0s"), "DaemonSet", "remap-csi-node"),
        "remap-node"));
    assertThat(changed).containsSequence("--cleaning", "off").containsSequence("--space-target", "1.5")
        .containsSequence("--space-busy", "2").containsSequence("--cleaning-rate", "8M")
        .containsSequence("--collect-every", "0s").containsSequence("--collect-grace", "5m");
  }

  @Test
  @SuppressWarnings("unchecked")
  void theDriverAndItsClassesSayWhatTheDriverDoes() {
    List<Map<String, Object>> docs = template("--api-versions", "snapshot.storage.k8s.io/v1");
    assertThat((Map<String, Object>) at(named(docs, "CSIDriver", "csi.remap.dev"), "spec"))
        .containsEntry("attachRequired", false).containsEntry("podInfoOnMount", false)
        .containsEntry("fsGroupPolicy", "File").containsEntry("volumeLifecycleModes", List.of("Persistent"));
    Map<String, Object> sc = named(docs, "StorageClass", "remap");
    assertThat(sc).containsEntry("provisioner", "csi.remap.dev").containsEntry("allowVolumeExpansion", true)
        .containsEntry("reclaimPolicy", "Delete").containsEntry("volumeBindingMode", "Immediate");
    assertThat(at(sc, "parameters")).isEqualTo(Map.of("csi.storage.k8s.io/fstype", "ext4"));
    assertThat(named(docs, "VolumeSnapshotClass", "remap")).containsEntry("driver", "csi.remap.dev")
        .containsEntry("deletionPolicy", "Delete");
    assertThat(kinds(template(), "VolumeSnapshotClass")).as("no snapshot API, no class").isEmpty();

    List<Map<String, Object>> cdi = template("--set", "cdi.storageProfile.enabled=true");
    Map<String, Object> profile = named(cdi, "StorageProfile", "remap");
    assertThat(at(profile, "spec", "claimPropertySets", "0"))
        .isEqualTo(Map.of("accessModes", List.of("ReadWriteMany"), "volumeMode", "Block"));
    assertThat(at(profile, "spec", "cloneStrategy")).isEqualTo("csi-clone");
  }

  @Test
  void anS3StoreGetsItsCredentialsOnlyThroughSecretKeyRef() {
    List<Map<String, Object>> docs = template("-f", example("s3-values.yaml"));
    String uri = "s3://remap-volumes/cluster-a?endpoint=http://minio.storage.svc:9000&region=us-east-1&pathStyle=true";
    Map<String, Object> controller = named(docs, "Deployment", "remap-csi-controller");
    assertThat(args(container(controller, "remap-csi"))).containsSequence("--store", uri);
    assertThat(args(container(named(docs, "DaemonSet", "remap-csi-node"), "remap-node"))).containsSequence("--store", uri);
    assertThat(env(container(named(docs, "Deployment", "remap-operator"), "operator"))).containsEntry("REMAP_STORE", uri);
    assertThat(at(controller, "spec", "template", "spec", "securityContext", "runAsUser")).isEqualTo(65532);
    // The helper keeper only starts processes for the node plugin: it gets no store credentials at all.
    assertThat(env(container(named(docs, "DaemonSet", "remap-keeper"), "keeper")))
        .doesNotContainKeys("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY");
    for (Map<String, Object> workload : storeUsers(docs)) {
      Map<String, Object> c = containers(workload).get(0);
      assertThat(envVar(c, "AWS_SECRET_ACCESS_KEY")).as("%s", c.get("name"))
          .isEqualTo(Map.of("name", "AWS_SECRET_ACCESS_KEY", "valueFrom",
              Map.of("secretKeyRef", Map.of("name", "remap-s3", "key", "secretAccessKey"))));
      assertThat(String.valueOf(at(workload, "spec", "template", "spec", "volumes"))).doesNotContain("/var/lib/remap/store");
    }

    String inline = templateText("-f", example("s3-values.yaml"), "--set", "store.s3.existingSecret=",
        "--set", "store.s3.accessKeyId=" + S3_KEY, "--set", "store.s3.secretAccessKey=" + S3_SECRET);
    assertThat(inline).as("credentials appear only base64-encoded in the Secret").doesNotContain(S3_KEY, S3_SECRET);
    List<Map<String, Object>> withSecret = load(inline);
    Map<String, Object> secret = named(withSecret, "Secret", "remap-s3-credentials");
    assertThat(new String(Base64.getDecoder().decode((String) at(secret, "data", "secretAccessKey")),
        StandardCharsets.UTF_8)).isEqualTo(S3_SECRET);
    for (Map<String, Object> workload : storeUsers(withSecret)) {
      for (Map<String, Object> c : containers(workload)) {
        assertThat(String.join(" ", args(c))).doesNotContainIgnoringCase("secret").doesNotContain("accessKey");
        assertThat(env(c)).doesNotContainKeys("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY");
      }
      assertThat(at(envVar(containers(workload).get(0), "AWS_ACCESS_KEY_ID"), "valueFrom", "secretKeyRef", "name"))
          .isEqualTo("remap-s3-credentials");
    }
  }

  @Test
  void badValuesAreRefusedNamingTheField() {
    assertRefused("store/type", "--set", "store.type=nfs");
    assertRefused("controller/httpPort", "--set-string", "controller.httpPort=9808");
    assertRefused("image/tag", "--set", "image.tag=1");
    assertRefused("store/s3/bucket", "--set", "store.type=s3", "--set", "store.s3.region=eu-west-1");
    assertRefused("endpoint", "--set", "store.type=s3", "--set", "store.s3.bucket=remap-volumes");
    assertRefused("blockSizee", "--set", "storageClass.parameters.blockSizee=4096");
    assertRefused("node/cleaning/spaceTarget", "--set-string", "node.cleaning.spaceTarget=0.9");
    assertRefused("node/cleaning/spaceBusy", "--set", "node.cleaning.spaceBusy=0");
    assertRefused("node/cleaning/rate", "--set", "node.cleaning.rate=fast");
    assertRefused("node/cleaning/collectEvery", "--set", "node.cleaning.collectEvery=10min");
    assertRefused("node/cleaning/enabled", "--set-string", "node.cleaning.enabled=on");
  }

  @Test
  void theOperatorRbacIsExactlyOperatorRbacYaml() {
    Map<String, Map<String, Object>> expected = rbac(load(read(RemapPaths.root().resolve("operator/rbac.yaml"))));
    assertThat(expected).hasSize(7);
    assertThat(rbac(template())).as("the chart's operator RBAC (templates/operator-rbac.yaml) against operator/rbac.yaml")
        .isEqualTo(expected);
    // Another namespace: only the namespaces change.
    String moved = String.valueOf(rbac(template("-n", "storage")));
    assertThat(moved).doesNotContain(NS).isEqualTo(String.valueOf(expected).replace(NS, "storage"));
  }

  @Test
  void theChartCrdsAreTheGeneratedOnes() throws IOException {
    Map<String, String> committed = files(RemapPaths.root().resolve("crds"));
    assertThat(committed).hasSize(3);
    assertThat(files(chart.resolve("crds"))).isEqualTo(committed);
    // What helm installs before the templates: each file as it is (helm prints them one after another).
    String shown = helm("show", "crds", chart.toString()).requireSuccess().output();
    assertThat(committed.values()).allSatisfy(crd -> assertThat(shown.contains(crd)).isTrue());
  }

  /**
   * Against a real API server (helm's client-only dry run still dials a cluster): every object
   * is checked against the server's OpenAPI schemas, and NOTES.txt is rendered. No snapshot CRDs
   * there, so the notes say so. --take-ownership: other tests of the run apply operator/rbac.yaml
   * and a "remap" class to the same control plane; a dry run changes nothing.
   */
  @Test
  void installsOnARealApiServerAndItsNotesSayWhatToApplyNext(ControlPlane controlPlane) {
    String kubeconfig = "--kubeconfig=" + controlPlane.kubeconfig();
    String local = helm("install", "remap", chart.toString(), "-n", NS, kubeconfig, "--dry-run=server",
        "--take-ownership").requireSuccess().output();
    assertThat(local).contains("kubectl apply -f examples/virtualdisk.yaml", "kubectl get virtualdisks",
        "SINGLE-NODE");
    // The control plane is shared by the test run: other tests may have installed the snapshot
    // CRDs. The note about them appears exactly when the API server lacks them.
    boolean snapshots = controlPlane.kubectl("api-versions").requireSuccess().output().lines()
        .anyMatch("snapshot.storage.k8s.io/v1"::equals);
    if (snapshots) {
      assertThat(local).doesNotContain("does not serve snapshot.storage.k8s.io/v1");
    } else {
      assertThat(local).contains("does not serve snapshot.storage.k8s.io/v1");
    }
    String s3 = helm("install", "remap", chart.toString(), "-n", NS, kubeconfig, "--dry-run=server",
        "--take-ownership", "-f", example("s3-values.yaml")).requireSuccess().output();
    assertThat(s3).contains("kubectl apply -f examples/virtualdisk.yaml").doesNotContain("SINGLE-NODE");
  }

  @Test
  void metricsServiceMonitorsAndTheDashboard() {
    List<Map<String, Object>> docs = template("--set", "metrics.serviceMonitor.enabled=true",
        "--set", "metrics.dashboard.enabled=true");
    assertThat(kinds(docs, "ServiceMonitor")).hasSize(3)
        .allSatisfy(sm -> assertThat(sm).containsEntry("apiVersion", "monitoring.coreos.com/v1"));
    assertThat(kinds(docs, "Service")).hasSize(3);
    Map<String, Object> dashboard = named(docs, "ConfigMap", "remap-dashboard");
    assertThat(at(dashboard, "metadata", "labels", "grafana_dashboard")).isEqualTo("1");
    String json = (String) at(dashboard, "data", "remap.json");
    assertThat(((List<?>) at(load(json).get(0), "panels"))).hasSizeGreaterThan(6);
    assertThat(json).contains("remap_requests_total", "remap_request_bytes_total",
        "remap_request_duration_seconds_bucket", "remap_cache_hits_total", "remap_cache_misses_total",
        "remap_upload_backlog_bytes", "remap_store_failures_total", "remap_volume_store_errors_total")
        .doesNotContain("remap_volume_requests_total", "remap_volume_bytes_total", "remap_volume_request_seconds",
            "remap_volume_upload_backlog_bytes", "remap_store_errors_total", "{{op}}");
    assertThat(kinds(template(), "ServiceMonitor", "ConfigMap")).isEmpty();
  }

  // ---- helm ------------------------------------------------------------------------------

  private static Proc.Result helm(String... args) {
    List<String> command = new ArrayList<>(List.of(RemapPaths.cachedTool("helm").toString()));
    command.addAll(List.of(args));
    // Nothing from the user's helm or kube configuration: the chart alone decides the output.
    Map<String, String> env = Map.of("HELM_CONFIG_HOME", home.resolve("config").toString(),
        "HELM_CACHE_HOME", home.resolve("cache").toString(), "HELM_DATA_HOME", home.resolve("data").toString(),
        "KUBECONFIG", home.resolve("no-kubeconfig").toString());
    return Proc.run(Duration.ofMinutes(2), env, command);
  }

  private static String templateText(String... extra) {
    List<String> args = new ArrayList<>(List.of("template", "remap", chart.toString()));
    if (!List.of(extra).contains("-n")) {
      args.addAll(List.of("-n", NS));
    }
    args.addAll(List.of(extra));
    return helm(args.toArray(String[]::new)).requireSuccess().output();
  }

  private static List<Map<String, Object>> template(String... extra) {
    return load(templateText(extra));
  }

  private static void assertRefused(String field, String... values) {
    List<String> args = new ArrayList<>(List.of("template", "remap", chart.toString(), "-n", NS));
    args.addAll(List.of(values));
    Proc.Result result = helm(args.toArray(String[]::new));
    assertThat(result.exitCode()).as("helm template %s", String.join(" ", values)).isNotZero();
    assertThat(result.output()).as("helm template %s", String.join(" ", values)).contains(field);
  }

  // ---- YAML ------------------------------------------------------------------------------

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> load(String yaml) {
    List<Map<String, Object>> docs = new ArrayList<>();
    for (Object doc : new Yaml().loadAll(yaml)) {
      if (doc != null) {
        docs.add((Map<String, Object>) doc);
      }
    }
    return docs;
  }

  private static List<Map<String, Object>> kinds(List<Map<String, Object>> docs, String... kinds) {
    return docs.stream().filter(d -> List.of(kinds).contains(d.get("kind"))).toList();
  }

  /** The workloads that reach the store: every Deployment and DaemonSet but the helper keeper. */
  private static List<Map<String, Object>> storeUsers(List<Map<String, Object>> docs) {
    return kinds(docs, "Deployment", "DaemonSet").stream()
        .filter(w -> !"remap-keeper".equals(at(w, "metadata", "name"))).toList();
  }

  private static Map<String, Object> named(List<Map<String, Object>> docs, String kind, String name) {
    return kinds(docs, kind).stream().filter(d -> name.equals(at(d, "metadata", "name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no " + kind + " " + name + " rendered"));
  }

  /** Walks maps by key and lists by index; null where the path ends. */
  @SuppressWarnings("unchecked")
  static Object at(Object node, String... path) {
    for (String step : path) {
      if (node instanceof Map<?, ?> map) {
        node = map.get(step);
      } else if (node instanceof List<?> list && step.matches("\\d+") && Integer.parseInt(step) < list.size()) {
        node = list.get(Integer.parseInt(step));
      } else {
        return null;
      }
    }
    return node;
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> containers(Map<String, Object> workload) {
    return (List<Map<String, Object>>) at(workload, "spec", "template", "spec", "containers");
  }

  private static Map<String, Object> container(Map<String, Object> workload, String name) {
    return containers(workload).stream().filter(c -> name.equals(c.get("name"))).findFirst()
        .orElseThrow(() -> new AssertionError("no container " + name));
  }

  @SuppressWarnings("unchecked")
  private static List<String> args(Map<String, Object> container) {
    return ((List<Object>) container.getOrDefault("args", List.of())).stream().map(String::valueOf).toList();
  }

  /** Plain env values by name (valueFrom entries are left out). */
  @SuppressWarnings("unchecked")
  private static Map<String, Object> env(Map<String, Object> container) {
    Map<String, Object> env = new LinkedHashMap<>();
    for (Map<String, Object> e : (List<Map<String, Object>>) container.getOrDefault("env", List.of())) {
      if (e.containsKey("value")) {
        env.put((String) e.get("name"), e.get("value"));
      }
    }
    return env;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> envVar(Map<String, Object> container, String name) {
    return ((List<Map<String, Object>>) container.getOrDefault("env", List.of())).stream()
        .filter(e -> name.equals(e.get("name"))).findFirst().orElseThrow(() -> new AssertionError("no env " + name));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> mount(Map<String, Object> container, String path) {
    return ((List<Map<String, Object>>) container.get("volumeMounts")).stream()
        .filter(m -> path.equals(m.get("mountPath"))).findFirst().orElseThrow(() -> new AssertionError("no mount at " + path));
  }

  @SuppressWarnings("unchecked")
  private static Object hostPath(Map<String, Object> workload, Map<String, Object> mount) {
    return ((List<Map<String, Object>>) at(workload, "spec", "template", "spec", "volumes")).stream()
        .filter(v -> Objects.equals(v.get("name"), mount.get("name"))).findFirst()
        .map(v -> at(v, "hostPath", "path")).orElse(null);
  }

  /** The operator's RBAC objects (kind/name → everything but labels), as operator/rbac.yaml has them. */
  @SuppressWarnings("unchecked")
  private static Map<String, Map<String, Object>> rbac(List<Map<String, Object>> docs) {
    Map<String, Map<String, Object>> result = new TreeMap<>();
    for (Map<String, Object> d : kinds(docs, "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")) {
      String name = (String) at(d, "metadata", "name");
      if (name.startsWith("remap-operator")) {
        Map<String, Object> copy = new TreeMap<>(d);
        Map<String, Object> metadata = new TreeMap<>((Map<String, Object>) d.get("metadata"));
        metadata.remove("labels");
        copy.put("metadata", metadata);
        result.put(d.get("kind") + "/" + name, copy);
      }
    }
    return result;
  }

  private static Map<String, String> files(Path dir) throws IOException {
    try (Stream<Path> list = Files.list(dir)) {
      Map<String, String> files = new TreeMap<>();
      for (Path f : list.toList()) {
        files.put(f.getFileName().toString(), read(f));
      }
      return files;
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String example(String name) {
    return RemapPaths.root().resolve("examples").resolve(name).toString();
  }
}
