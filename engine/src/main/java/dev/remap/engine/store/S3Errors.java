package dev.remap.engine.store;

import dev.remap.engine.store.StoreException.Reason;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.util.Locale;
import javax.net.ssl.SSLException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Turns what the AWS SDK throws into the store's exceptions, each one sentence that names the
 * endpoint, the bucket and what to do. Only the S3 error code and HTTP status are used from the
 * server's answer, never its free text, and the credentials are never at hand here: no message can
 * carry a secret.
 */
public final class S3Errors {

  private final StoreUri.S3 uri;
  private final String store;

  public S3Errors(StoreUri.S3 uri) {
    this.uri = uri;
    this.store = uri.toString();
  }

  /** action says what was tried, in words that follow "while trying to": "read object seg/1". */
  public IOException translate(SdkException e, String action, String key) {
    if (e instanceof S3Exception s3) {
      return fromServer(s3, action, key);
    }
    IOException io = ioCause(e);
    if (e instanceof ApiCallTimeoutException || e instanceof ApiCallAttemptTimeoutException
        || io instanceof SocketTimeoutException || io instanceof HttpTimeoutException
        || io instanceof InterruptedIOException) {
      return new StoreException(Reason.UNREACHABLE, "the S3 endpoint " + uri.endpointName() + " did not answer in time for bucket "
          + uri.bucket() + " while trying to " + action, e);
    }
    if (io != null) {
      return new StoreException(Reason.UNREACHABLE, "cannot reach the S3 endpoint " + uri.endpointName() + " for bucket "
          + uri.bucket() + ": " + describe(io), e);
    }
    String message = String.valueOf(e.getMessage());
    if (message.toLowerCase(Locale.ROOT).contains("credentials")) {
      return new StoreException(Reason.CREDENTIALS, "no S3 credentials for bucket " + uri.bucket() + ": "
          + (uri.profile() != null ? "the AWS credentials file has no usable profile " + uri.profile()
              : "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give an AWS credentials file (profile= picks one)"),
          e);
    }
    return new StoreException(Reason.FAILED, "the S3 request to " + action + " in bucket " + uri.bucket() + " at "
        + uri.endpointName() + " failed: " + message, e);
  }

  /** An I/O failure while the SDK was not looking: reading a response body. */
  public IOException translate(IOException e, String action) {
    return new StoreException(Reason.UNREACHABLE, "the connection to the S3 endpoint " + uri.endpointName()
        + " broke while trying to " + action + " in bucket " + uri.bucket() + ": " + describe(e), e);
  }

  public StoreException missingBucket(Throwable cause) {
    return new StoreException(Reason.NO_BUCKET, "the S3 bucket " + uri.bucket() + " does not exist at "
        + uri.endpointName() + ": create it first (Remap never creates buckets)", cause);
  }

  private IOException fromServer(S3Exception e, String action, String key) {
    String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    int status = e.statusCode();
    String where = " for bucket " + uri.bucket();
    String server = "the S3 server " + uri.endpointName();
    if ("NoSuchKey".equals(code) && key != null) {
      NoSuchObjectException missing = new NoSuchObjectException(key, store);
      missing.initCause(e);
      return missing;
    }
    if ("NoSuchBucket".equals(code)) {
      return missingBucket(e);
    }
    if ("InvalidAccessKeyId".equals(code)) {
      return new StoreException(Reason.CREDENTIALS, server + " rejected the credentials" + where
          + " (InvalidAccessKeyId): it does not know the access key id", e);
    }
    if ("SignatureDoesNotMatch".equals(code)) {
      return new StoreException(Reason.CREDENTIALS, server + " rejected the credentials" + where
          + " (SignatureDoesNotMatch): the secret access key is wrong", e);
    }
    if ("ExpiredToken".equals(code) || "InvalidToken".equals(code) || "TokenRefreshRequired".equals(code)) {
      return new StoreException(Reason.CREDENTIALS, server + " rejected the credentials" + where
          + " (" + code + "): the session token is expired or invalid", e);
    }
    if ("AccessDenied".equals(code) || "AllAccessDisabled".equals(code)) {
      return new StoreException(Reason.ACCESS_DENIED, server + " denied access" + where + " (" + code
          + ") while trying to " + action + ": the credentials lack that permission", e);
    }
    if (status == 403) {
      return new StoreException(Reason.CREDENTIALS, server + " refused access" + where + " (HTTP 403) while trying to "
          + action + ": the credentials are wrong or lack permission", e);
    }
    if ("RequestTimeTooSkewed".equals(code)) {
      return new StoreException(Reason.FAILED, server + " refused the request" + where
          + " (RequestTimeTooSkewed): this machine's clock is too far from the server's", e);
    }
    if ("PermanentRedirect".equals(code) || "AuthorizationHeaderMalformed".equals(code) || status == 301) {
      return new StoreException(Reason.FAILED, "the S3 bucket " + uri.bucket() + " is not in region " + uri.region()
          + " (" + (code != null ? code : "HTTP " + status) + "): set region= in the store URI", e);
    }
    if (status >= 500) {
      return new StoreException(Reason.UNREACHABLE, server + " failed" + where + " while trying to " + action
          + " (HTTP " + status + (code != null ? " " + code : "") + "), also when retried", e);
    }
    return new StoreException(Reason.FAILED, server + " answered HTTP " + status + (code != null ? " " + code : "")
        + where + " while trying to " + action, e);
  }

  private static IOException ioCause(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof IOException io) {
        return io;
      }
    }
    return null;
  }

  private static String describe(IOException e) {
    if (e instanceof ConnectException) {
      return e.getMessage() != null ? e.getMessage().toLowerCase(Locale.ROOT) : "connection refused";
    }
    if (e instanceof UnknownHostException) {
      return "unknown host " + e.getMessage();
    }
    if (e instanceof NoRouteToHostException) {
      return "no route to host";
    }
    if (e instanceof SSLException) {
      return "TLS failed (" + e.getMessage() + ")";
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }
}
