package dev.gtramp.trampoline;

import java.util.Objects;

/**
 * How a kernel's trampolines are built: the ftrace strategy of the per-function trampolines, what
 * serves tracing multi links, and how a {@code kfunc_md} is freed.
 *
 * <p>The global modes need {@link FtraceStrategy#SINGLE_OPS}: a function moves between the global
 * caller and its own trampoline with {@code update_ftrace_direct_mod} on the one {@code direct_ops},
 * which keeps every call on one of the two.
 *
 * @param ftraceStrategy how per-function trampolines reach ftrace
 * @param multiLinkMode  what serves tracing multi links
 * @param freeProtocol   how a {@code kfunc_md} is freed (global modes only)
 * @param mdTable        which hash table holds the {@code kfunc_md}s ({@link MultiLinkMode#GLOBAL_HASH} only)
 */
public record TrampolinesConfig(FtraceStrategy ftraceStrategy, MultiLinkMode multiLinkMode,
                                KfuncMdFreeProtocol freeProtocol, KfuncMdTableKind mdTable) {

    public TrampolinesConfig {
        Objects.requireNonNull(ftraceStrategy, "ftraceStrategy");
        Objects.requireNonNull(multiLinkMode, "multiLinkMode");
        Objects.requireNonNull(freeProtocol, "freeProtocol");
        Objects.requireNonNull(mdTable, "mdTable");
        if (multiLinkMode.isGlobal() && ftraceStrategy != FtraceStrategy.SINGLE_OPS) {
            throw new IllegalArgumentException(multiLinkMode + " needs FtraceStrategy.SINGLE_OPS (a function moves "
                    + "between the global caller and its trampoline by update_ftrace_direct_mod), not " + ftraceStrategy);
        }
    }

    /** Single direct ops, per-function multi links: the upstream kernel. */
    public static TrampolinesConfig defaults() {
        return new TrampolinesConfig(FtraceStrategy.SINGLE_OPS, MultiLinkMode.PER_FUNCTION,
                KfuncMdFreeProtocol.RCU_THEN_KILL, KfuncMdTableKind.RCU_HASH_TABLE);
    }

    /** The global trampoline with {@code mode}'s md lookup, single direct ops, the default free protocol. */
    public static TrampolinesConfig global(MultiLinkMode mode) {
        return defaults().withMultiLinkMode(mode);
    }

    public TrampolinesConfig withFtraceStrategy(FtraceStrategy s) {
        return new TrampolinesConfig(s, multiLinkMode, freeProtocol, mdTable);
    }

    public TrampolinesConfig withMultiLinkMode(MultiLinkMode m) {
        return new TrampolinesConfig(ftraceStrategy, m, freeProtocol, mdTable);
    }

    public TrampolinesConfig withFreeProtocol(KfuncMdFreeProtocol p) {
        return new TrampolinesConfig(ftraceStrategy, multiLinkMode, p, mdTable);
    }

    public TrampolinesConfig withMdTable(KfuncMdTableKind t) {
        return new TrampolinesConfig(ftraceStrategy, multiLinkMode, freeProtocol, t);
    }
}
