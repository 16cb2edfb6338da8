package dev.gtramp.trampoline;

import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.KernelFunction;

/**
 * Where {@code bpf_global_caller} finds a function's {@link KfuncMd}: a hash table keyed by ip, or
 * the index in the function's padding. Writers hold {@code kfunc_md_mutex}; {@link #find} is the
 * caller's lookup and takes no lock, allocates nothing and never waits for a writer.
 */
interface KfuncMdIndex {
    /**
     * {@code kfunc_md_get_rcu}: the md of the function {@code frame} is calling, or null. The caller
     * is inside the read-side section its {@link KfuncMdFreeProtocol} prescribes.
     */
    KfuncMd find(Frame frame);

    /** The md of {@code f}, for writers. Under {@code kfunc_md_mutex}. */
    KfuncMd lookup(KernelFunction f);

    /**
     * Publishes a new md. Under {@code kfunc_md_mutex}.
     *
     * @throws dev.gtramp.kernel.KernelException ENOMEM if growing the index fails; nothing changed
     */
    void insert(KfuncMd md);

    /** Unpublishes an md: new lookups stop finding it. Under {@code kfunc_md_mutex}. */
    void remove(KfuncMd md);

    /**
     * Why this index cannot hold an md for {@code f}, or null: such a function falls back to its
     * per-function trampoline.
     */
    default String cannotIndex(KernelFunction f) {
        return null;
    }

    /**
     * The md has been freed: its space in the index may be reused. Called by the md's free, on the
     * RCU callback thread (never on a traced call); never blocks.
     */
    default void released(KfuncMd md) {
    }

    /** Mds published. Under {@code kfunc_md_mutex}. */
    int size();

}
