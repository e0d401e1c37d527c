/**
 * The NBD front-end: every volume of a store as an export, to QEMU, the kernel's nbd-client and
 * the libnbd tools.
 *
 * <h2>Layout</h2>
 * <pre>
 *   NbdServer        listeners (Unix socket, TCP), one accept thread each, graceful stop
 *   NbdConnection    one client: option phase, then transmission; always ends by releasing
 *   Negotiation      option phase as a pure state machine (options in, reply bytes out)
 *   OptionCodec      option-phase bytes          \  pure: no sockets, no state;
 *   RequestCodec     transmission-phase bytes     /  fuzzed by NbdFuzzTest
 *   Transmission     the request loop: refuse, answer from RAM, or submit; replies on completion
 *   Wire, Transport  the non-blocking socket (plain or TlsTransport) and its output queue
 *   ExportRegistry   exports resolved at NBD_OPT_GO; one shared stack per export (ServedExport)
 * </pre>
 *
 * <h2>Threads and locking</h2>
 * One reader thread per connection parses requests and never waits for one to finish: reads
 * the RAM cache holds are answered at once on that thread; everything else is submitted to the
 * export's {@link dev.remap.engine.queue.RequestQueue} and answered by the transfer worker that
 * completes it. Sockets are non-blocking so a worker never waits on a client that does not read:
 * what the socket does not take is queued in {@link dev.remap.engine.nbd.Wire} and written by
 * the reader thread. Per connection, requests in flight, their buffers and queued output are
 * bounded, and the reader stops reading while a bound is reached. Lock order: Wire's output
 * lock, then TlsTransport's wrap lock; ExportRegistry's monitor is never held during I/O.
 *
 * <h2>Decisions</h2>
 * <ul>
 *   <li>Block sizes: minimum 1 (the mapping is byte-granular, so unaligned requests need no
 *       read-modify-write anywhere), preferred the volume block (at least 4096), maximum 32 MiB.
 *   <li>Multi-conn is advertised: all connections to an export share one stack, and FLUSH syncs
 *       the volume's single journal, which holds every write acknowledged on any connection.
 *   <li>The RAM cache sits below the request queue, checked by the reader thread before
 *       anything is queued (see {@link dev.remap.engine.nbd.ServedExport} for why).
 *   <li>An export's stack closes with its last connection, releasing the volume's node lock.
 *   <li>Errors: past the end EINVAL (ENOSPC for writes and zeroes, as the protocol asks),
 *       oversized READ/WRITE EOVERFLOW with structured replies (EINVAL without), unknown
 *       commands and flags EINVAL, writes to a snapshot EPERM, requests that arrived when the
 *       server stops ESHUTDOWN. A bad request magic, or unknown client flags, close that
 *       connection only.
 *   <li>TLS: a TCP listener with a certificate requires NBD_OPT_STARTTLS (FORCEDTLS mode); plain
 *       TCP binds to loopback unless the operator explicitly allows otherwise.
 * </ul>
 */
package dev.remap.engine.nbd;
