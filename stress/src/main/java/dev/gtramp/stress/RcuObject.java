package dev.gtramp.stress;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * An object published under RCU, such as a {@code kfunc_md}: an id, and a {@code freed} flag that
 * stands for {@code kfree}. Memory safety is the garbage collector's business in Java, so a use
 * after free is not a crash here but a reader that finds {@code freed} set on an object it still
 * holds.
 *
 * <p>{@link #free()} and {@link #isFreed()} are opaque accesses ({@code WRITE_ONCE} and
 * {@code READ_ONCE}): they add no ordering of their own, so whatever keeps a reader from seeing the
 * flag set comes from RCU alone.
 */
public final class RcuObject {
    private static final VarHandle FREED;

    static {
        try {
            FREED = MethodHandles.lookup().findVarHandle(RcuObject.class, "freed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int id;
    @SuppressWarnings("unused")
    private boolean freed;

    public RcuObject(int id) {
        this.id = id;
    }

    public int id() {
        return id;
    }

    /** {@code kfree(p)}. */
    public void free() {
        FREED.setOpaque(this, true);
    }

    /** Whether the object has been freed. */
    public boolean isFreed() {
        return (boolean) FREED.getOpaque(this);
    }

    @Override
    public String toString() {
        return "object " + id + (isFreed() ? " (freed)" : "");
    }
}
