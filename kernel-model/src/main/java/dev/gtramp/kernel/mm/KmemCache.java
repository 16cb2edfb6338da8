package dev.gtramp.kernel.mm;

import dev.gtramp.kernel.fault.FaultPoint;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One allocator's accounting for one object type, as a {@code kmem_cache} counts its objects for
 * {@code /proc/slabinfo}, plus the type's allocation fault point ({@code failslab}). Each counter
 * is exact; a reader sees each one atomically but not all of them at one instant.
 */
final class KmemCache {
    final String type;
    /** {@code "alloc:" + type}, resolved once so an allocation does not build its name. */
    final FaultPoint allocPoint;
    private final AtomicLong liveObjects = new AtomicLong();
    private final AtomicLong liveBytes = new AtomicLong();
    private final AtomicLong allocs = new AtomicLong();
    private final AtomicLong frees = new AtomicLong();

    KmemCache(String type, FaultPoint allocPoint) {
        this.type = type;
        this.allocPoint = allocPoint;
    }

    void allocated(long size) {
        allocs.incrementAndGet();
        liveObjects.incrementAndGet();
        liveBytes.addAndGet(size);
    }

    void freed(long size) {
        frees.incrementAndGet();
        liveObjects.decrementAndGet();
        liveBytes.addAndGet(-size);
    }

    MemorySnapshot.TypeUsage usage() {
        return new MemorySnapshot.TypeUsage(liveObjects.get(), liveBytes.get(), allocs.get(), frees.get());
    }
}
