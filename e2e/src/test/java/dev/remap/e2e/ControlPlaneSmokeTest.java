package dev.remap.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.remap.testkit.ControlPlane;
import dev.remap.testkit.ControlPlaneExtension;
import dev.remap.testkit.Proc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The local control plane is a real API server: it is ready, serves CRDs, and runs controllers. */
@ExtendWith(ControlPlaneExtension.class)
class ControlPlaneSmokeTest {

  @Test
  void apiServerIsReady(ControlPlane controlPlane) {
    assertThat(controlPlane.kubectl("get", "--raw", "/readyz").requireSuccess().output().trim()).isEqualTo("ok");
    assertThat(controlPlane.kubectl("version", "-o", "json").requireSuccess().output())
        .contains("\"serverVersion\"").contains("\"gitVersion\": \"v1.");
  }

  @Test
  void aCustomResourceDefinitionAppliedWithKubectlIsServed(ControlPlane controlPlane, @TempDir Path dir)
      throws Exception {
    Path crd = Files.writeString(dir.resolve("crd.yaml"), """
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata:
          name: gadgets.smoke.remap.dev
        spec:
          group: smoke.remap.dev
          names: {kind: Gadget, plural: gadgets, singular: gadget}
          scope: Namespaced
          versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      size: {type: integer, minimum: 1}
        """);
    controlPlane.kubectl("apply", "-f", crd.toString()).requireSuccess();
    controlPlane.kubectl("wait", "--for=condition=Established", "--timeout=60s",
        "crd/gadgets.smoke.remap.dev").requireSuccess();

    Path gadget = Files.writeString(dir.resolve("gadget.yaml"), """
        apiVersion: smoke.remap.dev/v1
        kind: Gadget
        metadata: {name: g1, namespace: default}
        spec: {size: 42}
        """);
    controlPlane.kubectl("apply", "-f", gadget.toString()).requireSuccess();
    assertThat(controlPlane.kubectl("get", "gadget", "g1", "-n", "default",
        "-o", "jsonpath={.spec.size}").requireSuccess().output()).isEqualTo("42");

    // The schema is enforced by the API server itself.
    Path bad = Files.writeString(dir.resolve("bad.yaml"), """
        apiVersion: smoke.remap.dev/v1
        kind: Gadget
        metadata: {name: g2, namespace: default}
        spec: {size: 0}
        """);
    Proc.Result rejected = controlPlane.kubectl("apply", "-f", bad.toString());
    assertThat(rejected.exitCode()).isNotZero();
    assertThat(rejected.output()).contains("spec.size");
  }

  @Test
  void controllerManagerRunsControllers(ControlPlane controlPlane) throws Exception {
    controlPlane.kubectl("create", "namespace", "smoke-controllers").requireSuccess();
    // The service-account controller (kube-controller-manager) creates "default" in every namespace.
    Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
    while (controlPlane.kubectl("get", "serviceaccount", "default", "-n", "smoke-controllers").exitCode() != 0) {
      assertThat(Instant.now()).as("the default ServiceAccount appears within 60 s").isBefore(deadline);
      Thread.sleep(250);
    }
  }
}
