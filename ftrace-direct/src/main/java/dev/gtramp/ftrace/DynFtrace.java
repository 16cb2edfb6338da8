package dev.gtramp.ftrace;

import dev.gtramp.kernel.EntrySite;
import dev.gtramp.kernel.KernelFunction;

/**
 * {@code struct dyn_ftrace}: ftrace's record of one patch site. The low 19 bits of {@link #flags}
 * count the enabled ops that trace the site; the high bits are the {@code FTRACE_FL_*} states, in
 * pairs of "wanted" ({@link #REGS}, {@link #TRAMP}, {@link #DIRECT}) and "what the site does now"
 * ({@link #REGS_EN}, {@link #TRAMP_EN}, {@link #DIRECT_EN}); an update patches the sites where the
 * two differ ({@code ftrace_check_record}).
 *
 * <p>Written only under {@code ftrace_lock}; read by tests and reports.
 */
public final class DynFtrace {
    public static final int ENABLED = 1 << 31;
    public static final int REGS = 1 << 30;
    public static final int REGS_EN = 1 << 29;
    public static final int TRAMP = 1 << 28;
    public static final int TRAMP_EN = 1 << 27;
    public static final int IPMODIFY = 1 << 26;
    public static final int DISABLED = 1 << 25;
    public static final int DIRECT = 1 << 24;
    public static final int DIRECT_EN = 1 << 23;
    /** arm64 per-callsite ops; never set on x86, kept so the flag layout is the kernel's. */
    public static final int CALL_OPS = 1 << 22;
    public static final int CALL_OPS_EN = 1 << 21;
    public static final int TOUCHED = 1 << 20;
    public static final int MODIFIED = 1 << 19;
    public static final int FTRACE_REF_MAX_SHIFT = 19;
    public static final int FTRACE_REF_MAX = (1 << FTRACE_REF_MAX_SHIFT) - 1;
    static final int NOCLEAR_FLAGS = DISABLED | TOUCHED | MODIFIED;

    private final KernelFunction function;
    volatile int flags;

    DynFtrace(KernelFunction function) {
        this.function = function;
    }

    /** The record's address ({@code rec->ip}). */
    public long ip() {
        return function.ip();
    }

    /** The function the site belongs to (the first name at the address). */
    public KernelFunction function() {
        return function;
    }

    public EntrySite site() {
        return function.site();
    }

    /** {@code rec->flags}, count included. */
    public int flags() {
        return flags;
    }

    /** {@code ftrace_rec_count(rec)}: the number of enabled ops tracing the site. */
    public int count() {
        return flags & FTRACE_REF_MAX;
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }

    @Override
    public String toString() {
        int f = flags;
        StringBuilder sb = new StringBuilder(function.name()).append(String.format(" [%#x] (%d)", ip(), f & FTRACE_REF_MAX));
        int[] bits = {ENABLED, REGS, REGS_EN, TRAMP, TRAMP_EN, IPMODIFY, DISABLED, DIRECT, DIRECT_EN, TOUCHED, MODIFIED};
        String[] names = {"E", "R", "R_EN", "T", "T_EN", "I", "DISABLED", "D", "D_EN", "touched", "modified"};
        for (int i = 0; i < bits.length; i++) {
            if ((f & bits[i]) != 0) {
                sb.append(' ').append(names[i]);
            }
        }
        return sb.toString();
    }
}
