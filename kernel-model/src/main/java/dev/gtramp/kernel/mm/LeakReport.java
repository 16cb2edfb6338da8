package dev.gtramp.kernel.mm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What leaked between two {@link MemorySnapshot}s: each type whose live object count grew, and by
 * how much, as {@code kmemleak} would name unreferenced objects by cache. Immutable.
 *
 * @param leaks the growing types, by type name in order
 */
public record LeakReport(List<Leak> leaks) {
    /**
     * One type that grew.
     *
     * @param type    the type name
     * @param objects how many more live objects
     * @param bytes   how many more live bytes
     */
    public record Leak(String type, long objects, long bytes) {
        @Override
        public String toString() {
            return type + " +" + objects + " objects (" + (bytes >= 0 ? "+" : "") + bytes + " bytes)";
        }
    }

    public LeakReport {
        leaks = List.copyOf(leaks);
    }

    /** The leaks from {@code before} to {@code after}. */
    public static LeakReport between(MemorySnapshot before, MemorySnapshot after) {
        List<Leak> out = new ArrayList<>();
        for (Map.Entry<String, MemorySnapshot.TypeUsage> e : after.byType().entrySet()) {
            MemorySnapshot.TypeUsage was = before.usage(e.getKey());
            long grew = e.getValue().liveObjects() - was.liveObjects();
            if (grew > 0) {
                out.add(new Leak(e.getKey(), grew, e.getValue().liveBytes() - was.liveBytes()));
            }
        }
        return new LeakReport(out);
    }

    public boolean isEmpty() {
        return leaks.isEmpty();
    }

    /** How many more live objects of {@code type}; 0 if it did not grow. */
    public long objects(String type) {
        return leaks.stream().filter(l -> l.type().equals(type)).mapToLong(Leak::objects).sum();
    }

    @Override
    public String toString() {
        if (leaks.isEmpty()) {
            return "no leaks";
        }
        StringBuilder sb = new StringBuilder("leaked:");
        for (Leak l : leaks) {
            sb.append(' ').append(l).append(';');
        }
        sb.setLength(sb.length() - 1);
        return sb.toString();
    }
}
