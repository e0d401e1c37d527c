package dev.remap.operator.share;

import dev.remap.api.share.LogicalDiskShare;
import dev.remap.operator.transfer.JobConfig;
import dev.remap.operator.transfer.JobModel;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Keeps a share's agent Deployment as {@link ShareAgentModel} says (created, or replaced when its
 * arguments changed) and the copy of the user's cloud Secret next to it. Glue.
 */
final class ShareAgents {

  private final KubernetesClient client;
  private final JobConfig config;

  ShareAgents(KubernetesClient client, JobConfig config) {
    this.client = client;
    this.config = config;
  }

  /** The user's cloud Secret's data, or why it cannot be used (a sentence naming it). */
  record UserSecret(Map<String, String> data, String problem) {}

  UserSecret userSecret(LogicalDiskShare share) {
    String name = share.getSpec().cloud.secretRef.name;
    Secret secret = client.secrets().inNamespace(share.getMetadata().getNamespace()).withName(name).get();
    if (secret == null) {
      return new UserSecret(null, "Secret " + name + " (spec.cloud.secretRef) does not exist in namespace "
          + share.getMetadata().getNamespace());
    }
    Map<String, String> data = secret.getData() == null ? Map.of() : secret.getData();
    if (!data.containsKey(JobModel.ACCESS_KEY_ID) || !data.containsKey(JobModel.SECRET_ACCESS_KEY)) {
      return new UserSecret(null, "Secret " + name + " (spec.cloud.secretRef) must hold the keys "
          + JobModel.ACCESS_KEY_ID + " and " + JobModel.SECRET_ACCESS_KEY);
    }
    return new UserSecret(data, null);
  }

  /** Makes the agent run with these arguments; answers its Deployment as the API server has it. */
  Deployment ensure(LogicalDiskShare share, List<String> args, int port, Map<String, String> secretData) {
    Deployment want = ShareAgentModel.deployment(share, args, config, port,
        ShareAgentModel.configHash(args, config, secretData));
    var resource = client.apps().deployments().inNamespace(config.namespace()).withName(want.getMetadata().getName());
    Deployment have = resource.get();
    if (have == null) {
      have = client.apps().deployments().resource(want).create();
    } else if (!Objects.equals(configHash(have), configHash(want))) {
      // A changed spec, allocation, Secret or image: the new pod goes on from what the old one
      // kept in the store.
      have.getSpec().setTemplate(want.getSpec().getTemplate());
      have = client.apps().deployments().resource(have).update();
    }
    Secret copy = ShareAgentModel.credentials(share, have, secretData);
    Secret current = client.secrets().inNamespace(config.namespace()).withName(copy.getMetadata().getName()).get();
    if (current == null) {
      client.secrets().resource(copy).create();
    } else if (!Objects.equals(current.getData(), copy.getData())) {
      current.setData(copy.getData());
      client.secrets().resource(current).update();
    }
    return have;
  }

  void delete(LogicalDiskShare share) {
    client.apps().deployments().inNamespace(config.namespace()).withName(ShareNames.agent(share)).delete();
  }

  private static String configHash(Deployment deployment) {
    Map<String, String> annotations = deployment.getSpec().getTemplate().getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(ShareAgentModel.ANNOTATION_CONFIG);
  }
}
