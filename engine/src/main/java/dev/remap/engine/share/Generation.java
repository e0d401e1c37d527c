package dev.remap.engine.share;

import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A base generation of a share: for each group, the disk built for it and what it holds. The
 * share keeps it in the store ({@code shares/ID/generations/N.gen}, immutable once written): it is
 * what the next pull compares the cloud with (unchanged files are remapped, never fetched again),
 * what a push compares a VM's disk with, and the versions (ETags) that conditional uploads expect.
 * Names are the user's (any characters), so the text format percent-encodes them.
 */
public record Generation(String share, long number, Instant created, List<Group> groups, List<Skipped> unplaced) {

  private static final String MAGIC = "remap-share-generation 1";

  public Generation {
    groups = List.copyOf(groups);
    unplaced = List.copyOf(unplaced);
  }

  /** One group's disk: its volume, its files and the files left out with why. */
  public record Group(String name, String volume, long size, long metadataBytes, List<File> files, List<Skipped> skipped) {
    public Group {
      files = List.copyOf(files);
      skipped = List.copyOf(skipped);
    }

    public long fileBytes() {
      return files.stream().mapToLong(f -> f.content().size()).sum();
    }
  }

  /** A file on a group's disk: its cloud name and version, its content, its path on the disk. */
  public record File(String cloudName, String etag, Instant modified, ContentStore.Content content, List<String> path) {
    public File {
      path = List.copyOf(path);
    }
  }

  /** A cloud file not on the disk, and why (a sentence naming it). */
  public record Skipped(String cloudName, String reason) {}

  public Group group(String name) {
    return groups.stream().filter(g -> g.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("generation " + number + " of share " + share + " has no group " + name));
  }

  public byte[] encode() {
    StringBuilder out = new StringBuilder(MAGIC).append('\n');
    out.append("share ").append(enc(share)).append(' ').append(number).append(' ').append(created).append('\n');
    for (Group group : groups) {
      out.append("group ").append(enc(group.name())).append(' ').append(group.volume()).append(' ').append(group.size())
          .append(' ').append(group.metadataBytes()).append('\n');
      for (File file : group.files()) {
        out.append("file ").append(enc(file.cloudName())).append(' ').append(enc(file.etag())).append(' ')
            .append(file.modified().toEpochMilli()).append(' ').append(file.content().sha256()).append(' ')
            .append(file.content().size()).append(' ').append(enc(String.join("/", file.path()))).append('\n');
      }
      for (Skipped skipped : group.skipped()) {
        out.append("skipped ").append(enc(skipped.cloudName())).append(' ').append(enc(skipped.reason())).append('\n');
      }
    }
    for (Skipped skipped : unplaced) {
      out.append("unplaced ").append(enc(skipped.cloudName())).append(' ').append(enc(skipped.reason())).append('\n');
    }
    out.append("end\n");
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  public static Generation decode(byte[] bytes, String what) throws IOException {
    String[] lines = new String(bytes, StandardCharsets.UTF_8).split("\n");
    if (lines.length < 3 || !lines[0].equals(MAGIC) || !lines[lines.length - 1].equals("end")) {
      throw new IOException(what + " is not a whole share generation");
    }
    try {
      String[] head = lines[1].split(" ");
      List<Group> groups = new ArrayList<>();
      String name = null;
      String volume = null;
      long size = 0;
      long metadata = 0;
      List<File> files = new ArrayList<>();
      List<Skipped> skipped = new ArrayList<>();
      List<Skipped> unplaced = new ArrayList<>();
      for (int i = 2; i < lines.length; i++) {
        String[] f = lines[i].split(" ");
        if ((f[0].equals("group") || f[0].equals("unplaced") || f[0].equals("end")) && name != null) {
          groups.add(new Group(name, volume, size, metadata, files, skipped));
          files = new ArrayList<>();
          skipped = new ArrayList<>();
          name = null;
        }
        switch (f[0]) {
          case "group" -> {
            name = dec(f[1]);
            volume = f[2];
            size = Long.parseLong(f[3]);
            metadata = Long.parseLong(f[4]);
          }
          case "file" -> files.add(new File(dec(f[1]), dec(f[2]), Instant.ofEpochMilli(Long.parseLong(f[3])),
              new ContentStore.Content(f[4], Long.parseLong(f[5])), ShareSplit.path(dec(f[6]))));
          case "skipped" -> skipped.add(new Skipped(dec(f[1]), dec(f[2])));
          case "unplaced" -> unplaced.add(new Skipped(dec(f[1]), dec(f[2])));
          case "end" -> { }
          default -> throw new IOException(what + " has an unknown line: " + f[0]);
        }
      }
      return new Generation(dec(head[1]), Long.parseLong(head[2]), Instant.parse(head[3]), groups, unplaced);
    } catch (RuntimeException e) {
      throw new IOException(what + " is damaged: " + e.getMessage(), e);
    }
  }

  static String enc(String text) {
    return text.isEmpty() ? "%" : URLEncoder.encode(text, StandardCharsets.UTF_8);
  }

  static String dec(String text) {
    return text.equals("%") ? "" : URLDecoder.decode(text, StandardCharsets.UTF_8);
  }
}
