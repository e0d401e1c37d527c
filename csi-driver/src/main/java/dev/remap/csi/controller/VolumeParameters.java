package dev.remap.csi.controller;

import dev.remap.csi.server.Rpc;
import dev.remap.engine.core.Geometry;
import dev.remap.engine.core.Sizes;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;

/**
 * The StorageClass parameters of a CreateVolume, parsed and checked (pure). Unknown keys are an
 * error naming the key (a typo must not silently give a default), except the keys the Kubernetes
 * external-provisioner adds itself (csi.storage.k8s.io/*).
 *
 * @param store the store the volume must live in, if the class names one (this driver serves one store)
 * @param blockSize the logical block size (512 or 4096), if given
 * @param chunkSize the chunk size (power of two, 64K..64M), if given
 * @param ramCacheSize the RAM cache size the node gives the volume, if given
 * @param diskCacheSize the local-disk cache size the node gives the volume, if given
 */
public record VolumeParameters(String store, OptionalInt blockSize, OptionalInt chunkSize,
    OptionalLong ramCacheSize, OptionalLong diskCacheSize) {

  public static final String STORE = "store";
  public static final String BLOCK_SIZE = "blockSize";
  public static final String CHUNK_SIZE = "chunkSize";
  public static final String RAM_CACHE = "ramCacheSize";
  public static final String DISK_CACHE = "diskCacheSize";
  private static final Set<String> KNOWN = Set.of(STORE, BLOCK_SIZE, CHUNK_SIZE, RAM_CACHE, DISK_CACHE);

  public static VolumeParameters parse(Map<String, String> parameters) {
    for (String key : parameters.keySet()) {
      if (!KNOWN.contains(key) && !key.startsWith("csi.storage.k8s.io/")) {
        throw Rpc.invalid("parameters: unknown parameter '" + key + "'; known are "
            + KNOWN.stream().sorted().toList());
      }
    }
    OptionalInt block = asInt(optionalSize(parameters, BLOCK_SIZE));
    OptionalInt chunk = asInt(optionalSize(parameters, CHUNK_SIZE));
    if (block.isPresent() && block.getAsInt() != 512 && block.getAsInt() != 4096) {
      throw Rpc.invalid("parameter " + BLOCK_SIZE + " must be 512 or 4096, not " + parameters.get(BLOCK_SIZE));
    }
    if (chunk.isPresent()) {
      int c = chunk.getAsInt();
      if (Integer.bitCount(c) != 1 || c < Geometry.MIN_CHUNK_SIZE || c > Geometry.MAX_CHUNK_SIZE) {
        throw Rpc.invalid("parameter " + CHUNK_SIZE + " must be a power of two from 64K to 64M, not "
            + parameters.get(CHUNK_SIZE));
      }
    }
    return new VolumeParameters(parameters.get(STORE), block, chunk,
        optionalSize(parameters, RAM_CACHE), optionalSize(parameters, DISK_CACHE));
  }

  private static OptionalInt asInt(OptionalLong size) {
    return size.isPresent() ? OptionalInt.of((int) size.getAsLong()) : OptionalInt.empty();
  }

  private static OptionalLong optionalSize(Map<String, String> parameters, String key) {
    String text = parameters.get(key);
    if (text == null) {
      return OptionalLong.empty();
    }
    try {
      long size = Sizes.parse(text);
      if (size < 0 || (!key.endsWith("CacheSize") && size > Integer.MAX_VALUE)) {
        throw new IllegalArgumentException("out of range");
      }
      return OptionalLong.of(size);
    } catch (IllegalArgumentException e) {
      throw Rpc.invalid("parameter " + key + " '" + text + "' is not a size (e.g. 4096, 64K, 1M, 2G)");
    }
  }

  public int blockSizeOrDefault() {
    return blockSize.orElse(Geometry.DEFAULT_BLOCK_SIZE);
  }

  public int chunkSizeOrDefault() {
    return chunkSize.orElse(Geometry.DEFAULT_CHUNK_SIZE);
  }

  /** What the node needs from the parameters, as the volume context handed to NodeStageVolume. */
  public Map<String, String> nodeContext() {
    Map<String, String> context = new TreeMap<>();
    ramCacheSize.ifPresent(size -> context.put(RAM_CACHE, Long.toString(size)));
    diskCacheSize.ifPresent(size -> context.put(DISK_CACHE, Long.toString(size)));
    return context;
  }
}
