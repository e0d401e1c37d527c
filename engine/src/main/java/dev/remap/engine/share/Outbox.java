package dev.remap.engine.share;

import dev.remap.engine.store.NoSuchObjectException;
import dev.remap.engine.store.ObjectInfo;
import dev.remap.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The share's changes waiting to reach the cloud, and the ones that did (seed 004: while the host
 * is disconnected, wait, and send when the connection is back). Both live in Remap's store, so an
 * agent restart or a crash loses none:
 *
 * <ul>
 *   <li>{@code shares/ID/outbox/SEQ.ops}: a batch of changes from one sync of one VM, written
 *       whole before that VM's view moves on; rewritten without each change once it is applied,
 *       deleted when empty. Batches are applied in order.
 *   <li>{@code shares/ID/applied/SEQ.up}: a change the share made in the cloud (its name, the new
 *       version, the content): the next pull knows these bytes without fetching them and does not
 *       count them as the cloud's own changes (seed 004: "determine whether the changed cloud disk
 *       data is uploaded from the physical host"). Deleted once a generation holds them.
 * </ul>
 * A change applied just before a crash and not yet removed from its batch is applied again; the
 * applier recognises its own bytes already in the cloud (by content hash) and does not duplicate
 * them. Threads: one agent per share; not thread-safe.
 */
public final class Outbox {

  private static final String MAGIC = "remap-share-ops 1";

  /** A change to make in the cloud. expected: the version it must still have (null: must not exist). */
  public record Op(String vm, String group, Kind kind, String cloudName, ContentStore.Content content, String expected,
      Instant staged) {}

  public enum Kind { PUT, DELETE }

  /** A batch in the outbox: its key and its remaining changes. */
  public record Batch(String key, List<Op> ops) {
    public Batch {
      ops = List.copyOf(ops);
    }
  }

  /**
   * A change the share made for VM vm: the file's name, the version it replaced (null: none), its
   * version after the change ("" for a delete) and its content (null for a delete).
   */
  public record Applied(String key, String vm, String cloudName, String previous, String etag,
      ContentStore.Content content) {}

  private final ObjectStore store;
  private final String outbox;
  private final String applied;

  public Outbox(ObjectStore store, String shareId) {
    this.store = store;
    this.outbox = "shares/" + shareId + "/outbox/";
    this.applied = "shares/" + shareId + "/applied/";
  }

  /** Adds a batch (nothing for an empty one); durable when this returns. */
  public void stage(List<Op> ops) throws IOException {
    if (ops.isEmpty()) {
      return;
    }
    String key = outbox + next(outbox) + ".ops";
    if (!store.putIfAbsent(key, encode(ops))) {
      throw new IOException("outbox batch " + key + " already exists: is a second agent running for this share?");
    }
  }

  /** The batches waiting, oldest first. */
  public List<Batch> pending() throws IOException {
    List<Batch> out = new ArrayList<>();
    for (ObjectInfo info : store.list(outbox)) {
      try {
        out.add(new Batch(info.key(), decode(store.get(info.key()), info.key())));
      } catch (NoSuchObjectException e) {
        // Emptied and deleted since the listing.
      }
    }
    return out;
  }

  /** Number of changes waiting. */
  public long size() throws IOException {
    long count = 0;
    for (Batch batch : pending()) {
      count += batch.ops().size();
    }
    return count;
  }

  /** Records that the first change of batch was applied (as record, if it changed the cloud) and removes it. */
  public void applied(Batch batch, Applied record) throws IOException {
    if (record != null) {
      String key = applied + next(applied) + ".up";
      String text = Generation.enc(record.vm()) + ' ' + Generation.enc(record.cloudName()) + ' '
          + (record.previous() == null ? "~"
          : Generation.enc(record.previous())) + ' ' + Generation.enc(record.etag()) + ' '
          + (record.content() == null ? "~" : record.content().sha256()) + ' '
          + (record.content() == null ? 0 : record.content().size()) + '\n';
      store.put(key, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }
    List<Op> rest = batch.ops().subList(1, batch.ops().size());
    if (rest.isEmpty()) {
      store.delete(batch.key());
    } else {
      store.put(batch.key(), encode(rest));
    }
  }

  /** The changes the share made in the cloud that no generation holds yet. */
  public List<Applied> appliedChanges() throws IOException {
    List<Applied> out = new ArrayList<>();
    for (ObjectInfo info : store.list(applied)) {
      String[] f;
      try {
        f = new String(store.get(info.key()), StandardCharsets.UTF_8).trim().split(" ");
      } catch (NoSuchObjectException e) {
        // Forgotten since the listing (a share collection reads another agent's records): a
        // generation holds it now.
        continue;
      }
      out.add(new Applied(info.key(), Generation.dec(f[0]), Generation.dec(f[1]),
          f[2].equals("~") ? null : Generation.dec(f[2]), Generation.dec(f[3]),
          f[4].equals("~") ? null : new ContentStore.Content(f[4], Long.parseLong(f[5]))));
    }
    return out;
  }

  /** Forgets applied changes a generation now holds. */
  public void forget(List<Applied> records) throws IOException {
    store.deleteAll(records.stream().map(Applied::key).toList());
  }

  private String next(String prefix) throws IOException {
    long last = 0;
    for (ObjectInfo info : store.list(prefix)) {
      String name = info.key().substring(prefix.length());
      last = Math.max(last, Long.parseLong(name.substring(0, name.indexOf('.'))));
    }
    return String.format("%016d", last + 1);
  }

  private static ByteBuffer encode(List<Op> ops) {
    StringBuilder out = new StringBuilder(MAGIC).append('\n');
    for (Op op : ops) {
      out.append(Generation.enc(op.vm())).append(' ').append(Generation.enc(op.group())).append(' ').append(op.kind())
          .append(' ').append(Generation.enc(op.cloudName())).append(' ')
          .append(op.content() == null ? "~" : op.content().sha256()).append(' ')
          .append(op.content() == null ? 0 : op.content().size()).append(' ')
          .append(op.expected() == null ? "~" : Generation.enc(op.expected())).append(' ').append(op.staged()).append('\n');
    }
    out.append("end\n");
    return ByteBuffer.wrap(out.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static List<Op> decode(byte[] bytes, String what) throws IOException {
    String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n");
    if (lines.length < 2 || !lines[0].equals(MAGIC) || !lines[lines.length - 1].equals("end")) {
      throw new IOException(what + " is not a whole outbox batch");
    }
    List<Op> ops = new ArrayList<>();
    for (int i = 1; i < lines.length - 1; i++) {
      String[] f = lines[i].split(" ");
      ops.add(new Op(Generation.dec(f[0]), Generation.dec(f[1]), Kind.valueOf(f[2]), Generation.dec(f[3]),
          f[4].equals("~") ? null : new ContentStore.Content(f[4], Long.parseLong(f[5])),
          f[6].equals("~") ? null : Generation.dec(f[6]), Instant.parse(f[7])));
    }
    return ops;
  }
}
