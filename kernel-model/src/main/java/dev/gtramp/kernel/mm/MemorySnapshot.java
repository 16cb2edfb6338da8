package dev.gtramp.kernel.mm;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The live objects and bytes of one {@link Allocator} by type at one moment, like
 * {@code /proc/slabinfo}; compare two with {@link #leaksSince(MemorySnapshot)}. Immutable. Taken
 * while allocations run, each type's counts are exact but the types are not read at one instant;
 * take snapshots when the workload is quiescent.
 *
 * @param byType the usage of every type ever allocated, by type name in order
 */
public record MemorySnapshot(Map<String, TypeUsage> byType) {
    /**
     * One type's counts.
     *
     * @param liveObjects objects allocated and not yet freed ({@code active_objs})
     * @param liveBytes   their bytes
     * @param allocs      allocations since boot
     * @param frees       frees since boot
     */
    public record TypeUsage(long liveObjects, long liveBytes, long allocs, long frees) {
        public static final TypeUsage NONE = new TypeUsage(0, 0, 0, 0);
    }

    public MemorySnapshot {
        byType = Collections.unmodifiableMap(new TreeMap<>(byType));
    }

    /** The usage of {@code type}, all zero if it was never allocated. */
    public TypeUsage usage(String type) {
        return byType.getOrDefault(type, TypeUsage.NONE);
    }

    /** Live objects over every type. */
    public long liveObjects() {
        return byType.values().stream().mapToLong(TypeUsage::liveObjects).sum();
    }

    /** Live bytes over every type. */
    public long liveBytes() {
        return byType.values().stream().mapToLong(TypeUsage::liveBytes).sum();
    }

    /** The types whose live count grew since {@code before}: what a workload between the two leaked. */
    public LeakReport leaksSince(MemorySnapshot before) {
        return LeakReport.between(before, this);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("MemorySnapshot[").append(liveObjects()).append(" objects, ")
                .append(liveBytes()).append(" bytes");
        byType.forEach((t, u) -> sb.append("; ").append(t).append(' ').append(u.liveObjects()).append('/').append(u.liveBytes()));
        return sb.append(']').toString();
    }
}
