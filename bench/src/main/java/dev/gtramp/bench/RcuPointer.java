package dev.gtramp.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * An RCU-protected pointer ({@code struct payload __rcu *gp}) and the object it points to.
 * {@link #deref()} is {@code rcu_dereference(gp)->value}: an acquire load of the shared reference
 * followed by a read of a field of the object it points to. Every read-side section in the
 * benchmarks does exactly this, so that the section's markers are measured around a real protected
 * load and not around nothing.
 */
final class RcuPointer {
    private static final VarHandle CURRENT;

    static {
        try {
            CURRENT = MethodHandles.lookup().findVarHandle(RcuPointer.class, "current", Payload.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The protected object. */
    static final class Payload {
        final long value;

        Payload(long value) {
            this.value = value;
        }
    }

    /** Accessed through {@link #CURRENT} only. */
    @SuppressWarnings("unused")
    private Payload current;

    RcuPointer(long value) {
        CURRENT.setRelease(this, new Payload(value));
    }

    /** {@code rcu_dereference(gp)->value}. */
    long deref() {
        return ((Payload) CURRENT.getAcquire(this)).value;
    }
}
