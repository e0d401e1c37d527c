package dev.remap.engine.volume;

/** What a served volume reports for metrics and status. */
public record VolumeStats(long journalBytes, long uploadBacklogBytes, long segmentsWritten, long bytesUploaded,
    String lastUploadError) {}
