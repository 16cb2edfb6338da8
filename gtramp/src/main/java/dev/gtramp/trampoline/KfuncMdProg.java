package dev.gtramp.trampoline;

import dev.gtramp.kernel.bpf.BpfProg;
import dev.gtramp.kernel.mm.KernelObject;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * {@code struct kfunc_md_tramp_prog}: one program of one kind on one {@link KfuncMd}, with the cookie
 * it was attached with for that function; a node of the md's RCU list for that kind.
 *
 * <p>Linked at the tail ({@code hlist_add_tail_rcu}) and unlinked ({@code hlist_del_rcu}) by writers
 * under {@code kfunc_md_mutex}; walked by {@code bpf_global_caller} without a lock. An unlinked node
 * keeps its {@link #next}, so a caller standing on it goes on to the rest of the list, and is freed
 * only after the grace period of the md's {@link KfuncMdFreeProtocol}.
 *
 * <p>Invariant: a node holds a reference to {@link #prog} from its link to its free, so the program
 * is live whenever a caller can reach the node (the caller runs it next); the program may go only
 * after the node's grace periods, however long those are.
 */
final class KfuncMdProg extends KernelObject {
    private static final VarHandle NEXT;

    static {
        try {
            NEXT = MethodHandles.lookup().findVarHandle(KfuncMdProg.class, "next", KfuncMdProg.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Referenced: {@link KfuncMds#link} takes the reference, the node's free drops it. */
    final BpfProg prog;
    final long cookie;
    /** Accessed through {@link #NEXT} only. */
    @SuppressWarnings("unused")
    private KfuncMdProg next;

    KfuncMdProg(BpfProg prog, long cookie) {
        super("kfunc_md_tramp_prog", 40);
        this.prog = prog;
        this.cookie = cookie;
    }

    /**
     * {@code rcu_dereference} of the next node. Acquire pairs with the writer's release in
     * {@link #setNext}: a caller that reaches a node sees its fields as constructed.
     */
    KfuncMdProg next() {
        return (KfuncMdProg) NEXT.getAcquire(this);
    }

    /** {@code rcu_assign_pointer}: release publishes a node built before it. Writers hold {@code kfunc_md_mutex}. */
    void setNext(KfuncMdProg n) {
        NEXT.setRelease(this, n);
    }

    /** An access by the caller: a KASAN report if the object was freed under it. */
    void access() {
        guard();
    }

    @Override
    public String toString() {
        return prog.name() + (cookie != 0 ? " (cookie " + cookie + ")" : "");
    }
}
