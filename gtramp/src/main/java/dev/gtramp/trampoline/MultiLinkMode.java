package dev.gtramp.trampoline;

/**
 * What serves a tracing multi link's functions, chosen once per kernel ({@link TrampolinesConfig}).
 */
public enum MultiLinkMode {
    /**
     * Upstream (Jiri Olsa): the program is linked into the per-function trampoline of every target and
     * the images are published in one batch through the shared {@code direct_ops}.
     */
    PER_FUNCTION,
    /**
     * Menglong Dong's global trampoline: one {@code bpf_global_caller} for every function, which finds
     * the function's {@code kfunc_md} in a hash table keyed by ip.
     */
    GLOBAL_HASH,
    /**
     * The global trampoline with the md's index in the function's 16 padding bytes
     * ({@code mov $index, %eax} before the function): the caller finds the md in O(1) without hashing.
     */
    GLOBAL_PADDING;

    /** Whether {@code bpf_global_caller} serves the multi links. */
    public boolean isGlobal() {
        return this != PER_FUNCTION;
    }
}
