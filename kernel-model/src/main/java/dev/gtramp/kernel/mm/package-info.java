/**
 * Kernel memory: an allocator of typed objects ({@code kmalloc}, {@code kmem_cache}) that poisons
 * and quarantines freed objects and reports a use after free or double free as KASAN would, with
 * the stacks of the allocation and the free; snapshots of live objects by type, and leak reports.
 */
package dev.gtramp.kernel.mm;
