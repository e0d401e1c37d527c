package dev.remap.engine.share;

import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A share's VM views in the store ({@code shares/ID/vms/KEY.view}, one per VM disk), read once and
 * kept in step with every change this class makes: the share's agent is their only writer (one
 * agent per share), so its copy stays true and a round costs no store request for them. A
 * read-only share's VMs all use the group's base disk, so their keys add the VM.
 *
 * <p>Not thread-safe: the agent calls it from its synchronized methods only.
 */
final class ShareViews {

  private final ObjectStore store;
  private final String prefix;
  private final boolean readOnly;
  /** The views by key; null until first read. */
  private Map<String, VmView> cache;

  ShareViews(ObjectStore store, String shareId, boolean readOnly) {
    this.store = store;
    this.prefix = "shares/" + shareId + "/vms/";
    this.readOnly = readOnly;
  }

  List<VmView> all() throws IOException {
    if (cache == null) {
      Map<String, VmView> loaded = new TreeMap<>();
      for (ObjectInfo info : store.list(prefix)) {
        loaded.put(info.key(), VmView.decode(store.get(info.key()), info.key()));
      }
      cache = loaded;
    }
    return new ArrayList<>(cache.values());
  }

  void save(VmView view) throws IOException {
    store.put(key(view), ByteBuffer.wrap(view.encode()));
    if (cache != null) {
      cache.put(key(view), view);
    }
  }

  void delete(VmView view) throws IOException {
    store.delete(key(view));
    if (cache != null) {
      cache.remove(key(view));
    }
  }

  /**
   * Moves each view's known version of a file over the changes the share made for that VM: a
   * record that replaced the version the view knows (or created a file the view knows without a
   * version yet) gives the view its new version. Applying the same records again changes nothing.
   */
  void advance(List<Outbox.Applied> applied) throws IOException {
    if (applied.isEmpty()) {
      return;
    }
    for (VmView view : all()) {
      List<VmView.Known> files = new ArrayList<>(view.files());
      boolean changed = false;
      for (Outbox.Applied record : applied) {
        if (!record.vm().equals(view.vm()) || record.etag().isEmpty()) {
          continue;
        }
        for (int i = 0; i < files.size(); i++) {
          VmView.Known known = files.get(i);
          boolean follows = known.cloudName().equals(record.cloudName())
              && (record.previous() == null ? known.etag().isEmpty() : record.previous().equals(known.etag()));
          if (follows) {
            files.set(i, new VmView.Known(known.path(), known.cloudName(), record.etag(), known.content(),
                known.fingerprint()));
            changed = true;
          }
        }
      }
      if (changed) {
        save(new VmView(view.vm(), view.group(), view.volume(), view.generation(), view.size(), view.syncs(),
            view.lastSegment(), view.retired(), files));
      }
    }
  }

  private String key(VmView view) {
    return prefix + view.volume() + (readOnly ? "." + hash(view.vm()).substring(0, 12) : "") + ".view";
  }

  static String hash(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
