package dev.remap.operator.status;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ThreadLocalRandom;
import org.jboss.logging.Logger;

/**
 * Records core/v1 Events on Remap resources, so `kubectl describe` tells the story. Called only
 * when a condition's reason changes, which keeps the event stream short. A failure to record an
 * event is logged and never fails a reconcile: events are a courtesy, the status is the truth.
 */
public final class EventRecorder {

  private static final Logger LOG = Logger.getLogger(EventRecorder.class);
  public static final String COMPONENT = "remap-operator";

  private EventRecorder() {}

  public static void record(KubernetesClient client, HasMetadata object, boolean warning, String reason, String message) {
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    try {
      client.v1().events().inNamespace(object.getMetadata().getNamespace()).resource(new EventBuilder()
          .withNewMetadata()
          .withName(object.getMetadata().getName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()))
          .withNamespace(object.getMetadata().getNamespace())
          .endMetadata()
          .withInvolvedObject(new ObjectReferenceBuilder()
              .withApiVersion(object.getApiVersion()).withKind(object.getKind())
              .withName(object.getMetadata().getName()).withNamespace(object.getMetadata().getNamespace())
              .withUid(object.getMetadata().getUid()).withResourceVersion(object.getMetadata().getResourceVersion())
              .build())
          .withType(warning ? "Warning" : "Normal")
          .withReason(reason)
          .withMessage(message)
          .withFirstTimestamp(now)
          .withLastTimestamp(now)
          .withCount(1)
          .withNewSource().withComponent(COMPONENT).endSource()
          .withReportingComponent(COMPONENT)
          .build()).create();
    } catch (KubernetesClientException e) {
      LOG.warnf("could not record event %s on %s/%s: %s", reason, object.getMetadata().getNamespace(),
          object.getMetadata().getName(), e.getMessage());
    }
  }
}
