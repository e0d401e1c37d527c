/**
 * What a process that reports on a store, but never serves or changes it, may read: the
 * operator's only way into the engine (docs/ARCHITECTURE.md, module map).
 *
 * <p>{@link dev.remap.engine.catalog.StoreCatalog} answers the few questions the operator's
 * status needs (a volume's usage and space, as its owner published them in its lease) and hands
 * out values only ({@link dev.remap.engine.volume.Usage}, {@link dev.remap.engine.volume.SpaceReport}),
 * never a store, a volume or a volume manager. Read-only is enforced, not promised: the catalog
 * reaches its store through {@code ReadOnlyStore}, which refuses every write, so a change deeper
 * in the engine that began to write on a read path would fail here instead of changing the store.
 * The operator's {@code EngineBoundaryTest} fails when an operator class uses any other engine
 * type than this package, those two values and {@link dev.remap.engine.store.StoreUri}.
 */
package dev.remap.engine.catalog;
