package dev.gtramp.kernel.percpu;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.KernelException;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A per-CPU {@code unsigned long}: {@code this_cpu_add} on the running CPU's slot and
 * {@code for_each_possible_cpu} sums over all of them.
 *
 * <p>Each slot has one writer, the thread bound to its CPU, so {@link #add} is a read and a write
 * of that slot, not an atomic operation, like {@code this_cpu_add}. Both are opaque: a plain
 * {@code mov} on x86, but never torn, cached in a register or dropped by the JIT, so a concurrent
 * {@link #sum()} sees each slot's latest value in some order. A sum that must be exact, like the
 * one {@code percpu_ref} takes, gets its ordering from an RCU grace period, not from this class.
 */
public final class PerCpuLong {
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(long[].class);

    private final PerCpuArena arena;
    private final int slot;
    private final long[][] byCpu;
    private final int index;
    private boolean freed;

    PerCpuLong(PerCpuArena arena, int slot, long[][] byCpu, int index) {
        this.arena = arena;
        this.slot = slot;
        this.byCpu = byCpu;
        this.index = index;
    }

    /** {@code this_cpu_add}: must run on {@code cpu} (the caller is bound to it). */
    public void add(int cpu, long delta) {
        long[] a = byCpu[cpu];
        SLOTS.setOpaque(a, index, (long) SLOTS.getOpaque(a, index) + delta);
    }

    /** {@code per_cpu(var, cpu)}. */
    public long get(int cpu) {
        return (long) SLOTS.getOpaque(byCpu[cpu], index);
    }

    /** The sum over every CPU, wrapping like unsigned arithmetic does. */
    public long sum() {
        long s = 0;
        for (long[] a : byCpu) {
            s += (long) SLOTS.getOpaque(a, index);
        }
        return s;
    }

    /** Sets every CPU's slot to 0. */
    public void zero() {
        for (long[] a : byCpu) {
            SLOTS.setOpaque(a, index, 0L);
        }
    }

    /** {@code free_percpu}. */
    public void free() {
        synchronized (arena) {
            if (freed) {
                throw new KernelException(Errno.EINVAL, "free_percpu of slot " + slot + " twice");
            }
            freed = true;
        }
        arena.free(slot);
    }

    @Override
    public String toString() {
        return "percpu slot " + slot;
    }
}
