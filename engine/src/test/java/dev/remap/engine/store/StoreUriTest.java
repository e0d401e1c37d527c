package dev.remap.engine.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class StoreUriTest {

  @Test
  void fileUris() {
    assertThat(StoreUri.parse("file:///var/lib/remap")).isEqualTo(new StoreUri.File(Path.of("/var/lib/remap")));
    assertThat(StoreUri.parse("file://localhost/var/lib/remap/")).isEqualTo(new StoreUri.File(Path.of("/var/lib/remap")));
    assertThat(StoreUri.parse("file:///var/lib/remap").toString()).isEqualTo("file:///var/lib/remap");
    assertThat(StoreUri.parse("file:///with%20space").toString()).isEqualTo("file:///with%20space");
    assertThat(((StoreUri.File) StoreUri.parse("file:///with%20space")).root()).isEqualTo(Path.of("/with space"));
  }

  @Test
  void badFileUris() {
    assertRejected("file://otherhost/x", "names no host");
    assertRejected("file:relative/path", "absolute path");
    assertRejected("file:///x?sync=false", "takes no parameters");
  }

  @Test
  void s3UrisWithDefaults() {
    StoreUri.S3 aws = (StoreUri.S3) StoreUri.parse("s3://my-bucket");
    assertThat(aws).isEqualTo(new StoreUri.S3("my-bucket", "", null, "us-east-1", false, null));
    assertThat(aws.toString()).isEqualTo("s3://my-bucket/?region=us-east-1&pathStyle=false");

    StoreUri.S3 prefixed = (StoreUri.S3) StoreUri.parse("s3://my-bucket/volumes/a");
    assertThat(prefixed.prefix()).isEqualTo("volumes/a/");
    assertThat(((StoreUri.S3) StoreUri.parse("s3://my-bucket/volumes/a/")).prefix()).isEqualTo("volumes/a/");
  }

  @Test
  void s3UrisWithAnEndpoint() {
    StoreUri.S3 uri = (StoreUri.S3) StoreUri.parse(
        "s3://remap.data/p/?endpoint=http://127.0.0.1:9000/&region=eu-west-1&profile=ceph");
    assertThat(uri.endpoint()).isEqualTo(URI.create("http://127.0.0.1:9000"));
    assertThat(uri.pathStyle()).isTrue();
    assertThat(uri.region()).isEqualTo("eu-west-1");
    assertThat(uri.profile()).isEqualTo("ceph");
    assertThat(uri.toString())
        .isEqualTo("s3://remap.data/p/?endpoint=http://127.0.0.1:9000&region=eu-west-1&pathStyle=true&profile=ceph");
    assertThat(StoreUri.parse(uri.toString())).isEqualTo(uri);
    assertThat(((StoreUri.S3) StoreUri.parse("s3://bkt?endpoint=https://s3.example:443&pathStyle=false")).pathStyle())
        .isFalse();
  }

  @Test
  void badS3Uris() {
    assertRejected("s3:///prefix", "has no bucket");
    assertRejected("s3://Bad_Bucket/", "invalid S3 bucket name 'Bad_Bucket'");
    assertRejected("s3://ab/", "invalid S3 bucket name 'ab'");
    assertRejected("s3://host:9000/bucket", "names a bucket, not a host");
    assertRejected("s3://bkt/a//b", "invalid key prefix");
    assertRejected("s3://bkt/../x", "invalid key prefix");
    assertRejected("s3://bkt/?foo=1", "unknown parameter 'foo' in the S3 store URI: known are endpoint, pathStyle, profile, region");
    assertRejected("s3://bkt/?region=us-east-1&region=eu-west-1", "region is given twice");
    assertRejected("s3://bkt/?region=", "region has no value");
    assertRejected("s3://bkt/?region=US_EAST", "invalid S3 region");
    assertRejected("s3://bkt/?pathStyle=maybe", "pathStyle must be true or false");
    assertRejected("s3://bkt/#frag", "fragment");
  }

  @Test
  void badEndpoints() {
    assertRejected("s3://bkt/?endpoint=ftp://host", "must be an http:// or https:// URL");
    assertRejected("s3://bkt/?endpoint=localhost:9000", "must be an http:// or https:// URL");
    assertRejected("s3://bkt/?endpoint=http://host:9000/bucket", "scheme, host and port only");
    assertRejected("s3://bkt/?endpoint=http://h%20st", "endpoint");
  }

  @Test
  void credentialsAreRefusedAndNeverRepeated() {
    assertThatThrownBy(() -> StoreUri.parse("s3://bkt/?secretKey=hunter2secret"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("credentials do not belong in the store URI")
        .hasMessageNotContaining("hunter2secret");
    assertThatThrownBy(() -> StoreUri.parse("s3://bkt/?endpoint=http://user:hunter2secret@host:9000"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must not carry credentials")
        .hasMessageNotContaining("hunter2secret");
  }

  @Test
  void unknownSchemes() {
    assertRejected("gs://bucket/x", "unknown store URI scheme 'gs'");
    assertRejected("/var/lib/remap", "unknown store URI scheme '(none)'");
    assertRejected("", "the store URI is empty");
    assertThatThrownBy(() -> ObjectStores.open("minio://x")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'minio'");
  }

  private static void assertRejected(String uri, String message) {
    assertThatThrownBy(() -> StoreUri.parse(uri)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }
}
