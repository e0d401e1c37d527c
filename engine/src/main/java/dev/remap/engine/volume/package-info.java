/**
 * Volumes: the journal-backed, log-structured block devices the engine serves, their ownership
 * across processes, their upload, cleaning and garbage collection.
 *
 * <h2>Lock order</h2>
 * Every path that holds more than one of these locks takes them in this order, and never the
 * other way round; a lock may be skipped, not reversed:
 * <ol>
 *   <li>{@code Tenure.ownerLock}: one acquisition of the volume from another owner at a time
 *       (held while the state is reloaded, so it comes before everything the reload takes);</li>
 *   <li>{@code Volume.writeOrder}: one change (or handover, resize, quiesced action) at a time,
 *       so that journal order and mapping order are the same;</li>
 *   <li>{@code Volume.mapLock} (read or write): the {@code live} and {@code stored} tables;</li>
 *   <li>{@code UploadMonitor.lock} (one per uploader): the upload queue and its flags; a thread
 *       holding it only waits on its condition or returns, it never takes the map lock (so
 *       {@code UploadMonitor.checkpointNow} asks the upload thread to write the checkpoint instead
 *       of writing it under the lock);</li>
 *   <li>the journal's own lock (inside {@code Journal}), the monitor of {@code RetirementGate}
 *       (a FLUSH records there what it covers, the upload thread decides there how far to retire),
 *       the monitors of {@code LeaseKeeper} and its {@code Held} leases, and the monitor of
 *       {@code StoredTable} (under the map lock: a commit queues a segment's changes there, a
 *       reader of {@code stored} applies them): leaves, under which no lock of this list is taken.</li>
 * </ol>
 * Paths as they are: a write ({@code VolumeWrites}, which owns no lock) takes writeOrder, appends
 * to the journal (its lock, let go), then the map's write lock, then the uploader's lock to
 * enqueue (after the map lock is let go; a batch maps and enqueues each gathered append before it
 * asks the journal for more). A reload after taking the volume
 * back holds ownerLock, then the map's write lock, then the uploader's lock
 * ({@code continueFrom}). A handover holds writeOrder, drains (uploader's lock, waiting) and asks
 * for a checkpoint. The upload thread packs a segment from its batch alone (no lock), works out
 * the segment's relocation of {@code live} holding no lock ({@code MappingTable.prepareRelocations}
 * reads only immutable chunk references; the install under the write lock checks each one), and
 * takes the map lock (read: copy {@code stored}; write: commit a segment, and retire journal files once a barrier made the
 * segments holding their records durable) holding nothing else, and the journal's lock under
 * it; journal files are unlinked after the map lock is let go. The upload thread reads the
 * journal's used bytes under the uploader's lock (a leaf under it) to decide when to sync.
 *
 * <h2>Threads</h2>
 * The upload thread of a volume is the only one that writes its segments and checkpoints and
 * commits them to {@code stored} (a snapshot's thread may be the one that applies what was
 * queued: {@code StoredTable}); the cleaner runs on it between uploads. Clients' threads change
 * {@code live} and the journal. The lease timer of {@code LeaseKeeper} renews leases and answers
 * handover requests, on its own threads.
 */
package dev.remap.engine.volume;
