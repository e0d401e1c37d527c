package dev.remap.operator;

import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Leader election on a Lease, so that two operator replicas (a rolling update, or a standby)
 * never reconcile the same disk at once. quarkus-operator-sdk uses this bean in the profiles
 * listed in quarkus.operator-sdk.activate-leader-election-for-profiles (prod). The identity is
 * remap.operator.identity (env REMAP_OPERATOR_IDENTITY), else the host name and the pid.
 */
public class LeaderElection {

  @Produces
  @Singleton
  LeaderElectionConfiguration leaderElection(
      @ConfigProperty(name = "remap.operator.lease-name", defaultValue = "remap-operator") String leaseName,
      @ConfigProperty(name = "remap.operator.lease-namespace", defaultValue = "remap-system") String namespace,
      @ConfigProperty(name = "remap.operator.identity") Optional<String> identity) {
    return LeaderElectionConfigurationBuilder.aLeaderElectionConfiguration(leaseName)
        .withLeaseNamespace(namespace)
        .withIdentity(identity.filter(i -> !i.isBlank()).orElseGet(LeaderElection::defaultIdentity))
        .build();
  }

  /** The pod name in a cluster (HOSTNAME), plus the pid so that two processes on one host differ. */
  static String defaultIdentity() {
    String host = System.getenv("HOSTNAME");
    if (host == null || host.isBlank()) {
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (UnknownHostException e) {
        host = "remap-operator";
      }
    }
    return host + "-" + ManagementFactory.getRuntimeMXBean().getPid();
  }
}
