package dev.gtramp.ftrace;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * An immutable snapshot of a kernel's ftrace {@link Cost} counters. Take one before and one after
 * an operation and {@link #minus} them to get what the operation cost.
 */
public final class FtraceCosts {
    private final long[] values;

    private FtraceCosts(long[] values) {
        this.values = values;
    }

    static FtraceCosts of(AtomicLongArray live) {
        long[] v = new long[live.length()];
        for (int i = 0; i < v.length; i++) {
            v[i] = live.get(i);
        }
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
