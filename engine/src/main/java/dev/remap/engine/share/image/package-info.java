/**
 * Filesystem images made by remapping (issue 15, seed 004's "logical disk generated from the
 * storage blocks the data occupies").
 *
 * <p>An {@link ImageBuilder} lays out a tree of files as a filesystem (ext4 or FAT32) and returns
 * a {@link BuiltImage}: the metadata blocks it must write and, for every file, where the file's
 * bytes go in the image ({@link BuiltImage.Placement}). It never sees the files' bytes: the
 * caller maps each placement onto the object that holds the file (a content object in the
 * store), so building a disk writes only its metadata. Every file starts on a block boundary and
 * the rest of its last block is left unwritten, which reads as zeros; metadata that is all zeros
 * (free inodes, free FAT entries) is not written either.
 *
 * <p>An {@link ImageReader} does the reverse on a disk a guest has written: it lists the files
 * with the image ranges that hold their bytes, so the share can tell which files a VM changed by
 * comparing mappings, and read those files from a snapshot.
 *
 * <p>Everything here is pure: no I/O but through the {@link ImageReader.Blocks} given, no
 * threads.
 */
package dev.remap.engine.share.image;
