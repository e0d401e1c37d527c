package dev.remap.engine.store;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Where a store is, parsed and checked: {@code file:///absolute/path} or
 * {@code s3://bucket[/prefix][?endpoint=http://host:port&region=us-east-1&pathStyle=true&profile=name]}.
 *
 * <p>Every problem is an IllegalArgumentException naming the part that is wrong. Error messages
 * never repeat the whole URI or a parameter's value, so a secret pasted into the wrong place does
 * not end up in a log. Credentials are not accepted in the URI at all: they come from the AWS
 * environment variables, the AWS credentials file (optionally a named {@code profile}), or the
 * caller ({@link S3Credentials}, e.g. from a Kubernetes Secret).
 */
public sealed interface StoreUri permits StoreUri.File, StoreUri.S3 {

  /** The canonical text of the URI; it holds no credentials and is safe to log. */
  @Override
  String toString();

  static StoreUri parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("the store URI is empty: give file:///path or s3://bucket/prefix");
    }
    int colon = text.indexOf(':');
    String scheme = colon < 0 ? "" : text.substring(0, colon);
    if (scheme.equals("file")) {
      return File.parse(text);
    }
    if (scheme.equals("s3")) {
      return S3.parse(text);
    }
    throw new IllegalArgumentException("unknown store URI scheme '" + (colon < 0 ? "(none)" : scheme)
        + "': use file:///path or s3://bucket/prefix");
  }

  /** A folder on this machine. */
  record File(Path root) implements StoreUri {

    public File {
      Objects.requireNonNull(root, "root");
      if (!root.isAbsolute()) {
        throw new IllegalArgumentException("the store folder " + root + " is not an absolute path");
      }
      root = root.normalize();
    }

    static File parse(String text) {
      URI uri = syntax(text);
      if (uri.getRawAuthority() != null && !uri.getRawAuthority().isEmpty()
          && !uri.getRawAuthority().equals("localhost")) {
        throw new IllegalArgumentException("a file store URI names no host: write file:///absolute/path");
      }
      if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
        throw new IllegalArgumentException("a file store URI takes no parameters: write file:///absolute/path");
      }
      if (uri.getPath() == null || !uri.getPath().startsWith("/")) {
        throw new IllegalArgumentException("a file store URI needs an absolute path: write file:///absolute/path");
      }
      return new File(Path.of(uri.getPath()));
    }

    @Override
    public String toString() {
      try {
        return new URI("file", "", root.toString(), null).toString();
      } catch (URISyntaxException e) {
        throw new IllegalStateException("an absolute path is always a valid file URI path", e);
      }
    }
  }

  /**
   * A bucket (and a key prefix in it) on S3 or an S3-compatible server. prefix is "" or ends with
   * '/'; endpoint is null for AWS itself; pathStyle defaults to true when an endpoint is given
   * (what MinIO, Ceph RGW, SeaweedFS and s3proxy expect) and false for AWS; region defaults to
   * us-east-1; profile is null for the default credentials chain.
   */
  record S3(String bucket, String prefix, URI endpoint, String region, boolean pathStyle, String profile)
      implements StoreUri {

    static final String DEFAULT_REGION = "us-east-1";
    static final Set<String> PARAMETERS = Set.of("endpoint", "region", "pathStyle", "profile");
    private static final Set<String> CREDENTIAL_PARAMETERS = Set.of("accesskey", "secretkey", "access_key",
        "secret_key", "accesskeyid", "secretaccesskey", "aws_access_key_id", "aws_secret_access_key",
        "password", "secret", "token", "sessiontoken");
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final Pattern REGION = Pattern.compile("[a-z0-9-]{1,64}");
    private static final Pattern PROFILE = Pattern.compile("[A-Za-z0-9._-]{1,128}");

    public S3 {
      Objects.requireNonNull(bucket, "bucket");
      Objects.requireNonNull(prefix, "prefix");
      Objects.requireNonNull(region, "region");
      if (!BUCKET.matcher(bucket).matches()) {
        throw new IllegalArgumentException("invalid S3 bucket name '" + bucket
            + "': 3 to 63 lower-case letters, digits, '.' and '-', starting and ending with a letter or digit");
      }
      if (!prefix.isEmpty() && (!prefix.endsWith("/") || !ObjectKeys.isValid(prefix.substring(0, prefix.length() - 1)))) {
        throw new IllegalArgumentException("invalid key prefix '" + prefix + "' in the S3 store URI: "
            + "'/'-separated segments of A-Z a-z 0-9 . _ @ -");
      }
      if (!REGION.matcher(region).matches()) {
        throw new IllegalArgumentException("invalid S3 region in the store URI: use a name like us-east-1");
      }
      if (profile != null && !PROFILE.matcher(profile).matches()) {
        throw new IllegalArgumentException("invalid AWS profile name in the store URI: letters, digits, '.', '_', '-'");
      }
      if (endpoint != null) {
        checkEndpoint(endpoint);
      }
    }

    static S3 parse(String text) {
      URI uri = syntax(text);
      String authority = uri.getRawAuthority();
      if (authority == null || authority.isEmpty()) {
        throw new IllegalArgumentException("the S3 store URI has no bucket: write s3://bucket/prefix");
      }
      if (authority.contains("@") || authority.contains(":")) {
        throw new IllegalArgumentException("the S3 store URI names a bucket, not a host or credentials: "
            + "write s3://bucket/prefix?endpoint=http://host:port");
      }
      String path = uri.getPath() == null ? "" : uri.getPath();
      String prefix = path.isEmpty() || path.equals("/") ? "" : path.substring(1);
      if (!prefix.isEmpty() && !prefix.endsWith("/")) {
        prefix = prefix + "/";
      }
      if (uri.getRawFragment() != null) {
        throw new IllegalArgumentException("the S3 store URI must not have a fragment ('#...')");
      }
      Map<String, String> query = query(uri.getRawQuery());
      URI endpoint = query.containsKey("endpoint") ? endpoint(query.get("endpoint")) : null;
      String pathStyle = query.getOrDefault("pathStyle", String.valueOf(endpoint != null));
      if (!pathStyle.equals("true") && !pathStyle.equals("false")) {
        throw new IllegalArgumentException("the S3 store URI parameter pathStyle must be true or false");
      }
      return new S3(authority, prefix, endpoint, query.getOrDefault("region", DEFAULT_REGION),
          Boolean.parseBoolean(pathStyle), query.get("profile"));
    }

    @Override
    public String toString() {
      StringBuilder text = new StringBuilder("s3://").append(bucket).append('/').append(prefix);
      char separator = '?';
      if (endpoint != null) {
        text.append(separator).append("endpoint=").append(endpoint);
        separator = '&';
      }
      text.append(separator).append("region=").append(region).append("&pathStyle=").append(pathStyle);
      if (profile != null) {
        text.append("&profile=").append(profile);
      }
      return text.toString();
    }

    /** The endpoint as a user would name it, for messages: the URL, or AWS in the region. */
    String endpointName() {
      return endpoint != null ? endpoint.toString() : "AWS S3 (" + region + ")";
    }

    private static Map<String, String> query(String raw) {
      Map<String, String> query = new LinkedHashMap<>();
      if (raw == null || raw.isEmpty()) {
        return query;
      }
      for (String pair : raw.split("&")) {
        int equals = pair.indexOf('=');
        String name = URLDecoder.decode(equals < 0 ? pair : pair.substring(0, equals), StandardCharsets.UTF_8);
        String value = equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
        if (CREDENTIAL_PARAMETERS.contains(name.toLowerCase(java.util.Locale.ROOT))) {
          throw new IllegalArgumentException("credentials do not belong in the store URI (parameter '" + name
              + "'): use the AWS environment variables, the AWS credentials file with profile=, or a Secret");
        }
        if (!PARAMETERS.contains(name)) {
          throw new IllegalArgumentException("unknown parameter '" + name + "' in the S3 store URI: known are "
              + String.join(", ", PARAMETERS.stream().sorted().toList()));
        }
        if (value.isEmpty()) {
          throw new IllegalArgumentException("the S3 store URI parameter " + name + " has no value");
        }
        if (query.put(name, value) != null) {
          throw new IllegalArgumentException("the S3 store URI parameter " + name + " is given twice");
        }
      }
      return query;
    }

    private static URI endpoint(String value) {
      try {
        return checkEndpoint(new URI(value));
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("the S3 endpoint is not a URL: write endpoint=http://host:port");
      }
    }

    private static URI checkEndpoint(URI endpoint) {
      String scheme = endpoint.getScheme();
      if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || endpoint.getHost() == null) {
        throw new IllegalArgumentException("the S3 endpoint must be an http:// or https:// URL with a host, "
            + "like endpoint=http://127.0.0.1:9000");
      }
      if (endpoint.getRawUserInfo() != null) {
        throw new IllegalArgumentException("the S3 endpoint must not carry credentials: use the AWS environment "
            + "variables, the AWS credentials file with profile=, or a Secret");
      }
      if ((endpoint.getRawPath() != null && !endpoint.getRawPath().isEmpty() && !endpoint.getRawPath().equals("/"))
          || endpoint.getRawQuery() != null || endpoint.getRawFragment() != null) {
        throw new IllegalArgumentException("the S3 endpoint is a scheme, host and port only, "
            + "like endpoint=http://127.0.0.1:9000 (the bucket and prefix go in s3://bucket/prefix)");
      }
      return URI.create(scheme + "://" + endpoint.getRawAuthority());
    }
  }

  private static URI syntax(String text) {
    try {
      return new URI(text);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("the store URI is not valid URI syntax at index " + e.getIndex()
          + ": " + e.getReason());
    }
  }
}
