package dev.remap.engine.volume;

/**
 * What a served volume reports for metrics and status.
 *
 * @param storeErrors store requests made for this volume that failed: uploads (each retry counts)
 *     and reads of its data in the store
 * @param diskHits this volume's hits in its local-disk tier (0 without one), likewise diskMisses
 * @param bytesUploaded segment bytes written to the store since open, cleaning included
 * @param liveBytes bytes of the volume's own segments its mapping references, as last measured by
 *     the cleaner (0 before its first measurement); storedBytes the size of those segments
 * @param dataBytesUploaded bytes of client writes that reached segments since open
 * @param cleanedBytes live bytes the cleaner copied since open
 * @param noSpace why writes fail for want of space now (local disk or store full), null when they do not
 */
public record VolumeStats(long journalBytes, long uploadBacklogBytes, long segmentsWritten, long bytesUploaded,
    long storeErrors, long diskHits, long diskMisses, String lastUploadError, long liveBytes, long storedBytes,
    long dataBytesUploaded, long cleanedBytes, String noSpace) {

  /** Stored bytes per live byte (1.0 when nothing is stored yet). */
  public double spaceAmplification() {
    return liveBytes == 0 ? 1.0 : (double) storedBytes / liveBytes;
  }

  /** Segment bytes written per byte of client data uploaded (1.0 before any upload). */
  public double writeAmplification() {
    return dataBytesUploaded == 0 ? 1.0 : (double) bytesUploaded / dataBytesUploaded;
  }
}
