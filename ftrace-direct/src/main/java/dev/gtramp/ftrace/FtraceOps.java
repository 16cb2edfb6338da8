package dev.gtramp.ftrace;

import dev.gtramp.kernel.CallTarget;

import java.util.Objects;

/**
 * {@code struct ftrace_ops}: one ftrace user. A callback user (a tracer, livepatch) gives a
 * {@link FtraceFunc}; a direct user (a BPF trampoline) gives none and is set up by
 * {@code register_ftrace_direct} or {@code update_ftrace_direct_add}, after which its callback is
 * {@code call_direct_funcs}. Which functions it traces is its filter hash
 * ({@link Ftrace#setFilterIp}); an empty filter traces every function.
 *
 * <p>Flags are the kernel's {@code FTRACE_OPS_FL_*} bits. An ops allocated at run time is
 * {@link #DYNAMIC} and its removal waits for {@code synchronize_rcu_tasks_rude} and
 * {@code synchronize_rcu_tasks}; one that is "core kernel data" (a static struct in the kernel, such
 * as BPF's single {@code direct_ops}) is not, and unregisters without grace periods.
 *
 * <p>Fields are written under {@code ftrace_lock} (and {@code direct_mutex} for direct state);
 * {@link #flags}, {@link #func} and the hashes are volatile because the list function reads them
 * on the call path without a lock.
 */
public final class FtraceOps {
    public static final int ENABLED = 1;
    public static final int DYNAMIC = 1 << 1;
    public static final int SAVE_REGS = 1 << 2;
    public static final int SAVE_REGS_IF_SUPPORTED = 1 << 3;
    public static final int RECURSION = 1 << 4;
    public static final int STUB = 1 << 5;
    public static final int INITIALIZED = 1 << 6;
    public static final int DELETED = 1 << 7;
    public static final int ADDING = 1 << 8;
    public static final int REMOVING = 1 << 9;
    public static final int MODIFYING = 1 << 10;
    public static final int ALLOC_TRAMP = 1 << 11;
    public static final int IPMODIFY = 1 << 12;
    public static final int PID = 1 << 13;
    public static final int RCU = 1 << 14;
    public static final int TRACE_ARRAY = 1 << 15;
    public static final int PERMANENT = 1 << 16;
    public static final int DIRECT = 1 << 17;
    public static final int SUBOP = 1 << 18;
    public static final int GRAPH = 1 << 19;
    /** {@code MULTI_FLAGS} (x86, with regs): what a direct ops has once set up. */
    public static final int MULTI_FLAGS = DIRECT | SAVE_REGS;
    /** Flags a user may pass at construction; the rest are ftrace's own state. */
    static final int USER_FLAGS = SAVE_REGS | SAVE_REGS_IF_SUPPORTED | RECURSION | IPMODIFY | RCU | PERMANENT | STUB;

    /** {@code struct ftrace_ops_hash}: the filter and notrace sets, shareable between ops. */
    static final class OpsHash {
        /** {@code null} is {@code EMPTY_HASH}. */
        volatile FtraceHash filter;
        volatile FtraceHash notrace;

        /** {@code hash_contains_ip}: whether the filter (empty: every function) has {@code ip} and notrace does not. */
        boolean containsIp(long ip) {
            FtraceHash f = filter;
            return (f == null || f.count() == 0 || f.contains(ip)) && !inNotrace(ip);
        }

        /** Whether the notrace set has {@code ip}. */
        boolean inNotrace(long ip) {
            FtraceHash n = notrace;
            return n != null && n.count() != 0 && n.contains(ip);
        }
    }

    private final String name;
    private final boolean coreKernelData;
    final OpsFunc opsFunc;
    final OpsHash localHash = new OpsHash();
    /** {@code ops->func_hash}: {@link #localHash} unless shared (the modify trick's tmp_ops). */
    volatile OpsHash funcHash = localHash;
    volatile int flags;
    volatile FtraceFunc func;
    FtraceFunc savedFunc;
    /** {@code ops->trampoline}: what a site traced by this ops alone calls (direct ops: the regs caller). */
    volatile CallTarget trampoline;
    /** {@code ops->direct_call}: the classic API's one target. */
    volatile CallTarget directCall;
    /** The ftrace instance the ops was first used with. */
    Ftrace owner;

    private FtraceOps(String name, FtraceFunc func, int flags, OpsFunc opsFunc, boolean coreKernelData) {
        this.name = Objects.requireNonNull(name, "name");
        this.func = func;
        this.flags = flags;
        this.opsFunc = opsFunc;
        this.coreKernelData = coreKernelData;
    }

    /**
     * A callback user, allocated at run time ({@link #DYNAMIC} once registered).
     *
     * @param flags any of {@link #SAVE_REGS}, {@link #IPMODIFY}, {@link #RECURSION}, {@link #RCU},
     *              {@link #PERMANENT}
     */
    public static FtraceOps callback(String name, FtraceFunc func, int flags) {
        Objects.requireNonNull(func, "func");
        return new FtraceOps(name, func, checkFlags(name, flags), null, false);
    }

    /**
     * A direct user allocated at run time, as each classic {@code bpf_trampoline} allocates its own
     * ops; {@code opsFunc} may be {@code null} (then an IPMODIFY user on its function is EBUSY).
     */
    public static FtraceOps direct(String name, OpsFunc opsFunc) {
        return new FtraceOps(name, null, 0, opsFunc, false);
    }

    /**
     * A direct user that is core kernel data, like BPF's single {@code static struct ftrace_ops
     * direct_ops}: never {@link #DYNAMIC}, so unregistering it waits for no grace period.
     */
    public static FtraceOps staticDirect(String name, OpsFunc opsFunc) {
        return new FtraceOps(name, null, 0, opsFunc, true);
    }

    /** A static ops with a callback ({@code tmp_ops}, {@code stub_ops}). */
    static FtraceOps staticCallback(String name, FtraceFunc func, int flags) {
        return new FtraceOps(name, func, flags, null, true);
    }

    private static int checkFlags(String name, int flags) {
        if ((flags & ~USER_FLAGS) != 0) {
            throw new IllegalArgumentException("ftrace_ops " + name + ": flags "
                    + Integer.toHexString(flags & ~USER_FLAGS) + " are ftrace's own state, not options");
        }
        return flags;
    }

    public String name() {
        return name;
    }

    /** The current {@code FTRACE_OPS_FL_*} bits. */
    public int flags() {
        return flags;
    }

    public boolean has(int flag) {
        return (flags & flag) != 0;
    }

    /** Whether the ops is registered ({@link #ENABLED}). */
    public boolean isEnabled() {
        return has(ENABLED);
    }

    boolean isCoreKernelData() {
        return coreKernelData;
    }

    /** The ips of the filter hash, sorted (empty: every function when registered). */
    public long[] filterIps() {
        FtraceHash f = funcHash.filter;
        return f == null ? new long[0] : f.ips();
    }

    /** The classic API's direct target ({@code ops->direct_call}), or {@code null}. */
    public CallTarget directCall() {
        return directCall;
    }

    void set(int flag) {
        flags = flags | flag;
    }

    void clear(int flag) {
        flags = flags & ~flag;
    }

    @Override
    public String toString() {
        return "ftrace_ops " + name;
    }
}
