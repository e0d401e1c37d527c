package dev.remap.operator.transfer;

import dev.remap.api.disk.ImportSource;
import dev.remap.api.disk.VirtualDisk;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.SnapshotTransfer;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeMeta;
import dev.remap.operator.disk.DiskNames;
import dev.remap.operator.disk.PvcModel;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.storage.StorageClass;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;

/**
 * Carries out spec.source.import: the export in the named store becomes a volume of Remap's
 * store (SnapshotTransfer copies its objects and writes the volume's metadata last, so a volume
 * that exists is complete), grown to spec.size when the export is smaller, and a
 * PersistentVolume bound in advance to the disk's PVC makes it the disk. Idempotent: each step
 * is skipped when its result exists, so a restart anywhere converges.
 */
public final class SnapshotImporter {

  private static final String DEFAULT_DRIVER = "csi.remap.dev";

  private final KubernetesClient client;
  private final VolumeManager volumes;

  public SnapshotImporter(KubernetesClient client, VolumeManager volumes) {
    this.client = client;
    this.volumes = volumes;
  }

  /** Makes the disk's imported volume and its PersistentVolume, when they are not there yet. */
  public void ensure(VirtualDisk disk) {
    String name = DiskNames.imported(disk);
    if (client.persistentVolumes().withName(name).get() != null) {
      return;
    }
    ImportSource source = disk.getSpec().source.importFrom;
    long wanted = Quantity.getAmountInBytes(new Quantity(disk.getSpec().size)).longValueExact();
    try {
      Optional<VolumeMeta> existing = volumes.find(name);
      VolumeMeta meta;
      if (existing.isPresent()) {
        meta = existing.get();
      } else {
        try (ObjectStore from = UserStores.open(client, disk.getMetadata().getNamespace(), source.storeUri,
            source.endpoint, source.secretRef, "spec.source.import")) {
          meta = SnapshotTransfer.importVolume(from, volumes, name);
        }
      }
      long size = meta.geometry().size();
      if (size > wanted) {
        throw new IllegalStateException("the export in " + source.storeUri + " is " + size + " bytes, more than "
            + "spec.size (" + disk.getSpec().size + "): give the disk at least that size");
      }
      if (size < wanted) {
        volumes.resize(name, wanted);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("importing " + source.storeUri + " failed: " + e.getMessage(), e);
    }
    StorageClass storageClass = client.storage().v1().storageClasses().withName(disk.getSpec().storageClassName).get();
    String driver = storageClass != null ? storageClass.getProvisioner() : DEFAULT_DRIVER;
    client.persistentVolumes().resource(PvcModel.importedVolume(disk, driver)).create();
  }
}
