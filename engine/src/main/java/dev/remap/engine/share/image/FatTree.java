package dev.remap.engine.share.image;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The tree of folders and files a FAT image will hold, with the files FAT cannot hold left out
 * and the reason for each: a size of 4 GiB or more, a name FAT refuses (in the file's name or a
 * folder's, which leaves out everything under that folder), a name equal to an earlier one of
 * the same folder ignoring case, or a folder that has no room for one more entry.
 */
final class FatTree {

  /** FAT allows 65536 entries per directory (2 MiB of entries). */
  static final int MAX_SLOTS = 65536;
  static final long MAX_FILE_SIZE = 0xFFFFFFFFL;

  /** A folder or a file of the tree. */
  static final class Node {
    final String name;
    final Node parent;
    /** The file's number in the builder's input, or -1 for a folder. */
    final int file;
    final List<Node> children = new ArrayList<>();
    final Map<String, Node> byKey = new HashMap<>();
    /** Directory entries a folder uses (its own "." and ".." or the root's label included). */
    int slots;
    long firstCluster;
    long clusters;

    Node(String name, Node parent, int file) {
      this.name = name;
      this.parent = parent;
      this.file = file;
    }

    boolean isDirectory() {
      return file < 0;
    }
  }

  final Node root = new Node("", null, -1);
  /** Each input file's node, or null when it is skipped. */
  final Node[] fileNodes;
  final List<BuiltImage.Skipped> skipped = new ArrayList<>();

  private FatTree(int files, boolean label) {
    fileNodes = new Node[files];
    root.slots = label ? 1 : 0;
  }

  /**
   * The tree of files (in their order, so the earlier of two colliding names stays) and then the
   * folders listed. A listed folder that cannot be made is left out; it has no number to report.
   */
  static FatTree of(List<ImageFile> files, List<List<String>> directories, boolean label) {
    FatTree tree = new FatTree(files.size(), label);
    for (int i = 0; i < files.size(); i++) {
      ImageFile file = files.get(i);
      String reason = file.size() > MAX_FILE_SIZE
          ? file.display() + " is " + file.size() + " bytes; FAT32 holds files below 4 GiB"
          : tree.refusal(file.path(), file.display(), true);
      if (reason != null) {
        tree.skipped.add(new BuiltImage.Skipped(i, reason));
      } else {
        tree.fileNodes[i] = tree.add(file.path(), i);
      }
    }
    for (List<String> directory : directories) {
      if (!directory.isEmpty() && tree.refusal(directory, String.join("/", directory), false) == null) {
        tree.add(directory, -1);
      }
    }
    return tree;
  }

  /** The folders, the root first, then breadth first: the order their clusters are given in. */
  List<Node> directories() {
    List<Node> out = new ArrayList<>();
    ArrayDeque<Node> queue = new ArrayDeque<>(List.of(root));
    while (!queue.isEmpty()) {
      Node dir = queue.removeFirst();
      out.add(dir);
      for (Node child : dir.children) {
        if (child.isDirectory()) {
          queue.addLast(child);
        }
      }
    }
    return out;
  }

  /**
   * Why path cannot be added (a sentence naming display), or null. A folder path that is on the
   * tree already can be added (it is there); a file path cannot.
   */
  private String refusal(List<String> path, String display, boolean isFile) {
    for (int i = 0; i < path.size(); i++) {
      String why = FatNames.refusal(path.get(i));
      if (why != null) {
        return display + (i == path.size() - 1 && isFile ? ": its name has " : ": the folder name '" + path.get(i)
            + "' has ") + why;
      }
    }
    Node dir = root;
    for (int i = 0; i < path.size(); i++) {
      String name = path.get(i);
      Node existing = dir.byKey.get(FatNames.key(name));
      boolean last = i == path.size() - 1;
      if (existing == null) {
        if (dir.slots + FatDirectory.slots(name) > MAX_SLOTS) {
          return display + ": the folder '" + pathOf(dir) + "' is full (FAT holds " + MAX_SLOTS
              + " entries per folder)";
        }
        return null;
      }
      if (!existing.name.equals(name)) {
        return display + ": the name '" + name + "' equals the earlier '" + existing.name
            + "' ignoring case; FAT names are case-insensitive";
      }
      if (!existing.isDirectory()) {
        return display + ": '" + pathOf(existing) + "' is a file already";
      }
      if (last && isFile) {
        return display + ": a folder of that name is there already";
      }
      dir = existing;
    }
    return null;
  }

  /** Adds path's missing folders and, when file is not -1, its file; returns the last node. */
  private Node add(List<String> path, int file) {
    Node dir = root;
    for (int i = 0; i < path.size(); i++) {
      String name = path.get(i);
      String key = FatNames.key(name);
      Node node = dir.byKey.get(key);
      if (node == null) {
        node = new Node(name, dir, i == path.size() - 1 ? file : -1);
        if (node.isDirectory()) {
          node.slots = 2;
        }
        dir.byKey.put(key, node);
        dir.children.add(node);
        dir.slots += FatDirectory.slots(name);
      }
      dir = node;
    }
    return dir;
  }

  private static String pathOf(Node node) {
    List<String> names = new ArrayList<>();
    for (Node at = node; at.parent != null; at = at.parent) {
      names.add(0, at.name);
    }
    return names.isEmpty() ? "/" : String.join("/", names);
  }
}
