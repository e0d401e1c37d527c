package dev.remap.api.swap;

import dev.remap.api.RemapApi;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A swap disk for a VM whose blocks live in pages of a host memory pool and spill to a slower
 * tier (seed 000). The operator makes it a static PersistentVolume and a PVC attached to the VM;
 * the node serving the VM holds its pages (docs/OPERATOR.md, docs/SWAP.md).
 */
@Group(RemapApi.GROUP)
@Version(RemapApi.VERSION)
@ShortNames({"vmswap", "vmswaps"})
@AdditionalPrinterColumn(name = "VM", jsonPath = ".spec.vmName", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Size", jsonPath = ".spec.size", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Memory Limit", jsonPath = ".spec.memoryLimit", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Resident", jsonPath = ".status.residentBytes", type = AdditionalPrinterColumn.Type.INTEGER,
    priority = 1)
@AdditionalPrinterColumn(name = "Spilled", jsonPath = ".status.spilledBytes", type = AdditionalPrinterColumn.Type.INTEGER,
    priority = 1)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class VmMemorySwap extends CustomResource<VmMemorySwapSpec, VmMemorySwapStatus> implements Namespaced {
  public static final String KIND = "VmMemorySwap";
}
