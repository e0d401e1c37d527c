package dev.remap.operator.transfer;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.util.ArrayList;
import java.util.List;

/**
 * What every pod of the {@code remap} image that works on Remap's store has, whether a transfer
 * Job or a share's agent: the store's credentials by secretKeyRef, a writable /tmp (journal and
 * scratch; the root file system is read-only), a local store's directory at its own path, and the
 * same locked-down security. Pure.
 */
public final class StorePods {

  static final long ROOT = 0;
  static final long NON_ROOT = 65532;

  private StorePods() {}

  /** REMAP_STORE_ACCESS_KEY_ID / _SECRET_ACCESS_KEY from the operator's store Secret, when there is one. */
  public static List<EnvVar> storeEnv(JobConfig config) {
    List<EnvVar> env = new ArrayList<>();
    if (config.storeSecret() != null) {
      env.add(fromSecret("REMAP_STORE_ACCESS_KEY_ID", config.storeSecret(), config.accessKeyIdKey()));
      env.add(fromSecret("REMAP_STORE_SECRET_ACCESS_KEY", config.storeSecret(), config.secretAccessKeyKey()));
    }
    return env;
  }

  public static EnvVar fromSecret(String name, String secret, String key) {
    return new EnvVarBuilder().withName(name).withNewValueFrom().withNewSecretKeyRef().withName(secret).withKey(key)
        .endSecretKeyRef().endValueFrom().build();
  }

  /** /tmp (an emptyDir) and, for a local store, its directory. */
  public static List<Volume> volumes(JobConfig config) {
    List<Volume> volumes = new ArrayList<>();
    // The journal folder every store client has (read-only root file system).
    volumes.add(new VolumeBuilder().withName("tmp").withNewEmptyDir().endEmptyDir().build());
    if (config.localStore()) {
      // The CSI controller's store directory, at the same path. Single node by definition of a
      // local store, so the pod needs no node constraint to land where the directory is.
      volumes.add(new VolumeBuilder().withName("store").withNewHostPath().withPath(config.localStorePath())
          .withType("Directory").endHostPath().build());
    }
    return volumes;
  }

  public static List<VolumeMount> mounts(JobConfig config) {
    List<VolumeMount> mounts = new ArrayList<>();
    mounts.add(new VolumeMount("/tmp", null, "tmp", null, null, null, null));
    if (config.localStore()) {
      mounts.add(new VolumeMount(config.localStorePath(), null, "store", null, null, null, null));
    }
    return mounts;
  }

  /**
   * A local store is a hostPath directory owned by root (as for the CSI controller); against S3
   * nothing on the host is touched: the image's non-root user.
   */
  public static PodSecurityContext podSecurity(JobConfig config) {
    boolean local = config.localStore();
    long user = local ? ROOT : NON_ROOT;
    return new PodSecurityContextBuilder()
        .withRunAsUser(user).withRunAsGroup(user).withRunAsNonRoot(!local).withFsGroup(local ? null : NON_ROOT)
        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
        .build();
  }

  public static SecurityContext containerSecurity() {
    return new SecurityContextBuilder()
        .withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
        .withNewCapabilities().withDrop("ALL").endCapabilities()
        .build();
  }

  /** 100m and 256Mi requested, 1Gi at most: a copy or an agent streams, it does not hold data. */
  public static ResourceRequirements resources() {
    return new ResourceRequirementsBuilder()
        .addToRequests("cpu", new Quantity("100m")).addToRequests("memory", new Quantity("256Mi"))
        .addToLimits("memory", new Quantity("1Gi"))
        .build();
  }
}
