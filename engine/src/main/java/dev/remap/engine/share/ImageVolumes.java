package dev.remap.engine.share;

import dev.remap.engine.core.Geometry;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.Source;
import dev.remap.engine.share.image.BuiltImage;
import dev.remap.engine.store.ObjectStore;
import dev.remap.engine.volume.VolumeManager;
import dev.remap.engine.volume.VolumeMeta;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.UUID;

/**
 * Turns a laid-out image into a disk of the store by remapping (seed 004: a logical disk
 * "generated from the storage blocks the data occupies"): the image's metadata runs go into one
 * new object {@code shares/meta/UUID}, and the mapping points every file's blocks at the content
 * objects that already hold its bytes. The only bytes written are the metadata, the mapping and
 * the volume's record.
 */
public final class ImageVolumes {

  public static final String META_PREFIX = "shares/meta/";

  private ImageVolumes() {}

  /** The disk built and its mapping. */
  public record Built(VolumeMeta volume, MappingTable table) {}

  /**
   * The mapping of image: metadata at metaKey (its runs concatenated in order), file i's bytes in
   * contents.get(i). Pure.
   */
  public static MappingTable table(BuiltImage image, List<ContentStore.Content> contents, String metaKey) {
    MappingTable table = new MappingTable(new Geometry(image.size(), Geometry.DEFAULT_BLOCK_SIZE,
        Geometry.DEFAULT_CHUNK_SIZE));
    long metaOffset = 0;
    for (BuiltImage.Written written : image.metadata()) {
      table.put(written.offset(), written.bytes().length, new Source.Stored(metaKey, metaOffset));
      metaOffset += written.bytes().length;
    }
    for (BuiltImage.Placement placement : image.placements()) {
      ContentStore.Content content = contents.get(placement.file());
      long done = 0;
      while (done < placement.length()) {
        // A placement may cross from one content part to the next: one span per part.
        long fileOffset = placement.fileOffset() + done;
        long inPart = fileOffset % ContentStore.PART_SIZE;
        long length = Math.min(placement.length() - done, ContentStore.PART_SIZE - inPart);
        table.put(placement.imageOffset() + done, length, new Source.Stored(content.keyAt(fileOffset), inPart));
        done += length;
      }
    }
    return table;
  }

  /** Writes image's metadata and creates volume name mapped onto it and the contents. */
  public static Built create(VolumeManager manager, String name, BuiltImage image,
      List<ContentStore.Content> contents, String origin) throws IOException {
    ObjectStore store = manager.store();
    String metaKey = META_PREFIX + UUID.randomUUID();
    ByteBuffer meta = ByteBuffer.allocate(Math.toIntExact(image.metadataBytes()));
    for (BuiltImage.Written written : image.metadata()) {
      meta.put(written.bytes());
    }
    meta.flip();
    store.put(metaKey, meta);
    MappingTable table = table(image, contents, metaKey);
    VolumeMeta volume = manager.createFrom(name, table, origin);
    return new Built(volume, table);
  }
}
