package dev.remap.engine.share.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Lists an ext2/3/4 image as a guest left it: every regular file (with its image ranges, see
 * {@link Ext4Mapping}) and every directory reachable from the root, except the root's lost+found
 * (the filesystem's own folder for e2fsck). Directories are read linearly, entry by entry, which
 * also reads hashed (dir_index) directories: their index blocks look like empty entries. Other
 * kinds of inode (links, devices, sockets) are not files of the share and are left out.
 *
 * <p>A snapshot of a still-mounted filesystem is read as if its journal had been replayed (see
 * {@link Ext4Volume}); a file's extents then point wherever its newest bytes are, which is in the
 * journal for blocks journaled as data (data=journal).
 */
public final class Ext4ImageReader implements ImageReader {

  private static final long ROOT = 2;

  /**
   * A listing and what the journal replay gave it: the replayed journal and how many block reads
   * it served (so a test can tell a replay really happened).
   */
  record Read(Listing listing, Ext4Journal journal, long journalReads) {}

  @Override
  public Listing list(Blocks image) throws IOException {
    return read(image).listing();
  }

  Read read(Blocks image) throws IOException {
    Ext4Volume volume = Ext4Volume.open(image);
    List<FoundFile> files = new ArrayList<>();
    List<List<String>> directories = new ArrayList<>();
    Set<Long> seen = new HashSet<>();
    Deque<Folder> pending = new ArrayDeque<>();
    Ext4Volume.Inode root = volume.inode(ROOT);
    if (!root.isDirectory()) {
      throw volume.damaged("the root inode 2 is not a directory");
    }
    pending.push(new Folder(List.of(), root));
    seen.add(ROOT);
    while (!pending.isEmpty()) {
      Folder folder = pending.pop();
      for (Entry entry : entries(volume, folder)) {
        List<String> path = new ArrayList<>(folder.path());
        path.add(entry.name());
        Ext4Volume.Inode inode = volume.inode(entry.inode());
        if (inode.isDirectory()) {
          if (folder.path().isEmpty() && entry.name().equals(Ext4Tree.LOST_AND_FOUND)) {
            continue;
          }
          if (!seen.add(entry.inode())) {
            throw volume.damaged("directory " + String.join("/", path) + " (inode " + entry.inode()
                + ") is reached twice, a loop or a hard-linked directory");
          }
          directories.add(path);
          pending.push(new Folder(path, inode));
        } else if (inode.isRegular()) {
          List<Extent> extents = volume.journal().redirect(Ext4Mapping.of(volume, inode), volume.blockSize,
              String.join("/", path));
          files.add(new FoundFile(path, inode.size(), inode.modified(), extents));
        }
      }
    }
    return new Read(new Listing(files, directories), volume.journal(), volume.journalReads());
  }

  private record Folder(List<String> path, Ext4Volume.Inode inode) {}

  private record Entry(long inode, String name) {}

  /** The live entries of a directory but "." and "..", in on-disk order. */
  private static List<Entry> entries(Ext4Volume volume, Folder folder) throws IOException {
    String where = folder.path().isEmpty() ? "the root directory" : "directory " + String.join("/", folder.path());
    List<Entry> entries = new ArrayList<>();
    int size = volume.blockSize;
    for (Extent extent : Ext4Mapping.of(volume, folder.inode())) {
      for (long done = 0; done + size <= extent.length(); done += size) {
        // Through the volume, so a directory block newer in the journal is read from there.
        ByteBuffer block = volume.block((extent.imageOffset() + done) / size);
        long blockNumber = (extent.fileOffset() + done) / size;
        int at = 0;
        while (at < size) {
          if (at + 8 > size) {
            throw broken(volume, where, folder, blockNumber, at);
          }
          long inode = Integer.toUnsignedLong(block.getInt(at));
          int recLen = recordLength(Short.toUnsignedInt(block.getShort(at + 4)), size);
          int nameLength = volume.fileType ? Byte.toUnsignedInt(block.get(at + 6))
              : Short.toUnsignedInt(block.getShort(at + 6));
          if (recLen < 8 || recLen % 4 != 0 || at + recLen > size || 8 + nameLength > recLen) {
            throw broken(volume, where, folder, blockNumber, at);
          }
          if (inode != 0 && nameLength > 0) {
            byte[] name = new byte[nameLength];
            block.get(at + 8, name);
            String text = new String(name, StandardCharsets.UTF_8);
            if (!text.equals(".") && !text.equals("..")) {
              entries.add(new Entry(inode, text));
            }
          }
          at += recLen;
        }
      }
    }
    return entries;
  }

  /** rec_len as stored: 64 KiB blocks need a 17th bit, kept in the low two bits. */
  private static int recordLength(int stored, int blockSize) {
    if (blockSize < 65536) {
      return stored;
    }
    if (stored == 65535 || stored == 0) {
      return blockSize;
    }
    return (stored & 65532) | ((stored & 3) << 16);
  }

  private static IOException broken(Ext4Volume volume, String where, Folder folder, long block, int at) {
    return volume.damaged(where + " (inode " + folder.inode().number() + ") has a broken entry at byte " + at
        + " of its block " + block);
  }
}
