package dev.remap.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.remap.api.common.GoDuration;
import dev.remap.engine.core.Geometry;
import dev.remap.engine.share.CloudSync;
import dev.remap.engine.share.ImageFormat;
import dev.remap.engine.share.Outbox;
import dev.remap.engine.share.ShareAgent;
import dev.remap.engine.share.ShareBuilder;
import dev.remap.engine.share.ShareSplit;
import dev.remap.engine.store.FileObjectStore;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeMeta;
import dev.remap.engine.volume.VolumeOptions;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The flags of {@code remap share-agent}: each becomes the agent's setting, each mistake names its
 * flag. And its POST /delete, on the command itself running in this JVM against a file store.
 */
class ShareAgentCommandTest {

  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private static ShareAgent.Config config(String... args) {
    String[] all = new String[args.length + 4];
    all[0] = "--store=file:///tmp/x";
    all[1] = "--share-id=ns.share";
    all[2] = "--bucket=photos";
    all[3] = "--vm=vm-a=photos,texts";
    System.arraycopy(args, 0, all, 4, args.length);
    return CommandLine.populateCommand(new ShareAgentCommand(), all).config();
  }

  @Test
  void flagsBecomeTheAgentsSettings() {
    ShareAgent.Config config = config("--split=byDataType", "--data-type=photos=jpg,png", "--data-type=texts=txt",
        "--others=", "--filesystem=vfat", "--free-space=512M", "--direction=push", "--conflicts=vmWins",
        "--interval=1m30s", "--vm=vm-b=texts");
    assertThat(config.rule()).isEqualTo(new ShareSplit.Rule(ShareSplit.Mode.BY_DATA_TYPE,
        Map.of("photos", List.of("jpg", "png"), "texts", List.of("txt")), null));
    assertThat(config.rule().dataTypes().keySet()).containsExactly("photos", "texts");
    assertThat(config.format()).isEqualTo(ImageFormat.VFAT);
    assertThat(config.freeSpace()).isEqualTo(512L << 20);
    assertThat(config.direction()).isEqualTo(ShareAgent.Direction.PUSH);
    assertThat(config.policy()).isEqualTo(CloudSync.Policy.VM_WINS);
    assertThat(config.interval()).isEqualTo(Duration.ofSeconds(90));
    assertThat(config.assignments()).containsExactly(new ShareAgent.Assignment("vm-a", "photos"),
        new ShareAgent.Assignment("vm-a", "texts"), new ShareAgent.Assignment("vm-b", "texts"));
  }

  @Test
  void defaultsAreTheApisDefaults() {
    ShareAgent.Config config = config();
    assertThat(config.rule()).isEqualTo(new ShareSplit.Rule(ShareSplit.Mode.SINGLE, Map.of(), "other"));
    assertThat(config.format()).isEqualTo(ImageFormat.EXT4);
    assertThat(config.direction()).isEqualTo(ShareAgent.Direction.BOTH);
    assertThat(config.policy()).isEqualTo(CloudSync.Policy.KEEP_BOTH);
    assertThat(config.interval()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.readOnly()).isFalse();
  }

