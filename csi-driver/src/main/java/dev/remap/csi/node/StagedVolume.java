package dev.remap.csi.node;

import dev.remap.engine.swap.SwapSpec;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * What the node plugin did for one staged volume, enough to undo it and to redo it after a
 * restart: where it is staged, how (block or a filesystem of fsType), the attachment, every
 * target it is published at (with its read-only flag), the cache sizes its class asked for, and,
 * for a swap volume, the swap disk it is (a swap volume is not in the store: the record is what
 * tells it apart, and what a restarted plugin makes its disk again from). Immutable; changes make
 * a new record.
 */
record StagedVolume(String volume, Path stagingPath, boolean block, String fsType, boolean readOnly,
    String accessMode, LoopAttacher.Attachment attachment, Map<Path, Boolean> targets, CacheSizes caches,
    Optional<SwapSpec> swap) {

  StagedVolume {
    targets = Map.copyOf(targets);
  }

  /** A volume of the store. */
  StagedVolume(String volume, Path stagingPath, boolean block, String fsType, boolean readOnly,
      String accessMode, LoopAttacher.Attachment attachment, Map<Path, Boolean> targets, CacheSizes caches) {
    this(volume, stagingPath, block, fsType, readOnly, accessMode, attachment, targets, caches, Optional.empty());
  }

  StagedVolume(String volume, Path stagingPath, boolean block, String fsType, boolean readOnly,
      String accessMode, LoopAttacher.Attachment attachment, Map<Path, Boolean> targets) {
    this(volume, stagingPath, block, fsType, readOnly, accessMode, attachment, targets, CacheSizes.NONE);
  }

  StagedVolume withTarget(Path target, boolean targetReadOnly) {
    Map<Path, Boolean> more = new TreeMap<>(targets);
    more.put(target, targetReadOnly);
    return new StagedVolume(volume, stagingPath, block, fsType, readOnly, accessMode, attachment, more, caches,
        swap);
  }

  StagedVolume withoutTarget(Path target) {
    Map<Path, Boolean> fewer = new TreeMap<>(targets);
    fewer.remove(target);
    return new StagedVolume(volume, stagingPath, block, fsType, readOnly, accessMode, attachment, fewer, caches,
        swap);
  }

  StagedVolume withAttachment(LoopAttacher.Attachment fresh) {
    return new StagedVolume(volume, stagingPath, block, fsType, readOnly, accessMode, fresh, targets, caches, swap);
  }

  String encode() {
    Properties p = new Properties();
    p.setProperty("volume", volume);
    p.setProperty("stagingPath", stagingPath.toString());
    p.setProperty("block", Boolean.toString(block));
    p.setProperty("fsType", fsType);
    p.setProperty("readOnly", Boolean.toString(readOnly));
    p.setProperty("accessMode", accessMode);
    p.setProperty("attachMethod", attachment.method().name());
    p.setProperty("device", attachment.device());
    p.setProperty("attachDir", attachment.dir().toString());
    p.setProperty("helperPid", Long.toString(attachment.helperPid()));
    p.setProperty("backing", attachment.backing());
    caches.store(p);
    swap.ifPresent(spec -> SwapAttributes.store(spec, p));
    int i = 0;
    for (Map.Entry<Path, Boolean> target : new TreeMap<>(targets).entrySet()) {
      p.setProperty("target." + i + ".path", target.getKey().toString());
      p.setProperty("target." + i + ".readOnly", target.getValue().toString());
      i++;
    }
    StringWriter out = new StringWriter();
    try {
      p.store(out, "Remap CSI node: a staged volume");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toString();
  }

  static StagedVolume decode(String text, String what) throws IOException {
    Properties p = new Properties();
    p.load(new StringReader(text));
    try {
      Map<Path, Boolean> targets = new TreeMap<>();
      for (int i = 0; p.getProperty("target." + i + ".path") != null; i++) {
        targets.put(Path.of(p.getProperty("target." + i + ".path")),
            Boolean.parseBoolean(p.getProperty("target." + i + ".readOnly")));
      }
      String volume = required(p, "volume");
      return new StagedVolume(volume, Path.of(required(p, "stagingPath")),
          Boolean.parseBoolean(required(p, "block")), required(p, "fsType"),
          Boolean.parseBoolean(required(p, "readOnly")), required(p, "accessMode"),
          attachment(p),
          targets,
          CacheSizes.load(p),
          SwapAttributes.load(volume, p));
    } catch (RuntimeException e) {
      throw new IOException(what + " is not a valid staged-volume record: " + e.getMessage(), e);
    }
  }

  private static LoopAttacher.Attachment attachment(Properties p) {
    if (p.getProperty("attachMethod") == null) { // written before the kernel client path: nbdfuse
      return new LoopAttacher.Attachment(required(p, "device"), Path.of(required(p, "fuseDir")),
          Long.parseLong(required(p, "nbdfusePid")));
    }
    return new LoopAttacher.Attachment(AttachMethod.valueOf(required(p, "attachMethod")), required(p, "device"),
        Path.of(required(p, "attachDir")), Long.parseLong(required(p, "helperPid")), required(p, "backing"));
  }

  private static String required(Properties p, String key) {
    String value = p.getProperty(key);
    if (value == null) {
      throw new IllegalArgumentException("'" + key + "' is missing");
    }
    return value;
  }
}
