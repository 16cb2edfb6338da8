package dev.gtramp.stress;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** An RCU-protected pointer ({@code struct foo __rcu *gp}). */
public final class RcuPointer {
    private static final VarHandle P;

    static {
        try {
            P = MethodHandles.lookup().findVarHandle(RcuPointer.class, "p", RcuObject.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused")
    private RcuObject p;

    /** {@code rcu_assign_pointer(gp, o)}: a release store, so a reader that finds {@code o} sees it built. */
    public void assign(RcuObject o) {
        P.setRelease(this, o);
    }

    /** {@code RCU_INIT_POINTER(gp, NULL)}: unpublishes; storing NULL needs no ordering. */
    public void clear() {
        P.setOpaque(this, null);
    }

    /** {@code rcu_dereference(gp)}: an acquire load (the kernel gets away with an address dependency). */
    public RcuObject dereference() {
        return (RcuObject) P.getAcquire(this);
    }
}