  @Test
  void mistakesNameTheirFlag() {
    assertThatThrownBy(() -> config("--split=byColour")).hasMessageStartingWith("--split: 'byColour'");
    assertThatThrownBy(() -> config("--split=byDataType")).hasMessageContaining("--data-type is given when");
    assertThatThrownBy(() -> config("--data-type=photos")).hasMessageStartingWith("--data-type: 'photos'");
    assertThatThrownBy(() -> config("--filesystem=ntfs")).hasMessageStartingWith("--filesystem: 'ntfs'");
    assertThatThrownBy(() -> config("--interval=soon")).hasMessageStartingWith("--interval: 'soon' is not a duration");
    assertThatThrownBy(() -> config("--read-only")).hasMessageContaining("--read-only needs --direction pull");
    assertThatThrownBy(() -> config("--vm=vm-b")).hasMessageStartingWith("--vm: 'vm-b'");
    assertThatThrownBy(() -> config("--free-space=lots")).hasMessageStartingWith("--free-space:");
    assertThat(GoDuration.parse("--x", "500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(GoDuration.parse("--x", "1.5h")).isEqualTo(Duration.ofMinutes(90));
  }

  /**
   * A share whose VM change waits in the outbox while the cloud is away: /delete refuses (409,
   * the count in a header, the reason in the sentence) and deletes nothing; with abandon=true the
   * share's volumes and objects go, a neighbour share's stay; then every request is 410 and no
   * round runs again (none writes the share's status anew).
   */
  @Test
  void deleteKeepsAWaitingChangeUnlessAbandonedThenRemovesTheShareAndStops(@TempDir Path tmp) throws Exception {
    Path storeDir = tmp.resolve("store");
    ObjectStore store = FileObjectStore.open(storeDir);
    VolumeManager manager = new VolumeManager(store, VolumeOptions.defaults(tmp.resolve("test-journal")));
    String mine = ShareBuilder.volumeName("ns.share", "photos", 1);
    String neighbour = ShareBuilder.volumeName("ns.share-b", "photos", 1);
    for (String volume : List.of(mine, mine + "-vm-0123456789ab", neighbour)) {
      manager.create(volume, 1 << 20, Geometry.DEFAULT_BLOCK_SIZE, Geometry.DEFAULT_CHUNK_SIZE);
    }
    store.put("shares/ns.share-b/status", java.nio.ByteBuffer.wrap(new byte[] {1}));
    new Outbox(store, "ns.share").stage(List.of(new Outbox.Op("vm-a", "photos", Outbox.Kind.DELETE, "photos/x.jpg",
        null, "\"etag-1\"", Instant.parse("2026-12-05T08:00:00Z"))));

    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    int closed;
    try (ServerSocket free = new ServerSocket(0)) {
      closed = free.getLocalPort();
    }
    // The cloud's key pair through the SDK's default chain (the command reads it from the
    // environment, which a test cannot set): only the unreachable endpoint matters here.
    System.setProperty("aws.accessKeyId", "test");
    System.setProperty("aws.secretAccessKey", "test");
    ShareAgentCommand command = CommandLine.populateCommand(new ShareAgentCommand(), "--store=file://" + storeDir,
        "--journal=" + tmp.resolve("journal"), "--share-id=ns.share", "--bucket=photos",
        "--cloud-endpoint=http://127.0.0.1:" + closed, "--vm=vm-a=photos", "--retry-interval=100ms",
        "--listen=127.0.0.1:" + port, "--scratch=" + tmp.resolve("scratch"));
    ExecutorService runner = Executors.newSingleThreadExecutor();
    Future<Integer> agent = runner.submit(command);
    try {
      URI base = URI.create("http://127.0.0.1:" + port);
      awaitTrue("the agent's first round", Duration.ofSeconds(30), () -> {
        assertThat(agent.isDone()).as("the agent runs").isFalse();
        return status(send(base, "GET", "/healthz")) == 200;
      });
      assertThat(store.stat("shares/ns.share/status")).isPresent();

      HttpResponse<String> refused = send(base, "POST", "/delete");
      assertThat(refused.statusCode()).isEqualTo(409);
      assertThat(refused.headers().firstValue("Remap-Pending-Changes")).contains("1");
      assertThat(refused.body()).startsWith("the cloud did not answer (").contains("127.0.0.1:" + closed)
          .contains("share ns.share has 1 change(s) of its VMs not yet sent to the cloud")
          .contains("POST /delete?abandon=true");
      assertThat(names(manager)).containsExactlyInAnyOrder(mine, mine + "-vm-0123456789ab", neighbour);
      assertThat(store.list("shares/ns.share/outbox/")).hasSize(1);
      assertThat(status(send(base, "GET", "/status"))).as("the rounds go on").isEqualTo(200);

      HttpResponse<String> deleted = send(base, "POST", "/delete?abandon=true");
      assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
      assertThat(deleted.body()).startsWith("share ns.share is deleted: 2 volume(s)");
      assertThat(names(manager)).containsExactly(neighbour);
      assertThat(store.list("shares/ns.share/")).isEmpty();
      assertThat(store.list("shares/ns.share-b/")).extracting(ObjectInfo::key).containsExactly("shares/ns.share-b/status");

      for (String[] request : new String[][] {{"GET", "/status"}, {"GET", "/healthz"}, {"POST", "/rebase?vm=vm-a"},
          {"POST", "/delete"}}) {
        HttpResponse<String> gone = send(base, request[0], request[1]);
        assertThat(gone.statusCode()).as(request[1]).isEqualTo(410);
        assertThat(gone.body()).startsWith("share ns.share is deleted").contains("this agent does nothing more");
      }
      // Five turns of the loop since: a round would have written the share's status again.
      long before = command.rounds.skipped();
      awaitTrue("five turns of the agent's loop", Duration.ofSeconds(10), () -> command.rounds.skipped() >= before + 5);
      assertThat(store.list("shares/ns.share/")).isEmpty();
      assertThat(agent.isDone()).as("the process waits for its Deployment to go").isFalse();
    } finally {
      agent.cancel(true);
      runner.shutdown();
      System.clearProperty("aws.accessKeyId");
      System.clearProperty("aws.secretAccessKey");
      store.close();
    }
  }

  private static List<String> names(VolumeManager manager) throws IOException {
    return manager.list().stream().map(VolumeMeta::name).toList();
  }

  /** A condition the test waits for: asked every 50 ms until it holds, failing after timeout. */
  private interface Condition {
    boolean holds() throws Exception;
  }

  private static void awaitTrue(String what, Duration timeout, Condition condition) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.holds()) {
      assertThat(System.nanoTime()).as("waited %s for %s", timeout, what).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private static int status(HttpResponse<String> response) {
    return response == null ? -1 : response.statusCode();
  }

  /** The agent's answer, or null while it does not listen yet. */
  private static HttpResponse<String> send(URI base, String method, String path) throws InterruptedException {
    try {
      return HTTP.send(HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(30))
          .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return null;
    }
  }
}
