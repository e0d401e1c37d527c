package dev.remap.operator.share;

import dev.remap.engine.share.ShareStatus;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Talks to a share's agent pod (its Deployment's running pod, at its IP and the container port
 * named http): GET /status, POST /rebase, /release and /delete. Every call is bounded; an agent
 * that does not answer is "not reachable", never an exception out of a reconcile.
 */
public final class ShareAgentClient {

  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  /**
   * A deletion runs a last round first (sending what VMs wrote): longer than other calls, still
   * bounded; one cut short goes on in the agent, and the next call waits behind it.
   */
  private static final Duration DELETE_TIMEOUT = Duration.ofSeconds(60);
  /** The agent's header on a refused deletion: how many changes still wait for the cloud. */
  static final String PENDING_HEADER = "Remap-Pending-Changes";

  /** How a deletion went. */
  public enum DeleteOutcome {
    /** The share's volumes and objects are gone (now, or by an earlier call: the agent answers 410 then). */
    DELETED,
    /** Changes of VMs have not reached the cloud; nothing was deleted. */
    PENDING,
    /** The agent answered with an error (its store, a disk still in use). */
    FAILED,
    /** No answer. */
    NOT_ANSWERING
  }

  /** A deletion's outcome, the number of changes still waiting (PENDING) and the agent's sentence. */
  public record Deletion(DeleteOutcome outcome, long pending, String message) {}

  /** What a call got: the answer, or why there is none. */
  public record Answer<T>(Optional<T> value, String problem) {
    static <T> Answer<T> of(T value) {
      return new Answer<>(Optional.of(value), null);
    }

    static <T> Answer<T> failed(String problem) {
      return new Answer<>(Optional.empty(), problem);
    }
  }

  private final KubernetesClient client;
  private final String namespace;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT)
      .version(HttpClient.Version.HTTP_1_1).followRedirects(HttpClient.Redirect.NEVER).build();

  public ShareAgentClient(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  /** The agent's address, when its pod runs and has an IP. */
  public Optional<URI> address(String shareUid) {
    List<Pod> pods = client.pods().inNamespace(namespace).withLabel(ShareAgentModel.LABEL_SHARE_UID, shareUid).list()
        .getItems();
    return pods.stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .filter(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()))
        .filter(p -> p.getStatus().getPodIP() != null && !p.getStatus().getPodIP().isEmpty())
        .sorted(Comparator.comparing((Pod p) -> Objects.toString(p.getMetadata().getCreationTimestamp(), "")).reversed())
        .flatMap(p -> port(p).map(port -> uri(p.getStatus().getPodIP(), port)).stream())
        .findFirst();
  }

  public Answer<ShareStatus> status(URI agent) {
    return call(HttpRequest.newBuilder(agent.resolve("/status")).timeout(TIMEOUT).GET().build(), body -> {
      try {
        return ShareStatus.decode(body.getBytes(StandardCharsets.UTF_8), "the share agent's status");
      } catch (IOException e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
    });
  }

  /** Moves a stopped VM's disks to the newest generation; answers the volumes it left behind. */
  public Answer<List<String>> rebase(URI agent, String vm) {
    return call(post(agent, "/rebase?vm=" + URLEncoder.encode(vm, StandardCharsets.UTF_8)),
        body -> body.lines().filter(l -> !l.isBlank()).toList());
  }

  /** Lets the agent forget (and delete) a retired disk no VM uses. */
  public Answer<String> release(URI agent, String volume) {
    return call(post(agent, "/release?volume=" + URLEncoder.encode(volume, StandardCharsets.UTF_8)), body -> body);
  }

  /**
   * Asks the agent to delete the share from the store: it stops, sends what waits, removes the
   * share's volumes and objects. abandon: delete even with changes the cloud has not got.
   */
  public Deletion delete(URI agent, boolean abandon) {
    HttpRequest request = HttpRequest.newBuilder(agent.resolve("/delete" + (abandon ? "?abandon=true" : "")))
        .timeout(DELETE_TIMEOUT).POST(HttpRequest.BodyPublishers.noBody()).build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      String body = response.body().strip();
      return switch (response.statusCode()) {
        case 200, 410 -> new Deletion(DeleteOutcome.DELETED, 0, body);
        case 409 -> new Deletion(DeleteOutcome.PENDING, response.headers().firstValue(PENDING_HEADER)
            .map(Long::parseLong).orElse(0L), body);
        default -> new Deletion(DeleteOutcome.FAILED, 0, "the share agent answered " + response.statusCode() + ": "
            + body);
      };
    } catch (IOException | RuntimeException e) {
      return new Deletion(DeleteOutcome.NOT_ANSWERING, 0, "the share agent at " + request.uri().getHost()
          + " did not answer: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Deletion(DeleteOutcome.NOT_ANSWERING, 0, "interrupted");
    }
  }

  private static HttpRequest post(URI agent, String path) {
    return HttpRequest.newBuilder(agent.resolve(path)).timeout(TIMEOUT).POST(HttpRequest.BodyPublishers.noBody())
        .build();
  }

  private <T> Answer<T> call(HttpRequest request, java.util.function.Function<String, T> parse) {
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      if (response.statusCode() != 200) {
        return Answer.failed("the share agent answered " + response.statusCode() + ": " + response.body().strip());
      }
      return Answer.of(parse.apply(response.body()));
    } catch (IOException | RuntimeException e) {
      return Answer.failed("the share agent at " + request.uri().getHost() + " did not answer: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Answer.failed("interrupted");
    }
  }

  private static Optional<Integer> port(Pod pod) {
    return pod.getSpec() == null ? Optional.empty() : pod.getSpec().getContainers().stream()
        .map(Container::getPorts).filter(Objects::nonNull).flatMap(List::stream)
        .filter(p -> "http".equals(p.getName()) && p.getContainerPort() != null)
        .map(ContainerPort::getContainerPort).findFirst();
  }

  private static URI uri(String ip, int port) {
    return URI.create("http://" + (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + port + "/");
  }
}
