package dev.remap.engine.share.image;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The folders and files an ext4 image will hold, with the files it cannot hold set apart: a name
 * longer than ext4's 255 bytes (UTF-8) anywhere in the path, a path that runs through a file,
 * a path already taken, or a path in lost+found (e2fsck's own folder).
 */
final class Ext4Tree {

  static final int MAX_NAME = 255;
  static final String LOST_AND_FOUND = "lost+found";

  /** A folder or file of the image; inode and the block runs are filled in by the builder. */
  static final class Node {
    final byte[] name;
    final Node parent;
    /** The file's index in the tree's files, or -1 for a folder. */
    final int file;
    final Map<String, Node> children = new LinkedHashMap<>();
    int inode;
    List<long[]> runs = List.of();

    Node(byte[] name, Node parent, int file) {
      this.name = name;
      this.parent = parent;
      this.file = file;
    }

    boolean isDirectory() {
      return file < 0;
    }

    int subdirectories() {
      int count = 0;
      for (Node child : children.values()) {
        count += child.isDirectory() ? 1 : 0;
      }
      return count;
    }
  }

  final Node root = new Node(new byte[0], null, -1);
  /** lost+found, made by the builder as e2fsck expects (inode 11, in the root). */
  final Node lostAndFound = new Node(LOST_AND_FOUND.getBytes(StandardCharsets.UTF_8), root, -1);
  final List<BuiltImage.Skipped> skipped = new ArrayList<>();

  private Ext4Tree() {
    root.children.put(LOST_AND_FOUND, lostAndFound);
  }

  /**
   * Files first, so a file wins over a listed folder of the same path (a folder cannot be
   * skipped with a reason: there is no file number to give it).
   */
  static Ext4Tree of(List<ImageFile> files, List<List<String>> directories) {
    Ext4Tree tree = new Ext4Tree();
    for (int i = 0; i < files.size(); i++) {
      String reason = tree.add(files.get(i).path(), i);
      if (reason != null) {
        tree.skipped.add(new BuiltImage.Skipped(i, "File " + files.get(i).display()
            + " is not on the ext4 image: " + reason + "."));
      }
    }
    for (List<String> directory : directories) {
      if (!directory.isEmpty()) {
        tree.add(directory, -1);
      }
    }
    return tree;
  }

  /** Adds the path (file number, or -1 for a folder); the reason it cannot, or null. */
  private String add(List<String> path, int file) {
    for (String name : path) {
      int length = name.getBytes(StandardCharsets.UTF_8).length;
      if (length > MAX_NAME) {
        return "the name '" + name + "' is " + length + " bytes in UTF-8, longer than ext4's " + MAX_NAME;
      }
    }
    if (path.get(0).equals(LOST_AND_FOUND)) {
      return "lost+found is ext4's own folder, where e2fsck puts what it recovers";
    }
    Node at = root;
    for (int i = 0; i < path.size(); i++) {
      String name = path.get(i);
      boolean last = i == path.size() - 1;
      Node child = at.children.get(name);
      if (child != null && !child.isDirectory()) {
        return last ? "another file has the same path" : "the folder " + String.join("/", path.subList(0, i + 1))
            + " would be where a file of that name is";
      }
      if (last && file >= 0) {
        if (child != null) {
          return "a folder has the same path";
        }
        at.children.put(name, new Node(name.getBytes(StandardCharsets.UTF_8), at, file));
        return null;
      }
      if (child == null) {
        child = new Node(name.getBytes(StandardCharsets.UTF_8), at, -1);
        at.children.put(name, child);
      }
      at = child;
    }
    return null;
  }

  /** Every node but the root, parents before children (pre-order, insertion order). */
  List<Node> nodes() {
    List<Node> out = new ArrayList<>();
    collect(root, out);
    return out;
  }

  private static void collect(Node directory, List<Node> out) {
    for (Node child : directory.children.values()) {
      out.add(child);
      if (child.isDirectory()) {
        collect(child, out);
      }
    }
  }
}
