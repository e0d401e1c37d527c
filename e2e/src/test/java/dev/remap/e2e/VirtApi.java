package dev.remap.e2e;

import dev.remap.testkit.BackgroundProcess;
import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.Ports;
import dev.remap.testkit.Proc;
import dev.remap.testkit.RemapPaths;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;

/**
 * KubeVirt's own virt-api (built by e2e/tools/sidecars.sh) serving the subresources.kubevirt.io
 * API on 127.0.0.1, registered with the control plane's aggregation layer the way KubeVirt
 * registers it in a cluster: an APIService backed by a Service in the {@code kubevirt}
 * namespace. Requests to .../virtualmachines/NAME/addvolume reach it through the apiserver,
 * which authenticates the caller and forwards its identity; virt-api checks it with a
 * SubjectAccessReview and patches the VirtualMachine itself.
 *
 * <p>What is not real here: no virt-operator (the KubeVirt resource carrying the feature gates
 * is written by this class, its status phase included) and no virt-controller, so hotplug
 * requests virt-api leaves in a VM's status stay there. The Service is of type ExternalName
 * (localhost) because no kube-proxy routes cluster IPs on this machine.
 */
final class VirtApi implements AutoCloseable {

  static final String NAMESPACE = "kubevirt";
  static final String API_SERVICE = "apiservice/v1.subresources.kubevirt.io";
  private final ControlPlane cp;
  private final BackgroundProcess process;

  private VirtApi(ControlPlane cp, BackgroundProcess process) {
    this.cp = cp;
    this.process = process;
  }

  /**
   * Starts virt-api with one KubeVirt feature gate: HotplugVolumes (addvolume leaves a request in
   * the VM's status for virt-controller) or DeclarativeHotplugVolumes (it patches the VM's spec).
   * Needs KubeVirt's CRDs installed ({@link OperatorStack} does).
   */
  static VirtApi start(ControlPlane cp, Path dir, String featureGate) {
    // A directory of their own: virt-api reloads its certificates on any change in theirs.
    Path certs = dir.resolve("virt-api-certs");
    makeCerts(certs);
    cp.ensureNamespace(NAMESPACE);
    int port = Ports.free();
    String caBundle;
    try {
      caBundle = Base64.getEncoder().encodeToString(Files.readAllBytes(certs.resolve("ca.crt")));
      Files.writeString(dir.resolve("virt-api.yaml"), """
          apiVersion: kubevirt.io/v1
          kind: KubeVirt
          metadata: {name: kubevirt, namespace: %1$s}
          spec:
            configuration:
              developerConfiguration:
                featureGates: [%2$s]
          ---
          apiVersion: v1
          kind: Service
          metadata: {name: virt-api, namespace: %1$s}
          spec: {type: ExternalName, externalName: localhost}
          ---
          apiVersion: apiregistration.k8s.io/v1
          kind: APIService
          metadata: {name: v1.subresources.kubevirt.io}
          spec:
            group: subresources.kubevirt.io
            version: v1
            groupPriorityMinimum: 1000
            versionPriority: 15
            caBundle: %3$s
            service: {name: virt-api, namespace: %1$s, port: %4$d}
          """.formatted(NAMESPACE, featureGate, caBundle, port));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    cp.kubectl("apply", "-f", dir.resolve("virt-api.yaml").toString()).requireSuccess();
    // virt-api reads its configuration only from a KubeVirt whose status has a phase (virt-operator's).
    cp.kubectl("patch", "kubevirt", "kubevirt", "-n", NAMESPACE, "--subresource=status", "--type=merge",
        "-p", "{\"status\":{\"phase\":\"Deployed\"}}").requireSuccess();
    BackgroundProcess process = BackgroundProcess.start(RemapPaths.cachedTool("virt-api").toString(),
        "--kubeconfig=" + cp.kubeconfig(), "--listen=127.0.0.1", "--port=" + port, "--subresources-only=true",
        "--tls-cert-file=" + certs.resolve("tls.crt"), "--tls-key-file=" + certs.resolve("tls.key"),
        "--handler-cert-file=" + certs.resolve("tls.crt"), "--handler-key-file=" + certs.resolve("tls.key"));
    VirtApi api = new VirtApi(cp, process);
    try {
      process.awaitReady(Duration.ofSeconds(90), () -> cp.kubectl("wait", "--for=condition=Available",
          "--timeout=2s", API_SERVICE).exitCode() == 0);
      return api;
    } catch (RuntimeException | Error e) {
      api.close();
      throw e;
    }
  }

  /** virt-api's log: one JSON line per request it served, with the URL and status code. */
  String log() {
    return process.output();
  }

  /** Lines of the log about requests to that subresource path that virt-api answered with code. */
  long requests(String pathSuffix, int code) {
    return log().lines().filter(l -> l.contains("\"url\":\"/apis/subresources.kubevirt.io/v1/namespaces/")
        && l.contains(pathSuffix + "\"") && l.contains("\"statusCode\":" + code + ",")).count();
  }

  /**
   * Unregisters the API before stopping the server: an APIService nobody answers makes API
   * discovery fail for every client of the (shared) control plane, the garbage collector included.
   */
  @Override
  public void close() {
    cp.kubectl("delete", API_SERVICE, "--ignore-not-found", "--timeout=60s");
    process.close();
  }

  private static void makeCerts(Path certs) {
    try {
      Files.createDirectories(certs);
      Files.writeString(certs.resolve("ext"), "subjectAltName=DNS:virt-api." + NAMESPACE + ".svc,DNS:localhost,IP:127.0.0.1\n"
          + "extendedKeyUsage=serverAuth,clientAuth\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String d = certs.toString();
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", d + "/ca.key");
    openssl("req", "-x509", "-new", "-key", d + "/ca.key", "-subj", "/CN=virt-api-ca", "-days", "30", "-out", d + "/ca.crt");
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", d + "/tls.key");
    openssl("req", "-new", "-key", d + "/tls.key", "-subj", "/CN=virt-api", "-out", d + "/tls.csr");
    // The aggregator checks the name <service>.<namespace>.svc against the certificate.
    openssl("x509", "-req", "-in", d + "/tls.csr", "-CA", d + "/ca.crt", "-CAkey", d + "/ca.key", "-set_serial", "1",
        "-days", "30", "-extfile", d + "/ext", "-out", d + "/tls.crt");
  }

  private static void openssl(String... args) {
    String[] command = new String[args.length + 1];
    command[0] = "openssl";
    System.arraycopy(args, 0, command, 1, args.length);
    Proc.run(Duration.ofMinutes(1), command).requireSuccess();
  }
}
