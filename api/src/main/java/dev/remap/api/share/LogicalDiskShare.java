package dev.remap.api.share;

import dev.remap.api.RemapApi;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * Files of a cloud disk (an S3 bucket/prefix) turned into logical disks shared by VMs (seed 004):
 * docs/SHARE.md.
 */
@Group(RemapApi.GROUP)
@Version(RemapApi.VERSION)
@ShortNames({"lds", "diskshare"})
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Connected", jsonPath = ".status.connected", type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(name = "Disks", jsonPath = ".status.diskCount", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "VMs", jsonPath = ".status.vmCount", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Pending", jsonPath = ".status.pendingUploads", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Last Sync", jsonPath = ".status.lastSync", type = AdditionalPrinterColumn.Type.DATE)
@AdditionalPrinterColumn(name = "Bucket", jsonPath = ".spec.cloud.bucket", type = AdditionalPrinterColumn.Type.STRING,
    priority = 1)
@AdditionalPrinterColumn(name = "Generation", jsonPath = ".status.generation", type = AdditionalPrinterColumn.Type.INTEGER,
    priority = 1)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class LogicalDiskShare extends CustomResource<LogicalDiskShareSpec, LogicalDiskShareStatus> implements Namespaced {
  public static final String KIND = "LogicalDiskShare";
}
