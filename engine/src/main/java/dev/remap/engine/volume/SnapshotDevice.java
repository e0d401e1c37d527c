package dev.remap.engine.volume;

import dev.remap.engine.block.BlockDevice;
import dev.remap.engine.cache.ObjectReader;
import dev.remap.engine.core.MappingTable;
import dev.remap.engine.core.Source;
import dev.remap.engine.core.Span;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A snapshot served read-only: its mapping never changes and only references immutable store
 * objects, so reads need no lock and any number of readers may share it. Changes are refused.
 */
public final class SnapshotDevice implements BlockDevice {

  private final String name;
  private final MappingTable table;
  private final ObjectReader reader;

  SnapshotDevice(String name, MappingTable table, ObjectReader reader) {
    this.name = name;
    this.table = table;
    this.reader = reader;
  }

  public String name() {
    return name;
  }

  /** The snapshot's mapping (a copy sharing the immutable chunk references): what it holds where. */
  public MappingTable mapping() {
    return table.copy();
  }

  @Override
  public long size() {
    return table.geometry().size();
  }

  @Override
  public int blockSize() {
    return table.geometry().blockSize();
  }

  @Override
  public boolean isReadOnly() {
    return true;
  }

  @Override
  public void read(long offset, ByteBuffer dst) throws IOException {
    int length = dst.remaining();
    check(offset, length);
    if (length == 0) {
      return;
    }
    int base = dst.position();
    for (Span span : table.resolve(offset, length)) {
      ByteBuffer part = dst.duplicate();
      part.position(base + (int) (span.offset() - offset)).limit(base + (int) (span.end() - offset));
      if (span.source() instanceof Source.Stored s) {
        reader.readFully(s.key(), s.offset(), part.slice());
      } else {
        part.put(new byte[part.remaining()]);
      }
    }
    dst.position(base + length);
  }

  @Override
  public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
    throw readOnly();
  }

  @Override
  public void trim(long offset, long length, boolean fua) throws IOException {
    throw readOnly();
  }

  @Override
  public void writeZeroes(long offset, long length, boolean noHole, boolean fua) throws IOException {
    throw readOnly();
  }

  @Override
  public void flush() {
    // Nothing is ever written: nothing to make durable.
  }

  @Override
  public List<Extent> extents(long offset, long length) {
    check(offset, length);
    List<Extent> out = new ArrayList<>();
    for (Span span : table.resolve(offset, length)) {
      boolean hole = span.source() instanceof Source.Hole;
      boolean zero = hole || span.source() instanceof Source.Zero;
      out.add(new Extent(span.offset(), span.length(), hole, zero));
    }
    return out;
  }

  @Override
  public void close() {
    // Holds no resources beyond memory.
  }

  private IOException readOnly() {
    return dev.remap.engine.block.DeviceException.readOnly("snapshot " + name + " is read-only");
  }

  private void check(long offset, long length) {
    if (offset < 0 || length < 0 || offset + length > size()) {
      throw new IllegalArgumentException("range offset=" + offset + " length=" + length
          + " is outside snapshot " + name + " of size " + size());
    }
  }
}
