package dev.remap.engine.share.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The FAT32 boot sector's geometry: where the FATs, the data region and each cluster are. The
 * builder encodes it (with the FSInfo sector and their backups); the reader parses and checks
 * what a guest left.
 */
record FatBootSector(int bytesPerSector, int sectorsPerCluster, int reservedSectors, int fats, long fatSectors,
    long totalSectors, long rootCluster, int activeFat) {

  static final int SECTOR = 512;
  static final int BACKUP_SECTOR = 6;
  static final int FSINFO_SECTOR = 1;
  /** FAT32 needs this many clusters at least; fewer make it FAT16 to Windows and dosfstools. */
  static final long MIN_CLUSTERS = 65525;
  /** Cluster numbers run from 2 to 0x0FFFFFF6. */
  static final long MAX_CLUSTERS = 0x0FFFFFF5L;
  static final long END_OF_CHAIN = 0x0FFFFFFFL;

  long clusterSize() {
    return (long) bytesPerSector * sectorsPerCluster;
  }

  long fatOffset(int fat) {
    return ((long) reservedSectors + (long) fat * fatSectors) * bytesPerSector;
  }

  long dataOffset() {
    return ((long) reservedSectors + fats * fatSectors) * bytesPerSector;
  }

  long clusterCount() {
    return (totalSectors - reservedSectors - fats * fatSectors) / sectorsPerCluster;
  }

  long clusterOffset(long cluster) {
    return dataOffset() + (cluster - 2) * clusterSize();
  }

  long imageSize() {
    return totalSectors * bytesPerSector;
  }

  /**
   * The first 4096 bytes of an image: boot sector, FSInfo, and their backups at sectors 6 and 7.
   * label is 11 bytes or null (then "NO NAME"); nextFree the first free cluster, or -1 when none.
   */
  byte[] encode(int serial, byte[] label, long freeClusters, long nextFree) {
    ByteBuffer boot = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
    boot.put(0, new byte[] {(byte) 0xEB, 0x58, (byte) 0x90});
    boot.put(3, "REMAP   ".getBytes(StandardCharsets.US_ASCII));
    boot.putShort(11, (short) bytesPerSector);
    boot.put(13, (byte) sectorsPerCluster);
    boot.putShort(14, (short) reservedSectors);
    boot.put(16, (byte) fats);
    boot.put(21, (byte) 0xF8);
    boot.putShort(24, (short) 63);
    boot.putShort(26, (short) 255);
    boot.putInt(32, (int) totalSectors);
    boot.putInt(36, (int) fatSectors);
    boot.putInt(44, (int) rootCluster);
    boot.putShort(48, (short) FSINFO_SECTOR);
    boot.putShort(50, (short) BACKUP_SECTOR);
    boot.put(64, (byte) 0x80);
    boot.put(66, (byte) 0x29);
    boot.putInt(67, serial);
    boot.put(71, label != null ? label : "NO NAME    ".getBytes(StandardCharsets.US_ASCII));
    boot.put(82, "FAT32   ".getBytes(StandardCharsets.US_ASCII));
    boot.putShort(510, (short) 0xAA55);

    ByteBuffer info = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
    info.putInt(0, 0x41615252);
    info.putInt(484, 0x61417272);
    info.putInt(488, (int) freeClusters);
    info.putInt(492, nextFree < 0 ? -1 : (int) nextFree);
    info.putInt(508, 0xAA550000);

    byte[] region = new byte[8 * SECTOR];
    for (int sector : new int[] {0, BACKUP_SECTOR}) {
      System.arraycopy(boot.array(), 0, region, sector * SECTOR, SECTOR);
      System.arraycopy(info.array(), 0, region, (sector + FSINFO_SECTOR) * SECTOR, SECTOR);
    }
    return region;
  }

  /** The geometry of the boot sector in first (its first 512 bytes), checked against the image's size. */
  static FatBootSector parse(byte[] first, long imageSize) throws IOException {
    ByteBuffer boot = ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN);
    if ((boot.getShort(510) & 0xFFFF) != 0xAA55) {
      throw new IOException("not a FAT filesystem: the boot sector has no 0x55AA signature at byte 510");
    }
    int bytesPerSector = boot.getShort(11) & 0xFFFF;
    int sectorsPerCluster = boot.get(13) & 0xFF;
    int reserved = boot.getShort(14) & 0xFFFF;
    int fats = boot.get(16) & 0xFF;
    int rootEntries = boot.getShort(17) & 0xFFFF;
    long total16 = boot.getShort(19) & 0xFFFF;
    long fat16 = boot.getShort(22) & 0xFFFF;
    long total32 = boot.getInt(32) & 0xFFFFFFFFL;
    long fat32 = boot.getInt(36) & 0xFFFFFFFFL;
    if (Integer.bitCount(bytesPerSector) != 1 || bytesPerSector < 512 || bytesPerSector > 4096) {
      throw new IOException("not a FAT filesystem: " + bytesPerSector + " bytes per sector (512 to 4096, a power of 2)");
    }
    if (Integer.bitCount(sectorsPerCluster) != 1) {
      throw new IOException("not a FAT filesystem: " + sectorsPerCluster + " sectors per cluster (a power of 2)");
    }
    if (reserved == 0 || fats == 0) {
      throw new IOException("not a FAT filesystem: " + reserved + " reserved sectors and " + fats + " FATs");
    }
    if (fat16 != 0 || rootEntries != 0 || fat32 == 0) {
      throw new IOException("not FAT32: the boot sector has a FAT12/16 layout (" + rootEntries
          + " root entries, " + fat16 + " sectors per FAT16)");
    }
    long total = total16 != 0 ? total16 : total32;
    int flags = boot.getShort(40) & 0xFFFF;
    // Bit 7 set: only the FAT numbered in bits 0-3 is in use (no mirroring).
    int active = (flags & 0x80) != 0 ? flags & 0x0F : 0;
    if (active >= fats) {
      throw new IOException("damaged FAT32 boot sector: active FAT " + active + " of " + fats);
    }
    FatBootSector sector = new FatBootSector(bytesPerSector, sectorsPerCluster, reserved, fats, fat32, total,
        boot.getInt(44) & 0x0FFFFFFFL, active);
    long clusters = sector.clusterCount();
    if (reserved + fats * fat32 >= total || clusters < 1) {
      throw new IOException("damaged FAT32 boot sector: " + total + " sectors hold no data region after "
          + reserved + " reserved and " + fats + " x " + fat32 + " FAT sectors");
    }
    if (clusters > MAX_CLUSTERS) {
      throw new IOException("damaged FAT32 boot sector: " + clusters + " clusters, more than FAT32's "
          + MAX_CLUSTERS);
    }
    if (fat32 * bytesPerSector / 4 < clusters + 2) {
      throw new IOException("damaged FAT32 boot sector: a FAT of " + fat32 + " sectors cannot map "
          + clusters + " clusters");
    }
    if (sector.imageSize() > imageSize) {
      throw new IOException("damaged FAT32 image: the boot sector says " + sector.imageSize()
          + " bytes, the image has " + imageSize);
    }
    if (sector.rootCluster() < 2 || sector.rootCluster() > clusters + 1) {
      throw new IOException("damaged FAT32 boot sector: root cluster " + sector.rootCluster()
          + " is outside 2.." + (clusters + 1));
    }
    return sector;
  }
}
