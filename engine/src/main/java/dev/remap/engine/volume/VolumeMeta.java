package dev.remap.engine.volume;

import dev.remap.engine.core.Geometry;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Properties;

/**
 * A volume's metadata object: its immutable id, its name and shape, when it was made, and what
 * it was made from (a snapshot for clones and imports), as a small properties text.
 */
public record VolumeMeta(String id, String name, Geometry geometry, Instant created, String origin) {

  public ByteBuffer encode() {
    Properties p = new Properties();
    p.setProperty("id", id);
    p.setProperty("name", name);
    p.setProperty("size", Long.toString(geometry.size()));
    p.setProperty("blockSize", Integer.toString(geometry.blockSize()));
    p.setProperty("chunkSize", Integer.toString(geometry.chunkSize()));
    p.setProperty("created", created.toString());
    if (origin != null) {
      p.setProperty("origin", origin);
    }
    StringWriter out = new StringWriter();
    try {
      p.store(out, "Remap volume");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ByteBuffer.wrap(out.toString().getBytes(StandardCharsets.UTF_8));
  }

  public static VolumeMeta decode(byte[] bytes, String what) throws IOException {
    Properties p = new Properties();
    p.load(new StringReader(new String(bytes, StandardCharsets.UTF_8)));
    try {
      return new VolumeMeta(
          required(p, "id", what),
          required(p, "name", what),
          new Geometry(Long.parseLong(required(p, "size", what)),
              Integer.parseInt(required(p, "blockSize", what)),
              Integer.parseInt(required(p, "chunkSize", what))),
          Instant.parse(required(p, "created", what)),
          p.getProperty("origin"));
    } catch (RuntimeException e) {
      throw new IOException(what + " is not valid volume metadata: " + e.getMessage(), e);
    }
  }

  public VolumeMeta withSize(long size) {
    return new VolumeMeta(id, name, geometry.resize(size), created, origin);
  }

  private static String required(Properties p, String key, String what) throws IOException {
    String value = p.getProperty(key);
    if (value == null) {
      throw new IOException(what + " lacks '" + key + "'");
    }
    return value;
  }
}
