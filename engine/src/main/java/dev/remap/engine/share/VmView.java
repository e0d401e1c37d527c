package dev.remap.engine.share;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What the share knows of one VM's copy of a group's disk as of its last sync: the generation it
 * was cloned from and, for each file, its cloud name and version, its content and its
 * {@link VmChanges#fingerprint}. The next sync compares the disk's mapping against it, so a
 * file already sent is not sent again; lastSegment is the volume's newest segment at that sync, so
 * a disk with no newer segment is known unchanged without a snapshot (one LIST). A retired view's
 * VM has moved to a newer generation's disk; the old disk is still synced until it is released
 * (the VM may have started on it before its spec moved). Kept in the store at {@code shares/ID/vms/VOLUME.view},
 * replaced whole after each sync whose changes are safely in the outbox.
 */
public record VmView(String vm, String group, String volume, long generation, long size, long syncs,
    String lastSegment, boolean retired, List<Known> files) {

  private static final String MAGIC = "remap-share-vm-view 1";

  public VmView {
    files = List.copyOf(files);
  }

  /** A file as last synced: where it is on the disk, in the cloud, what it holds and where it lived. */
  public record Known(List<String> path, String cloudName, String etag, ContentStore.Content content, String fingerprint) {
    public Known {
      path = List.copyOf(path);
    }
  }

  /** The same view, retired. */
  public VmView retire() {
    return new VmView(vm, group, volume, generation, size, syncs, lastSegment, true, files);
  }

  public byte[] encode() {
    StringBuilder out = new StringBuilder(MAGIC).append('\n');
    out.append("vm ").append(Generation.enc(vm)).append(' ').append(Generation.enc(group)).append(' ').append(volume)
        .append(' ').append(generation).append(' ').append(size).append(' ').append(syncs).append(' ').append(Generation.enc(lastSegment))
        .append(' ').append(retired).append('\n');
    for (Known file : files) {
      out.append("file ").append(Generation.enc(String.join("/", file.path()))).append(' ')
          .append(Generation.enc(file.cloudName())).append(' ').append(Generation.enc(file.etag())).append(' ')
          .append(file.content().sha256()).append(' ').append(file.content().size()).append(' ')
          .append(file.fingerprint()).append('\n');
    }
    out.append("end\n");
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  public static VmView decode(byte[] bytes, String what) throws IOException {
    String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n");
    if (lines.length < 3 || !lines[0].equals(MAGIC) || !lines[lines.length - 1].equals("end")) {
      throw new IOException(what + " is not a whole VM view");
    }
    try {
      String[] head = lines[1].split(" ");
      List<Known> files = new ArrayList<>();
      for (int i = 2; i < lines.length - 1; i++) {
        String[] f = lines[i].split(" ");
        files.add(new Known(ShareSplit.path(Generation.dec(f[1])), Generation.dec(f[2]), Generation.dec(f[3]),
            new ContentStore.Content(f[4], Long.parseLong(f[5])), f[6]));
      }
      return new VmView(Generation.dec(head[1]), Generation.dec(head[2]), head[3], Long.parseLong(head[4]),
          Long.parseLong(head[5]), Long.parseLong(head[6]), Generation.dec(head[7]), Boolean.parseBoolean(head[8]), files);
    } catch (RuntimeException e) {
      throw new IOException(what + " is damaged: " + e.getMessage(), e);
    }
  }
}
