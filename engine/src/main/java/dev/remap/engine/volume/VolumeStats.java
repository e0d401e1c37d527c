package dev.remap.engine.volume;

/**
 * What a served volume reports for metrics and status.
 *
 * @param storeErrors store requests made for this volume that failed: uploads (each retry counts)
 *     and reads of its data in the store
 * @param diskHits this volume's hits in its local-disk tier (0 without one), likewise diskMisses
 */
public record VolumeStats(long journalBytes, long uploadBacklogBytes, long segmentsWritten, long bytesUploaded,
    long storeErrors, long diskHits, long diskMisses, String lastUploadError) {}
