/**
 * Reconcilers for the three Remap kinds (VirtualDisk, LogicalDiskShare, VmMemorySwap). The
 * operator is built on Quarkus and java-operator-sdk; see docs/ARCHITECTURE.md for what it owns.
 */
package dev.remap.operator;
