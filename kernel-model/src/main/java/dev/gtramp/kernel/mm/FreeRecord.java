package dev.gtramp.kernel.mm;

import java.util.List;

/**
 * The state of a freed {@link KernelObject}: who freed it, so that a later bad access can be
 * reported with the free, as KASAN keeps the free stack in the object's slab metadata. Immutable,
 * published by the CAS that frees the object.
 *
 * @param allocator the allocator that freed it, which reports the bad accesses
 * @param thread    the freeing thread's name
 * @param stack     the freeing stack, innermost first; empty unless recorded
 */
record FreeRecord(Allocator allocator, String thread, List<StackTraceElement> stack) {
}
