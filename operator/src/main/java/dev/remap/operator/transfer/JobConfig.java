package dev.remap.operator.transfer;

/**
 * What every transfer Job is made with, from the operator's configuration (see
 * {@link JobSettings} and docs/OPERATOR.md).
 *
 * @param namespace where the Jobs run: the operator's own namespace (POD_NAMESPACE)
 * @param image the `remap` image (REMAP_JOB_IMAGE), whose entrypoint is the CLI
 * @param storeUri Remap's store (REMAP_STORE), or null when not given
 * @param storeSecret the Secret of this namespace with the store's S3 credentials (REMAP_STORE_SECRET), or null
 * @param accessKeyIdKey its key holding the access key id
 * @param secretAccessKeyKey its key holding the secret access key
 * @param localStorePath the store's directory on the node for a file store (REMAP_LOCAL_STORE_PATH,
 *     else the path of a file:// REMAP_STORE), or null for S3
 */
public record JobConfig(String namespace, String image, String storeUri, String storeSecret, String accessKeyIdKey,
    String secretAccessKeyKey, String localStorePath) {

  public boolean storeConfigured() {
    return storeUri != null;
  }

  /** A file store lives on the node: its Job mounts it and runs as root, who owns it there. */
  public boolean localStore() {
    return localStorePath != null;
  }
}
