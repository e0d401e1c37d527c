package dev.remap.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Comparator;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A real S3 server for tests: s3proxy run as its own process ({@code java -jar}, never inside the
 * test JVM) on 127.0.0.1 with a free port, storing objects in a folder (its "filesystem"
 * provider) and accepting one known access key pair ({@link #ACCESS_KEY}, {@link #SECRET_KEY}).
 *
 * <p>The jar is the s3proxy jar-with-dependencies that the Maven build copies (engine/pom.xml:
 * maven-dependency-plugin copy to engine/target/s3proxy/s3proxy.jar) and names in the system
 * property {@value #JAR_PROPERTY}; without the property it is looked for at that path under the
 * repository root.
 *
 * <p>{@link #stop()} and {@link #restart()} take the server away and bring it back on the same
 * port with the same data, to simulate an outage. {@link #close()} stops it and deletes its data
 * folder if this object created it.
 */
public final class S3ServerProcess implements AutoCloseable {

  public static final String JAR_PROPERTY = "remap.s3proxy.jar";
  public static final String ACCESS_KEY = "remap-test-access";
  public static final String SECRET_KEY = "remap-test-secret";
  public static final String REGION = "us-east-1";

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Path dir;
  private final boolean ownsDir;
  private final int port;
  private final String bindHost;
  private BackgroundProcess process;

  private S3ServerProcess(Path dir, boolean ownsDir, int port, String bindHost) {
    this.dir = dir;
    this.ownsDir = ownsDir;
    this.port = port;
    this.bindHost = bindHost;
  }

  /** Starts a server whose data lives in a new temporary folder, deleted by close. */
  public static S3ServerProcess start() {
    try {
      Path dir = Files.createTempDirectory("remap-s3");
      return start(dir, true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a folder for the S3 server", e);
    }
  }

  /** Starts a server whose data lives in dir (kept by close). */
  public static S3ServerProcess start(Path dir) {
    return start(dir, false);
  }

  private static S3ServerProcess start(Path dir, boolean ownsDir) {
    S3ServerProcess server = new S3ServerProcess(dir, ownsDir, Ports.free(), "127.0.0.1");
    server.restart();
    return server;
  }

  /**
   * Starts a server listening on every interface (data in a new temporary folder, deleted by
   * close), for clients that are not on this host's loopback: pods of a local cluster reach it at
   * the node's address and {@link #port()}.
   */
  public static S3ServerProcess startOnAllInterfaces() {
    try {
      S3ServerProcess server = new S3ServerProcess(Files.createTempDirectory("remap-s3"), true, Ports.free(), "0.0.0.0");
      server.restart();
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a folder for the S3 server", e);
    }
  }

  public int port() {
    return port;
  }

  /** http://127.0.0.1:PORT */
  /** This server's credentials as the AWS environment variables, for processes started by tests. */
  public static java.util.Map<String, String> credentialsEnv() {
    return java.util.Map.of("AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", SECRET_KEY);
  }

  public URI endpoint() {
    return URI.create("http://127.0.0.1:" + port);
  }

  /** The Remap store URI of a bucket and prefix on this server ("" for no prefix). */
  public String storeUri(String bucket, String prefix) {
    return "s3://" + bucket + "/" + prefix + "?endpoint=" + endpoint() + "&region=" + REGION + "&pathStyle=true";
  }

  /** The folder the objects are stored in (one sub-folder per bucket). */
  public Path dataDir() {
    return dir.resolve("data");
  }

  public boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** What the server printed so far (for a failing test's message). */
  public String output() {
    return process == null ? "(not running)" : process.output();
  }

  /**
   * Creates a bucket through the S3 API (PUT /bucket, signed with AWS signature version 2, which
   * the server accepts). Creating a bucket that exists is not an error.
   */
  public void createBucket(String bucket) {
    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC));
    String resource = "/" + bucket;
    String toSign = "PUT\n\n\n\nx-amz-date:" + date + "\n" + resource;
    try {
      Mac mac = Mac.getInstance("HmacSHA1");
      mac.init(new SecretKeySpec(SECRET_KEY.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
      String signature = Base64.getEncoder().encodeToString(mac.doFinal(toSign.getBytes(StandardCharsets.UTF_8)));
      HttpURLConnection connection = (HttpURLConnection) URI.create(endpoint() + resource).toURL().openConnection();
      connection.setRequestMethod("PUT");
      connection.setRequestProperty("x-amz-date", date);
      connection.setRequestProperty("Authorization", "AWS " + ACCESS_KEY + ":" + signature);
      connection.setDoOutput(true);
      connection.setFixedLengthStreamingMode(0);
      connection.setConnectTimeout(5_000);
      connection.setReadTimeout(30_000);
      connection.getOutputStream().close();
      int status = connection.getResponseCode();
      String body = new String((status < 400 ? connection.getInputStream() : connection.getErrorStream()).readAllBytes(),
          StandardCharsets.UTF_8);
      connection.disconnect();
      if (status >= 300 && !body.contains("BucketAlreadyOwnedByYou")) {
        throw new AssertionError("the S3 server did not create bucket " + bucket + ": HTTP " + status + "\n" + body);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create bucket " + bucket + " on " + endpoint(), e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA1 is missing from this JDK", e);
    }
  }

  /** Stops the server (SIGTERM); the port and the data stay for {@link #restart()}. */
  public void stop() {
    if (process != null) {
      process.close();
      process = null;
    }
  }

  /** Starts the server again on the same port with the same data (stopping it first if running). */
  public void restart() {
    stop();
    Path properties = writeProperties();
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    BackgroundProcess started = BackgroundProcess.start(java.toString(), "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-jar", jar().toString(), "--properties", properties.toString());
    try {
      started.awaitReady(START_TIMEOUT, this::answers);
    } catch (AssertionError e) {
      started.close();
      throw e;
    }
    process = started;
  }

  @Override
  public void close() {
    stop();
    if (ownsDir) {
      try (Stream<Path> paths = Files.walk(dir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      } catch (IOException ignored) {
        // A leftover folder in the temp folder is harmless.
      }
    }
  }

  /** The s3proxy jar the build copied: the system property, else the engine module's target. */
  public static Path jar() {
    String property = System.getProperty(JAR_PROPERTY);
    Path jar = property != null && !property.isBlank() ? Path.of(property)
        : RemapPaths.root().resolve("engine/target/s3proxy/s3proxy.jar");
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("the s3proxy jar " + jar + " is missing: build the engine module "
          + "(mvn -pl engine -am process-test-resources copies it there) or set -D" + JAR_PROPERTY);
    }
    return jar;
  }

  private Path writeProperties() {
    try {
      Files.createDirectories(dataDir());
      Path properties = dir.resolve("s3proxy.properties");
      String text = String.join("\n",
          "s3proxy.endpoint=http://" + bindHost + ":" + port,
          "s3proxy.authorization=aws-v2-or-v4",
          "s3proxy.identity=" + ACCESS_KEY,
          "s3proxy.credential=" + SECRET_KEY,
          "jclouds.provider=filesystem",
          "jclouds.identity=" + ACCESS_KEY,
          "jclouds.credential=" + SECRET_KEY,
          "jclouds.filesystem.basedir=" + dataDir(),
          "");
      Files.writeString(properties, text, StandardCharsets.UTF_8);
      return properties;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the S3 server's properties in " + dir, e);
    }
  }

  /** Any HTTP answer (an unsigned request gets 403) means the server is listening. */
  private boolean answers() {
    try {
      HttpURLConnection connection = (HttpURLConnection) endpoint().resolve("/").toURL().openConnection();
      connection.setConnectTimeout(500);
      connection.setReadTimeout(2_000);
      int status = connection.getResponseCode();
      connection.disconnect();
      return status > 0;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "S3ServerProcess[" + endpoint() + ", " + dir + "]" + (isRunning() ? "" : " (stopped)");
  }
}
