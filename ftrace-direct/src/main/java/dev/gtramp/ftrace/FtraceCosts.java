package dev.gtramp.ftrace;

import dev.gtramp.kernel.text.TextPoker;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * An immutable snapshot of a kernel's ftrace {@link Cost} counters. Take one before and one after
 * an operation and {@link #minus} them to get what the operation cost. The text-patching counters
 * ({@link Cost#TEXT_POKES}, {@link Cost#POKE_BATCHES}, {@link Cost#CORE_SYNCS},
 * {@link Cost#SITES_PATCHED}) are the kernel's {@link TextPoker}'s: every poke, ftrace's or not
 * (the md index in a function's padding).
 */
public final class FtraceCosts {
    private final long[] values;

    private FtraceCosts(long[] values) {
        this.values = values;
    }

    /** ftrace's own counters, with the text patcher's in their places. */
    static FtraceCosts of(AtomicLongArray live, TextPoker poker) {
        long[] v = new long[live.length()];
        for (int i = 0; i < v.length; i++) {
            v[i] = live.get(i);
        }
        v[Cost.TEXT_POKES.ordinal()] = poker.textPokes();
        v[Cost.POKE_BATCHES.ordinal()] = poker.pokeBatches();
        v[Cost.CORE_SYNCS.ordinal()] = poker.coreSyncs();
        v[Cost.SITES_PATCHED.ordinal()] = poker.sitesPatched();
        return new FtraceCosts(v);
    }

    /** The value of one counter. */
    public long get(Cost c) {
        return values[c.ordinal()];
    }

    /** {@code this - earlier}, counter by counter. */
    public FtraceCosts minus(FtraceCosts earlier) {
        long[] v = new long[values.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = values[i] - earlier.values[i];
        }
        return new FtraceCosts(v);
    }

    /** Every counter by name, in declaration order. */
    public Map<Cost, Long> asMap() {
        Map<Cost, Long> m = new EnumMap<>(Cost.class);
        for (Cost c : Cost.values()) {
            m.put(c, values[c.ordinal()]);
        }
        return m;
    }

    /** The non-zero counters, e.g. {@code {CORE_SYNCS=3, TEXT_POKES=3}}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("{");
        for (Cost c : Cost.values()) {
            long v = values[c.ordinal()];
            if (v != 0) {
                if (sb.length() > 1) {
                    sb.append(", ");
                }
                sb.append(c).append('=').append(v);
            }
        }
        return sb.append('}').toString();
    }
}
