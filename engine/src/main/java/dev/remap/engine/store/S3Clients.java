package dev.remap.engine.store;

import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;

/**
 * How an {@link S3ObjectStore} builds its SDK client: the JDK's HTTP client (no Netty, no Apache
 * client), the standard retry strategy (3 attempts, exponential backoff with jitter, for
 * connection failures, 5xx and throttling), a {@value #CONNECT_SECONDS} s connect timeout and a
 * {@value #SOCKET_SECONDS} s read timeout.
 *
 * <p><b>Wire format.</b> Bodies go as plain Content-Length uploads with a CRC32 checksum header
 * the server verifies (and, over http, a signed SHA-256 of the payload), not as aws-chunked
 * streams: s3proxy 4.1.0 can answer an aws-chunked upload before the client has sent its last
 * chunk, so the client sees "Error writing request body" for a request that succeeded and retries
 * it; other S3-compatible servers are also uneven in their support for chunked uploads.
 */
public final class S3Clients {

  static final int CONNECT_SECONDS = 3;
  static final int SOCKET_SECONDS = 30;

  private S3Clients() {}

  /** The given key pair; else the URI's profile only; else the AWS default chain. */
  public static AwsCredentialsProvider credentials(StoreUri.S3 uri, S3Credentials credentials) {
    if (credentials != null) {
      return StaticCredentialsProvider.create(
          AwsBasicCredentials.create(credentials.accessKeyId(), credentials.secretAccessKey()));
    }
    if (uri.profile() != null) {
      // Only that profile: the default chain would let environment variables win over it.
      return ProfileCredentialsProvider.builder().profileName(uri.profile()).build();
    }
    return DefaultCredentialsProvider.builder().build();
  }

  public static S3Client client(StoreUri.S3 uri, AwsCredentialsProvider credentials) {
    S3ClientBuilder builder = S3Client.builder()
        .region(Region.of(uri.region()))
        .credentialsProvider(credentials)
        .forcePathStyle(uri.pathStyle())
        .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
        .httpClientBuilder(UrlConnectionHttpClient.builder()
            .connectionTimeout(Duration.ofSeconds(CONNECT_SECONDS))
            .socketTimeout(Duration.ofSeconds(SOCKET_SECONDS)))
        .overrideConfiguration(o -> o.retryStrategy(RetryMode.STANDARD));
    if (uri.endpoint() != null) {
      builder.endpointOverride(uri.endpoint());
    }
    return builder.build();
  }
}
