package dev.remap.api.disk;

import dev.remap.api.RemapApi;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A disk for a KubeVirt VM, backed by a PVC of the Remap StorageClass. */
@Group(RemapApi.GROUP)
@Version(RemapApi.VERSION)
@ShortNames({"vd", "vdisk"})
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Size", jsonPath = ".spec.size", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "VM", jsonPath = ".spec.vm.name", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "PVC", jsonPath = ".status.pvcName", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Serial", jsonPath = ".status.serial", type = AdditionalPrinterColumn.Type.STRING, priority = 1)
@AdditionalPrinterColumn(name = "Stored", jsonPath = ".status.space.storedBytes", type = AdditionalPrinterColumn.Type.INTEGER,
    priority = 1)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class VirtualDisk extends CustomResource<VirtualDiskSpec, VirtualDiskStatus> implements Namespaced {
  public static final String KIND = "VirtualDisk";
}
