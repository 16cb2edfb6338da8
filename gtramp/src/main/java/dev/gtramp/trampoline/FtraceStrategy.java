package dev.gtramp.trampoline;

/**
 * How per-function trampolines reach ftrace, chosen once per kernel.
 */
public enum FtraceStrategy {
    /**
     * One dynamic {@code ftrace_ops} per trampoline ({@code tr->fops}): {@code register_ftrace_direct},
     * {@code modify_ftrace_direct} and {@code unregister_ftrace_direct} per function, as kernels before
     * 7.2 do. A tracing multi link pays these per function.
     */
    CLASSIC,
    /**
     * Every trampoline's call site managed by one shared, static {@code direct_ops}, changed in batches
     * with {@code update_ftrace_direct_add/del/mod(ops, hash)} (Jiri Olsa's series, Linux 7.2).
     */
    SINGLE_OPS
}
